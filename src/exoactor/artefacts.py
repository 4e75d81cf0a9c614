"""Every file of a run directory (and of a batch folder), named once.

A run directory is one folder per run (:class:`exoactor.pipeline.RunDir`); the stages of
:data:`exoactor.pipeline.STAGES` read and write the files below, by these names only. Paths are
relative to the run folder. Conventions of the package apply to every file: SI units, z-up world,
quaternions wxyz, MuJoCo joint order, explicit fps (:mod:`exoactor`). ``.npz`` files hold the
typed containers of :mod:`exoactor.formats.motion` (no pickles); ``.json`` files are UTF-8 JSON
written atomically (:mod:`exoactor.fileio`); videos are H.264 ``.mp4``.

A test (``tests/test_artefacts.py``) checks that no module of the package spells one of these
names as a string literal outside this module.
"""

from __future__ import annotations

# ----------------------------------------------------------------------------- bookkeeping
MANIFEST = "manifest.json"
"""Stage records of the run: status, backend, config, input hashes, outputs, seconds, error
(layout in :mod:`exoactor.pipeline`)."""

# ----------------------------------------------------------------------------- imagine stages
SCENE_PHOTO = "scene.png"
"""``scene``: the photo of the robot in its scene, as RGB PNG."""
PLAN = "plan.json"
"""``plan``: the task's action chain and five-part video prompt (:class:`exoactor.imagine.plan.base.Plan`)."""
HUMAN_SCENE = "human_scene.png"
"""``transfer``: the scene photo with the robot replaced by a person, RGB PNG."""
CANDIDATES = "candidates"
"""``generate``: folder of the candidate clips."""
CANDIDATE_INDEX = f"{CANDIDATES}/index.json"
"""``generate``: ``{"candidates": [indices that exist], "failed": count}``."""
HOSTED_JOBS = "jobs"
"""``generate`` (hosted generators): folder of job records, so a timed-out job resumes."""
CLIP_CHECKS = "clip_checks.json"
"""``check``: every candidate's clip-check report, the ranking and the selected index."""
VIDEO = "video.mp4"
"""The input clip: ``clip`` cuts it to the window from a given video; ``check`` writes the chosen
candidate resampled to the perception rate [Hz], duration kept."""
VIDEO_META = "video.json"
"""``check``: the chosen candidate's fps [Hz], frame count, duration [s], true source fps and
generator."""


def candidate_video(index: int) -> str:
    """``generate``: candidate ``index`` at the perception rate (H.264 mp4)."""
    return f"{CANDIDATES}/video_{index:02d}.mp4"


def candidate_meta(index: int) -> str:
    """``generate``: candidate ``index``'s request key, native and conformed clip info (JSON)."""
    return f"{CANDIDATES}/video_{index:02d}.json"


def candidate_native(index: int) -> str:
    """``generate``: candidate ``index`` as the generator wrote it (native fps)."""
    return f"{CANDIDATES}/native_{index:02d}.mp4"


def hosted_job(generator: str, index: int) -> str:
    """``generate``: the hosted job record of candidate ``index`` (JSON: job id, status)."""
    return f"{HOSTED_JOBS}/{generator}_{index:02d}.json"


IMAGINE_DIR = "imagine"
"""Batch imagine tasks: sub-run-directory where the imagine stages run (own manifest)."""
IMAGINED_VIDEO = "imagined.mp4"
"""Batch ``imagine`` stage: the checked video of the person doing the task."""

# ----------------------------------------------------------------------------- perceive
HUMAN_MOTION = "human_motion.npz"
"""``perceive``: :class:`~exoactor.formats.motion.HumanMotion` (SMPL-X joints in world [m], fps)."""
PERCEIVE_OVERLAY = "perceive_overlay.mp4"
"""``perceive``: the input clip with the fitted skeleton drawn on it."""
PERCEIVE_METRICS = "perceive_metrics.json"
"""``perceive``: detection rate, scale, jitter and timing of the perception stage."""

# ----------------------------------------------------------------------------- retarget
ROBOT_MOTION = "robot_motion.npz"
"""``retarget`` (or a batch ``motion`` stage): :class:`~exoactor.formats.motion.RobotMotion`
(root position [m], root quaternion wxyz, joint angles [rad], fps)."""
RETARGET_METRICS = "retarget_metrics.json"
"""``retarget``: IK residuals [m], joint-limit and velocity statistics."""

# ----------------------------------------------------------------------------- objects
SCENE = "scene.json"
"""``objects``: the scene's objects (:class:`exoactor.formats.scene.Scene`: boxes in world [m]);
editable by hand (only ``track`` and ``report`` re-run after an edit)."""

SEATED_MOTION = "seated_motion.npz"
"""``objects``: the reference ``track`` follows with the scene's seats (:class:`RobotMotion`,
``robot_motion.npz`` with the pelvis lowered onto each seat by IK, feet held; a copy of it when
the adjusted reference was not kept)."""

SEATED_MOTION_META = "seated_motion.json"
"""``objects``: for which seats ``seated_motion.npz`` was made (a digest) and why it was kept."""

# ----------------------------------------------------------------------------- track
ROLLOUT = "rollout.npz"
"""``track``: :class:`~exoactor.formats.motion.Rollout`, the simulated robot state (qpos, fps)."""
METRICS = "metrics.json"
"""``track``: tracking metrics (joint error [rad], key-body error [mm], drift [m], fall) and
``interaction`` when the scene has objects."""
EXECUTABLE_MOTION = "executable_motion.npz"
"""``track`` with the physics filter: the reference motion the robot can execute
(:class:`~exoactor.formats.motion.RobotMotion`)."""
FILTER_REPORT = "filter_report.json"
"""``track`` with the physics filter: its decisions per segment."""
FILTER_DECISIONS = "filter_decisions.png"
"""``track`` with the physics filter: a plot of its decisions over time."""
ROLLOUT_VIDEO = "rollout.mp4"
"""``track --render`` / ``report``: the rollout rendered."""
NAN_DUMP = "nan_dump.npz"
"""Simulator debug dump written when the physics diverges (state before the NaN)."""

# ----------------------------------------------------------------------------- report
REPORT = "report.html"
"""``report``: the HTML page of the run (also the batch folder's candidates page)."""
VERDICT = "verdict.json"
"""``report``: the physics verdict (``verdict``, ``reasons``) from the tracking metrics."""
ROBOT_MOTION_VIDEO = "robot_motion.mp4"
"""``report``: the reference motion rendered (when there is no rollout)."""
ROBOT_IN_SCENE = "robot_in_scene.mp4"
"""``report``: the robot composited into the input clip's camera view."""
ROBOT_IN_SCENE_THUMB = "robot_in_scene.jpg"
"""``report``: a still of :data:`ROBOT_IN_SCENE` (JPEG)."""
SIDE_BY_SIDE = "side_by_side.mp4"
"""``report``: input clip and robot, time aligned, side by side."""

# ----------------------------------------------------------------------------- deploy
DEPLOY_ROLLOUT = "deploy_rollout.npz"
"""``deploy``: the robot state recorded on the (real or simulated) robot."""
DEPLOY_METRICS = "deploy_metrics.json"
"""``deploy``: tracking metrics of the deployment."""
DEPLOY_LOG = "deploy_log.jsonl"
"""``deploy``: one JSON line per event (phase, fault, timing) of the deployment."""
SIM_ROBOT_SUMMARY = "sim_robot.json"
"""``sim-robot``: summary of the simulated robot's session."""
SIM_ROLLOUT = "sim_rollout.npz"
"""``sim-robot``: the simulated robot's recorded state."""

# ----------------------------------------------------------------------------- batch
BATCH_OUTCOME = "batch_run.json"
"""Written into a run directory when its batch run ends: the job, its key and the outcome."""
BATCH_RUNS = "runs"
"""Batch folder: ``runs/<task>/cNN`` run directories."""
BATCH_LOCK = ".batch.lock"
"""Batch folder: lock file (one batch per folder at a time), holds the process id."""
BATCH_SUITE = "suite.json"
"""Batch folder: the suite as run."""
BATCH_RESULTS = "results.json"
"""Batch folder: every run's outcome and the ranking per task."""
BATCH_REPORT = REPORT
"""Batch folder: candidates side by side per task."""
BATCH_SUMMARY_HTML = "summary.html"
"""Batch folder: the summary tables as a page."""
BATCH_RUNS_CSV = "runs.csv"
"""Batch folder: one row per run."""
BATCH_TASKS_CSV = "summary.csv"
"""Batch folder: one row per task."""
BATCH_FAILURES_CSV = "failures.csv"
"""Batch folder: failures grouped by stage and reason."""


def names() -> tuple[str, ...]:
    """Every fixed file name above (not the per-candidate ones), for checks and listings."""
    return tuple(sorted({v for k, v in globals().items()
                         if k.isupper() and isinstance(v, str)}))
