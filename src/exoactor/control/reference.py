"""Reference streamer: a :class:`RobotMotion` sampled at any time, with a start and an end.

Timeline (``clip_time_s``, the motion's own clock after cleaning):

* ``[-blend_in_s, 0)``: blend from the robot's initial pose into the first frame (only when
  the run starts away from the first frame, see ``TrackConfig.start``). Joint angles and root
  pose move along a smoothstep; the root velocities are those of the blend.
* ``[0, duration_s]``: the motion. Root position and joints interpolate linearly, the root
  orientation by slerp; root velocities are central differences of the frames (world frame,
  ``np.gradient`` for position, the ``q[i+1] q[i-1]^-1`` exp map for orientation), linearly
  interpolated.
* with ``run_out`` on and a clip that ends mid-walk, ``(duration_s, duration_s + run_out_s]``:
  the clip carried on to a reachable stop (:mod:`exoactor.control.run_out`); the run-out's
  last frame is then "the last frame" below. Off, or for a clip that ends at rest,
  ``run_out_s`` is 0.
* ``(duration_s + run_out_s, ... + hold_s]``: the last frame, at rest.
* then ``return_s`` of smoothstep back to the standing pose (default joints, standing root
  height, level root, the last frame's xy and heading), held afterwards.

Glitched leading frames (the shared walks start with 1-2 frames whose root jumps metres)
are removed by :func:`drop_glitched_leading_frames` before streaming.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.control.controller import ReferenceFrame
from exoactor.errors import InvalidMotionFile
from exoactor.formats.motion import RobotMotion
from exoactor.rotations import (
    SegmentSlerp,
    angular_velocity_w,
    continuous,
    rot,
    slerp,
    yaw,
    yaw_quat,
)
from exoactor.signals import smoothstep


class StreamerConfig(BaseModel):
    """How a motion is turned into a stream of reference frames."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lookahead_s: float = Field(0.02, ge=0.0, le=1.0)
    """The controller sees the reference this far ahead of the clock [s] (TWIST2: one 50 Hz step)."""
    blend_in_s: float = Field(1.0, ge=0.0, le=10.0)
    """Duration of the blend from the robot's initial pose into the first frame [s]."""
    hold_s: float = Field(0.5, ge=0.0, le=10.0)
    """Time the last frame is held after the motion ends [s]."""
    return_s: float = Field(1.0, ge=0.0, le=10.0)
    """Duration of the blend from the last frame back to standing [s]."""
    run_out: bool = False
    """Carry a clip that ends mid-walk on past its end to a stop a walker can reach
    (:func:`~exoactor.control.run_out.reachable_stop`) before the hold; a clip that ends at
    rest is streamed unchanged. The physics filter turns it on (``FilterConfig.run_out``)."""
    run_out_decel_m_s2: float = Field(1.0, gt=0.0, le=10.0)
    """Deceleration bound of the run-out [m/s^2]: it lasts at least speed / this (and at least
    one gait period)."""
    run_out_min_speed_m_s: float = Field(0.2, ge=0.0, le=5.0)
    """Root speed over the clip's last gait cycle below which the clip ends at rest (no
    run-out) [m/s]."""
    drop_glitches: bool = True
    """Drop leading frames whose jump to the next frame exceeds the thresholds below."""
    glitch_pos_m: float = Field(0.1, gt=0.0)
    """Root position jump between consecutive frames that marks a glitch [m]."""
    glitch_rot_deg: float = Field(5.0, gt=0.0)
    """Root orientation jump between consecutive frames that marks a glitch [deg]."""
    glitch_joint_rad: float = Field(0.2, gt=0.0)
    """Largest joint jump between consecutive frames that marks a glitch [rad]."""
    joint_noise_rad: float = Field(0.0, ge=0.0, le=1.0)
    """Std of Gaussian noise added to every reference joint angle, per frame (robustness
    tests only; metrics are taken against the clean reference) [rad]."""
    noise_seed: int = 0
    """Seed of that noise."""


@dataclass(frozen=True)
class GlitchReport:
    """Leading frames removed from a motion.

    Attributes:
        dropped_frames: how many leading frames were dropped.
        reasons: one line per dropped frame (which jump exceeded which threshold).
    """

    dropped_frames: int
    reasons: tuple[str, ...]


def frame_jumps(motion: RobotMotion) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Jumps between consecutive frames.

    Returns:
        ``(T-1,)`` root position jump [m], ``(T-1,)`` root rotation angle [rad] and
        ``(T-1,)`` largest absolute joint jump [rad].
    """
    dpos = np.linalg.norm(np.diff(motion.root_pos, axis=0), axis=1)
    r = rot(motion.root_quat)
    drot = (r[1:] * r[:-1].inv()).magnitude() if motion.num_frames > 1 else np.zeros(0)
    djoint = np.abs(np.diff(motion.dof_pos, axis=0)).max(axis=1)
    return dpos, np.atleast_1d(drot), djoint


def drop_glitched_leading_frames(motion: RobotMotion, pos_m: float = 0.1, rot_deg: float = 5.0,
                                 joint_rad: float = 0.2) -> tuple[RobotMotion, GlitchReport]:
    """Drop leading frames while the jump to the next frame exceeds any threshold.

    Returns:
        The motion without those frames, and what was dropped and why.
    """
    dpos, drot, djoint = frame_jumps(motion)
    reasons = []
    i = 0
    while i < motion.num_frames - 2:
        why = []
        if dpos[i] > pos_m:
            why.append(f"root moves {dpos[i]:.3f} m > {pos_m} m")
        if np.degrees(drot[i]) > rot_deg:
            why.append(f"root turns {np.degrees(drot[i]):.1f} deg > {rot_deg} deg")
        if djoint[i] > joint_rad:
            why.append(f"joint {int(np.argmax(np.abs(motion.dof_pos[i + 1] - motion.dof_pos[i])))}"
                       f" jumps {djoint[i]:.3f} rad > {joint_rad} rad")
        if not why:
            break
        reasons.append(f"frame {i}: " + ", ".join(why))
        i += 1
    return (motion.slice(i) if i else motion), GlitchReport(i, tuple(reasons))


@dataclass(frozen=True)
class Pose:
    """A whole-body pose: root pose in world and body joint angles.

    Attributes:
        root_pos_w: ``(3,)`` [m].
        root_quat_w: ``(4,)`` wxyz.
        joint_pos: ``(n,)`` [rad].
        hand_pos: optional ``(14,)`` [rad].
    """

    root_pos_w: np.ndarray
    root_quat_w: np.ndarray
    joint_pos: np.ndarray
    hand_pos: np.ndarray | None = None


class _Frames:
    """A motion's reference frames: root pose, world velocities (finite differences at
    ``fps``), joints; sampled at a time by linear interpolation (root orientation by slerp)."""

    def __init__(self, motion: RobotMotion):
        self.fps = motion.fps
        self.pos = motion.root_pos
        self.quat = continuous(motion.root_quat)
        self.slerp = SegmentSlerp(self.quat)
        self.dof = motion.dof_pos
        self.hand = motion.hand_dof
        self.lin_vel_w = np.gradient(self.pos, 1.0 / self.fps, axis=0)
        self.ang_vel_w = angular_velocity_w(self.quat, self.fps)

    def at_index(self, i: int) -> ReferenceFrame:
        """Frame ``i`` exactly (copies)."""
        return ReferenceFrame(self.pos[i].copy(), self.quat[i].copy(), self.lin_vel_w[i].copy(),
                              self.ang_vel_w[i].copy(), self.dof[i].copy(),
                              None if self.hand is None else self.hand[i].copy())

    def at(self, t_s: float) -> ReferenceFrame:
        """The frame at ``t_s`` after the first (clamped to the motion's frames)."""
        x = t_s * self.fps
        i0 = int(np.clip(np.floor(x), 0, len(self.pos) - 2))
        a = float(np.clip(x - i0, 0.0, 1.0))
        i1 = i0 + 1

        def lerp(arr: np.ndarray) -> np.ndarray:
            return (1.0 - a) * arr[i0] + a * arr[i1]

        quat = self.slerp(i0, a)
        return ReferenceFrame(lerp(self.pos), quat, lerp(self.lin_vel_w), lerp(self.ang_vel_w),
                              lerp(self.dof), None if self.hand is None else lerp(self.hand))


class ReferenceStreamer:
    """Samples a (cleaned) motion at any clip time, with start blend, end hold and return.

    Args:
        motion: the motion (already cleaned of glitched frames).
        stand: the standing pose the end blends back to (its root xy and heading are ignored:
            the last frame's are kept).
        start: the pose the start blend leaves from, or ``None`` when the run starts at the
            first frame (no blend-in).
        config: timings.
    """

    def __init__(self, motion: RobotMotion, stand: Pose, start: Pose | None = None,
                 config: StreamerConfig | None = None):
        self.config = config or StreamerConfig()
        if motion.num_frames < 2:
            raise InvalidMotionFile(motion.source, "root_pos",
                                    f"has {motion.num_frames} frame(s) after cleaning; tracking "
                                    "needs at least 2")
        self.motion = motion
        self.fps = motion.fps
        self.duration_s = motion.duration_s
        self._frames = _Frames(motion)
        self.start = start
        self.blend_in_s = self.config.blend_in_s if start is not None else 0.0
        last = self.frame_at_index(motion.num_frames - 1)
        self.run_out = None
        """The :class:`~exoactor.control.run_out.RunOut` streamed after the clip, or None."""
        self.run_out_s = 0.0
        """Clip time the run-out adds [s] (0 without one)."""
        if self.config.run_out:
            from exoactor.control.run_out import reachable_stop

            self.run_out = reachable_stop(motion, self.config.run_out_decel_m_s2,
                                          self.config.run_out_min_speed_m_s)
        if self.run_out is not None:
            self._ro_frames = _Frames(self.run_out.motion)
            self.run_out_s = self.run_out.duration_s
            last = _at_rest(self._ro_frames.at_index(len(self._ro_frames.pos) - 1))
        end_yaw = float(yaw(last.root_quat_w))
        stand_pos = np.array([last.root_pos_w[0], last.root_pos_w[1], stand.root_pos_w[2]])
        self._last = last
        self._stand = Pose(stand_pos, yaw_quat(end_yaw), stand.joint_pos,
                           stand.hand_pos if stand.hand_pos is not None else last.hand_pos)

    @property
    def end_s(self) -> float:
        """Clip time after which the stream is constant (standing) [s]."""
        return self.duration_s + self.run_out_s + self.config.hold_s + self.config.return_s

    def frame_at_index(self, i: int) -> ReferenceFrame:
        """The reference at motion frame ``i`` exactly."""
        return self._frames.at_index(i)

    def sample(self, clip_time_s: float) -> ReferenceFrame:
        """The reference at ``clip_time_s`` (negative during the blend-in)."""
        t = float(clip_time_s)
        if t < 0.0:
            if self.start is None or self.blend_in_s <= 0.0:
                return _at_rest(self.frame_at_index(0))
            first = self.frame_at_index(0)
            return _blend(self.start, first, 1.0 + t / self.blend_in_s, self.blend_in_s)
        if t <= self.duration_s:
            return self._frames.at(t)
        if self.run_out is not None and t <= self.duration_s + self.run_out_s:
            return self._ro_frames.at(t - self.duration_s)
        t_end = t - self.duration_s - self.run_out_s - self.config.hold_s
        if t_end <= 0.0 or self.config.return_s <= 0.0:
            return _at_rest(self._last)
        return _blend(_pose(self._last), _frame(self._stand), t_end / self.config.return_s,
                      self.config.return_s)


def _pose(frame: ReferenceFrame) -> Pose:
    return Pose(frame.root_pos_w, frame.root_quat_w, frame.joint_pos, frame.hand_pos)


def _frame(pose: Pose) -> ReferenceFrame:
    return _at_rest(ReferenceFrame(pose.root_pos_w, pose.root_quat_w, np.zeros(3), np.zeros(3),
                                   pose.joint_pos, pose.hand_pos))


def _at_rest(frame: ReferenceFrame) -> ReferenceFrame:
    return ReferenceFrame(frame.root_pos_w, frame.root_quat_w, np.zeros(3), np.zeros(3),
                          frame.joint_pos, frame.hand_pos)


def _blend(a: Pose | ReferenceFrame, b: Pose | ReferenceFrame, x: float,
           duration_s: float) -> ReferenceFrame:
    """Smoothstep blend from pose ``a`` to ``b`` at progress ``x`` in [0, 1], with the blend's
    own root velocities."""
    x = float(np.clip(x, 0.0, 1.0))
    w = float(smoothstep(x))
    dw_dt = 6.0 * x * (1.0 - x) / duration_s
    pos = (1 - w) * a.root_pos_w + w * b.root_pos_w
    quat = slerp(np.array([0.0, 1.0]), np.stack([a.root_quat_w, b.root_quat_w]),
                 np.array([w]))[0]
    rel = rot(b.root_quat_w) * rot(a.root_quat_w).inv()
    ang_vel_w = rel.as_rotvec() * dw_dt
    lin_vel_w = (b.root_pos_w - a.root_pos_w) * dw_dt
    joints = (1 - w) * a.joint_pos + w * b.joint_pos
    hand = None
    if a.hand_pos is not None and b.hand_pos is not None:
        hand = (1 - w) * a.hand_pos + w * b.hand_pos
    elif b.hand_pos is not None:
        hand = b.hand_pos
    return ReferenceFrame(pos, quat, lin_vel_w, ang_vel_w, joints, hand)
