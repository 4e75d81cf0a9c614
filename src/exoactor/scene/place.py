"""Place each inferred seat where the tracker really sits: a search with short physics rollouts.

The seat rule (:func:`exoactor.scene.infer.seat_from_phase`) places a seat from the *reference*
(the retargeted person). The tracker does not sit where the reference sits (sitting-notes: it
keeps its weight over its feet, the pelvis 13-24 cm nearer the feet), and a seat 5 cm off
carries nothing; a seat in the wrong place can also trip a robot that stands without one. So
each seat is moved to the placement with the best *measured* outcome:

- candidates: the rule's box shifted along the seated heading (``shifts_m``) and in height
  (``heights_m``), around two anchors: the rule's position, and the position the same rule
  gives for the robot's own pelvis, i.e. where the tracker's pelvis is lowest during the seated
  phase of a rollout *without* the seat (where it actually descends);
- no candidate may hold the robot's start pose (the first frame of the reference, where the
  robot starts): a top is lowered to the highest the start pose allows over its footprint, and
  that highest top is a candidate of its own (a robot that starts half seated needs its seat
  right under it);
- only candidates whose footprint holds the reference's seated pelvis are tried
  (``under_reference``; :func:`reference_pelvis_xy`): a seat behind the seated person is not
  the one it sat on, whatever the rollouts say (when every placement falls, the latest fall
  wins, and a seat out of the robot's way delays a fall without seating it);
- each remaining candidate is one rollout of the real tracker with the scene (the other objects
  kept), scored by the explicit objective :func:`placement_score` — no fall first (a later fall
  is better than an earlier one), then the share of the seated phase with the seat carrying at
  least :data:`~exoactor.scene.score.SEATED_LOAD` of the weight, then the mean load, then the
  distance from the rule's position;
- before the seats, each inferred table is checked the same way (a rollout with and without
  it): a table that makes the robot fall where it does not without it is rejected;
- the no-seat rollout is the baseline: when every placement makes the robot fall where it does
  not fall without the seat (or fall earlier), the seat goes to ``rejected`` with the figures
  in its note (a seat must never make the robot fall where it stands without one).

The rollouts use the tracker as the run's ``track`` stage configures it, with the drift
correction off (as the physics filter runs it), judged on the clip (:func:`on_the_clip`: the
reference's hold and return to standing after the motion are not simulated; rollouts run
``workers`` at a time); the filter's own changes are not simulated here, so the runner keeps
a second guard after tracking (:func:`exoactor.runner`'s track stage re-runs without objects
when the run with them fell).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from exoactor.formats.motion import RobotMotion
from exoactor.formats.scene import ObjectPose, Scene, SceneObject
from exoactor.scene.config import PlaceConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trial:
    """One rollout of a placement: what :func:`placement_score` reads."""

    fell: bool
    fall_time_s: float | None
    seated_fraction: float
    mean_load_fraction: float
    shift_from_rule_m: float
    label: str
    seated_share: float | None = None
    """Share of the *whole* seated phase seated (steps after a fall count as not seated;
    ``seated_fraction`` is over the steps before it); None: not measured (``seated_fraction``
    stands for it)."""
    objective: float | None = None
    """A physics-filter run's whole-run objective (the filter's own, of the run it kept:
    ``filter_report.json`` → ``objective[kept]``; inf when it is not finite); None: a tracker
    rollout (not measured)."""
    key_body_error_mm: float | None = None
    """A physics-filter run's key-body error [mm] (``metrics.json``'s, for the notes); None:
    not measured."""

    def summary(self) -> str:
        fall = f"fell at {self.fall_time_s:.2f} s" if self.fell else "no fall"
        out = (f"{self.label}: {fall}, seated {100 * self.seated_fraction:.0f} %, "
               f"load {100 * self.mean_load_fraction:.0f} %")
        if self.objective is not None:
            out += f", objective {self.objective:.2f}"
        if self.key_body_error_mm is not None:
            out += f", key-body {self.key_body_error_mm:.0f} mm"
        return out


def seat_succeeded(t: Trial) -> bool:
    """The seat interaction's own success rule (:func:`~exoactor.scene.score.interaction_metrics`):
    no fall, and seated at least :data:`~exoactor.scene.score.SEATED_MIN_FRACTION` of the
    phase."""
    from exoactor.scene.score import SEATED_MIN_FRACTION

    return not t.fell and t.seated_fraction >= SEATED_MIN_FRACTION


def placement_score(t: Trial) -> tuple:
    """Lexicographic objective of a placement (smaller is better)."""
    return (t.fell, -(t.fall_time_s or 0.0) if t.fell else 0.0, -round(t.seated_fraction, 2),
            -round(min(t.mean_load_fraction, 1.0), 2), t.shift_from_rule_m)


def finalist_score(t: Trial) -> tuple:
    """Which tracker rollouts go on to the physics filter (smaller first): the share of the
    whole seated phase the tracker spent seated, then the mean load, then
    :func:`placement_score`. The filter is there to keep the robot up where the tracker alone
    falls; what it cannot do is make a robot sit that the tracker did not seat, so a pair that
    sat most of the phase and fell near its end is a better finalist than one that stood up
    and did not fall."""
    share = t.seated_fraction if t.seated_share is None else t.seated_share
    return (-round(share, 2), -round(min(t.mean_load_fraction, 1.0), 2), placement_score(t))


def filtered_choice(trials: list[Trial], baseline: int) -> int:
    """Which of the physics-filter runs ``trials`` (one per (placement, pose) pair) the track
    stage follows; ``baseline``: the index of the retargeted reference on the first placement.
    One objective, lexicographic (smaller first):

    1. the seat succeeds (:func:`seat_succeeded`): the object interaction's verdict;
    2. among the runs whose seat succeeds, the filter's whole-run objective
       (:attr:`Trial.objective`, None counting as infinite): what the filter itself minimises
       and chooses its own runs by (key bodies and heading in world, joint error, the motion
       left undone or not executed, the clip-end pose, the seat's load), so the pair used is
       the one the controller executes best, not the first that sits;
    3. ties: the baseline, then the earlier run.

    When no run's seat succeeds, :func:`placement_score` decides, and a pair is used over the
    baseline only when strictly better. Either way the baseline gives way only to a run that
    is better on this objective: one that seats the robot where the baseline does not, or that
    seats it with a smaller objective."""
    def obj(i: int) -> float:
        o = trials[i].objective
        return float("inf") if o is None else float(o)

    ok = [i for i, t in enumerate(trials) if seat_succeeded(t)]
    if ok:
        return min(ok, key=lambda i: (obj(i), i != baseline, i))
    best = min(range(len(trials)), key=lambda i: (placement_score(trials[i]), i))
    return best if placement_score(trials[best]) < placement_score(trials[baseline]) \
        else baseline


def worse_than_without(best: Trial, base: Trial) -> bool:
    """The seat makes things worse: it falls where the robot without it does not, or earlier."""
    if not best.fell:
        return False
    return (not base.fell) or (best.fall_time_s or 0.0) < (base.fall_time_s or 0.0) - 1e-6


def place_seats(motion: RobotMotion, scene: Scene, config: PlaceConfig | None = None,
                track=None) -> Scene:
    """Move each seat of ``scene`` to its best measured placement (or reject it; see module).

    Args:
        motion: the robot motion the scene was inferred from.
        scene: the inferred scene.
        config: the search.
        track: the :class:`~exoactor.control.track.TrackConfig` of the run (its ``scene`` and
            drift correction are replaced).
    """
    return place_seats_ranked(motion, scene, config, track)[0]


def place_seats_ranked(motion: RobotMotion, scene: Scene, config: PlaceConfig | None = None,
                       track=None, keep: int = 1) -> list[Scene]:
    """As :func:`place_seats`, returning the placed scene first, then up to ``keep - 1``
    alternatives: the same scene with one seat at its 2nd, 3rd ... best placement (for the
    seat-pose search of :func:`exoactor.scene.contact_ref.choose_seated`, which tries its
    poses on each)."""
    from exoactor.control.drift import DriftConfig
    from exoactor.control.track import TrackConfig
    from exoactor.scene.infer import motion_features

    cfg = config or PlaceConfig()
    seats = [i for i, o in enumerate(scene.objects) if o.kind == "seat"]
    if not cfg.enabled or not seats:
        return [scene]
    track = (track or TrackConfig()).model_copy(update={"drift": DriftConfig(enabled=False)})
    start = motion_features(_first_frame(motion))
    scene = _drop_harmful_surfaces(motion, scene, track)
    seats = [i for i, o in enumerate(scene.objects) if o.kind == "seat"]
    objects = list(scene.objects)
    rejected = list(scene.rejected)
    ranked: dict[int, list] = {}
    for i in seats:
        seat = objects[i]
        others = [o for j, o in enumerate(objects) if j != i and o is not None]
        phase_s = (min(a for a, _ in seat.evidence) / motion.fps,
                   max(b for _, b in seat.evidence) / motion.fps)
        upto = max(b for _, b in seat.evidence) + round(cfg.tail_s * motion.fps) + 1
        part = motion.slice(0, min(upto, len(motion.root_pos)))
        base = _trial(part, Scene(source=scene.source, fps=scene.fps, objects=tuple(others)),
                      None, track, "without the seat", 0.0, phase_s)
        cands = _candidates(seat, cfg, start, base.robot_low_xy)
        if cfg.under_reference:
            cands = _under_reference(cands, reference_pelvis_xy(motion, seat))
        outs = run_trials([(part, Scene(source=scene.source, fps=scene.fps,
                                        objects=tuple(others + [obj])), obj, track, label, shift)
                           for label, obj, shift in cands], cfg.workers)
        trials = []
        for (_, obj, _), out in zip(cands, outs):
            logger.info("seat %d placement %s", i, out.trial.summary())
            trials.append((placement_score(out.trial), out.trial, obj))
        if not trials:
            logger.info("seat %d: every placement holds the start pose; kept as inferred", i)
            continue
        trials.sort(key=lambda x: x[0])
        _, best, obj = trials[0]
        ranked[i] = [(t, o) for _, t, o in trials[1:keep]]
        tried = f"{len(trials)} placements tried; best {best.summary()}; {base.trial.summary()}"
        if worse_than_without(best, base.trial):
            logger.info("seat %d rejected: %s", i, tried)
            rejected.append(seat.model_copy(update={
                "note": seat.note + f"; rejected: every placement made the robot fall where it "
                        f"does not without it ({tried})"}))
            objects[i] = None
            continue
        objects[i] = obj.model_copy(update={"note": seat.note + f"; placed by rollouts: {tried}"})
    placed = scene.model_copy(update={"objects": tuple(o for o in objects if o is not None),
                                      "rejected": tuple(rejected)})
    out = [placed]
    for i, alts in ranked.items():
        if objects[i] is None:
            continue
        for trial, obj in alts:
            objs = list(objects)
            objs[i] = obj.model_copy(update={
                "note": scene.objects[i].note + f"; placed by rollouts (runner-up: "
                        f"{trial.summary()})"})
            out.append(placed.model_copy(update={"objects": tuple(o for o in objs
                                                                  if o is not None)}))
    return out


def _drop_harmful_surfaces(motion: RobotMotion, scene: Scene, track) -> Scene:
    """Reject each table whose rollout (without the seats, which are placed next) falls where
    the rollout without it does not, or earlier: a surface the robot is not meant to lean on
    but trips over (e.g. a held guitar taken for a table, which clamps a seated robot)."""
    tables = [o for o in scene.objects if o.kind == "table"]
    if not tables:
        return scene
    rest = [o for o in scene.objects if o.kind not in ("table", "seat")]
    keep, rejected = [], list(scene.rejected)
    base = None
    for t in tables:
        if base is None:
            base = _trial(motion, Scene(source=scene.source, fps=scene.fps,
                                        objects=tuple(rest + keep)), None, track,
                          "without it", 0.0).trial
        with_t = _trial(motion, Scene(source=scene.source, fps=scene.fps,
                                      objects=tuple(rest + keep + [t])), None, track,
                        "with it", 0.0).trial
        if worse_than_without(with_t, base):
            logger.info("table at %.2f m rejected: %s; %s", t.top_z, with_t.summary(),
                        base.summary())
            rejected.append(t.model_copy(update={
                "note": t.note + f"; rejected: the robot falls with it and not (or later) "
                        f"without it ({with_t.summary()}; {base.summary()})"}))
            continue
        keep.append(t)
        base = with_t
    objects = [o for o in scene.objects if o.kind != "table" or o in keep]
    return scene.model_copy(update={"objects": tuple(objects), "rejected": tuple(rejected)})


@dataclass(frozen=True)
class _Outcome:
    trial: Trial
    robot_low_xy: np.ndarray | None


def _trial(motion: RobotMotion, scene: Scene, seat: SceneObject | None, track, label: str,
           shift: float, phase_s: tuple[float, float] | None = None) -> _Outcome:
    """One rollout of the tracker in ``scene``; ``seat``: the seat scored (None: the baseline,
    which reports where the robot's pelvis is lowest during ``phase_s`` instead)."""
    from exoactor.control.track import track_motion
    from exoactor.scene.score import interaction_metrics

    res = track_motion(motion, on_the_clip(track).model_copy(
        update={"scene": scene if scene.objects else None}))
    m = res.metrics
    fall_t = m.fall_time_s if m.fell else None
    frac = load = share = 0.0
    if seat is not None:
        inter = interaction_metrics(res.rollout, scene, fps=motion.fps,
                                    dropped_frames=int(m.dropped_frames or 0),
                                    fall_time_s=fall_t)
        rec = inter["objects"][list(scene.objects).index(seat)]
        frac, load = rec["seated_fraction"], rec["mean_load_fraction"]
        whole_s = sum((b - a + 1) / motion.fps for a, b in seat.evidence)
        valid_s = rec["phase_steps"] / res.rollout.fps
        share = frac * min(1.0, valid_s / whole_s) if whole_s > 0 else 0.0
    return _Outcome(Trial(bool(m.fell), fall_t, float(frac), float(load), abs(shift), label,
                          float(share)),
                    _lowest_pelvis_xy(res.rollout, fall_t, phase_s))


def on_the_clip(track):
    """``track`` as the rollouts of the searches run it: judged on the clip. The reference's
    hold of the last frame and its return to standing after the motion's end are not simulated
    (``hold_s = return_s = 0``): a clip (or a search's slice of one) that ends seated would
    otherwise be asked to stand up at the seated pelvis's xy, with its legs inside the seat, and
    a fall there says nothing about the seat (the track stage still runs them, and its guard
    judges the whole run). The rollout stops at a fall (``post_fall_s = 0``: nothing after a
    fall is scored)."""
    ref = track.reference.model_copy(update={"hold_s": 0.0, "return_s": 0.0})
    return track.model_copy(update={"reference": ref, "post_fall_s": 0.0})


def run_trials(jobs: list[tuple], workers: int) -> list[_Outcome]:
    """:func:`_trial` of each argument tuple of ``jobs``, ``workers`` at a time (threads:
    MuJoCo and onnxruntime release the GIL); the results are in ``jobs``' order and do not
    depend on ``workers`` (each rollout is deterministic and has its own model and policy)."""
    if workers <= 1 or len(jobs) <= 1:
        return [_trial(*j) for j in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(lambda j: _trial(*j), jobs))


def _filter_trial(motion: RobotMotion, scene: Scene, seat: SceneObject, track, filter_config,
                  label: str) -> Trial:
    """One run of the physics filter (the track stage's controller when it is on) in
    ``scene``, scored like :func:`_trial`."""
    from exoactor.control.filter import filter_motion
    from exoactor.scene.score import interaction_metrics

    res = filter_motion(motion, filter_config, track.model_copy(update={"scene": scene}),
                        show_progress=False)
    m = res.metrics
    fall_t = m.fall_time_s if m.fell else None
    inter = interaction_metrics(res.rollout, scene, fps=motion.fps,
                                dropped_frames=int(m.dropped_frames or 0), fall_time_s=fall_t)
    rec = inter["objects"][list(scene.objects).index(seat)]
    objective = res.report.get("objective", {}).get(res.report.get("kept"))
    return Trial(bool(m.fell), fall_t, float(rec["seated_fraction"]),
                 float(rec["mean_load_fraction"]), 0.0, label,
                 objective=float("inf") if objective is None else float(objective),
                 key_body_error_mm=float(m.key_body_error_mm))


def _lowest_pelvis_xy(rollout, fall_t: float | None, phase_s: tuple[float, float] | None
                      ) -> np.ndarray | None:
    """xy of the robot's pelvis where it is lowest during ``phase_s`` (clip time [s]), before
    any fall (0.3 s margin): where the tracker's pelvis descends without a seat."""
    t = rollout.ref_time_s if rollout.ref_time_s is not None else rollout.time_s
    ok = np.ones(len(t), bool) if fall_t is None else t < fall_t - 0.3
    if phase_s is not None:
        ok &= (t >= phase_s[0]) & (t <= phase_s[1])
    if not ok.any():
        return None
    q = rollout.qpos[ok]
    return q[int(np.argmin(q[:, 2])), :2].copy()


def _candidates(seat: SceneObject, cfg: PlaceConfig, start, robot_low_xy) -> list:
    """(label, seat, |shift from the rule|) for each placement clear of the start pose."""

    fwd = np.array([np.cos(seat.pose.yaw_rad), np.sin(seat.pose.yaw_rad)])
    rule_xy = np.asarray(seat.pose.pos[:2])
    anchors = [("rule", 0.0)]
    if cfg.robot_anchor and robot_low_xy is not None:
        # the rule's box for the robot's pelvis: the same offset from the lowest pelvis point
        # along the heading, which is what moving the box by the pelvis difference gives
        # the rule centres the box under the reference's lowest pelvis point (front edge
        # ``seat_front_ahead_m`` ahead); the same box under the robot's lowest pelvis point
        along = float((np.asarray(robot_low_xy) - rule_xy) @ fwd)
        if abs(along) <= cfg.robot_anchor_max_m:
            anchors.append(("robot", along))
    out, seen = [], set()
    for name, base in anchors:
        for dx in cfg.shifts_m:
            shift = round(base + dx, 3)
            xy = rule_xy + shift * fwd
            # the highest top the start pose allows over this footprint, then the grid below it
            highest = _highest_clear_top(start, xy, seat, cfg.start_clearance_m)
            tops = sorted({round(min(seat.top_z + dz, highest), 3) for dz in cfg.heights_m}
                          | ({round(highest, 3)} if highest <= seat.top_z + cfg.max_raise_m
                             else set()))
            for top in tops:
                key = (shift, top)
                if key in seen or top < 0.1:
                    continue
                seen.add(key)
                obj = seat.model_copy(update={
                    "pose": ObjectPose(pos=(float(xy[0]), float(xy[1]), top / 2),
                                       yaw_rad=seat.pose.yaw_rad),
                    "size": (seat.size[0], seat.size[1], float(top))})
                out.append((f"{name} {shift:+.2f} m, top {top:.2f} m", obj, shift))
    return out


def reference_pelvis_xy(motion: RobotMotion, seat: SceneObject) -> np.ndarray:
    """Where the reference sits: the xy of the lowest point of its pelvis geom, median over
    ``seat``'s evidence frames (the point :func:`exoactor.scene.infer.seat_from_phase` anchors
    the seat to) [m]."""
    from exoactor.scene.infer import motion_features

    frames = np.concatenate([np.arange(a, min(b, motion.num_frames - 1) + 1)
                             for a, b in seat.evidence])
    lo, hi = int(frames.min()), int(frames.max())
    f = motion_features(motion.slice(lo, hi + 1))
    return np.median(f.pelvis_low_xy[frames - lo], axis=0)


def _under_reference(cands: list, pelvis_xy: np.ndarray) -> list:
    """The candidates (:func:`_candidates`) whose seat holds the reference's seated pelvis
    ``pelvis_xy`` (:func:`reference_pelvis_xy`); all of them when none does."""
    kept = [c for c in cands if c[1].holds_xy(pelvis_xy)]
    if kept and len(kept) < len(cands):
        logger.info("%d of %d placements hold the reference's seated pelvis; the others are not "
                    "tried", len(kept), len(cands))
    return kept or cands


def _highest_clear_top(start, xy: np.ndarray, seat: SceneObject, clearance_m: float) -> float:
    """Highest seat top at ``xy`` that the start pose is at most ``clearance_m`` inside [m]."""
    from exoactor.scene.infer import box_depth

    pts = np.concatenate([start.seat_points.reshape(-1, 3), start.other_points.reshape(-1, 3)])
    tall = np.array([seat.size[0], seat.size[1], 1e3])
    inside = box_depth(pts, np.array([xy[0], xy[1], 0.0]), seat.pose.yaw_rad, tall) > clearance_m
    return float(pts[inside, 2].min() + clearance_m) if inside.any() else 5.0


def _first_frame(motion: RobotMotion) -> RobotMotion:
    """The motion's first frame alone (the robot's start pose)."""
    import dataclasses

    return dataclasses.replace(motion, root_pos=motion.root_pos[:1],
                               root_quat=motion.root_quat[:1], dof_pos=motion.dof_pos[:1],
                               hand_dof=None if motion.hand_dof is None else motion.hand_dof[:1])
