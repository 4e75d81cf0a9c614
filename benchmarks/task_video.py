"""Benchmark of the whole product on generated task videos: every clip through the real ``run``.

Each clip in a folder (default ``../shared/footage``) goes through
:func:`exoactor.runner.run_video` with the default :class:`~exoactor.runner.RunConfig` (clip →
perceive → retarget → track; the report stage only with ``--report``: the verdict needs the
tracking metrics alone, so without it only ``verdict.json`` is written). One run directory per
clip under ``--out``; a second invocation reuses every finished stage (the run directory's
manifest), so an interrupted benchmark resumes. The stage cache is keyed by inputs and config,
not by the code: benchmark a different checkout into a different ``--out`` (the default folder
is named after the git commit, ``-dirty`` when the tree has changes) or pass ``--force``.

Per clip (definitions; ``human_motion.npz`` is the perceived motion, z up, ground at z = 0):

* stages: status and seconds of compute per second of video (from the run's manifest;
  ``perceive`` includes its overlay video).
* tilt: torso tilt from vertical [deg], the median over valid frames of the angle between
  the hip-centre → shoulder-centre vector and +z. Judged (≤ 3°) for clips labelled upright.
* path: root wander [m], the horizontal path length of the root (hip centre), averaged over
  0.2 s windows and sampled at 10 Hz, so that frame rate and frame-to-frame jitter do not
  inflate it. Judged (≤ 0.15 m) for clips of people standing in place.
* stature [m]: standing height, the 90th percentile of the nose's height above the lowest
  foot landmark, + 0.11 m (nose to crown, adult mean), over the valid frames where the person
  stands straight (:func:`standing_frames`: knees and trunk-to-leg bent less than
  perception's ``upright_max_bend_deg``, 35 deg, the body within it of vertical); "?" when
  no frame is. (Over all frames, as before, a person who stands for less than a tenth of the
  clip got a seated height: the bench clip 1.43 m for a standing 1.70 m.) Judged
  (1.60-1.95 m) for clips where the person stands at some point. ``bones``: the
  posture-free estimate, (thigh + shank + hip to shoulder) / 0.779 (Drillis & Contini),
  medians over frames, mean of left and right.
* fall, fall time, drift (``root_xy_error_end_m``: robot pelvis vs its reference at the clip
  end, the reference being where the retargeted person is), key-body error, fraction not
  executed (``fraction_not_executed`` of the physics filter, "?" while tracking does not
  report it) and the physics verdict.
* executable: no failed stage, no fall, verdict not "not executable", fraction not executed
  ≤ 0.10 (unknown counts as met and is flagged), key-body error ≤ 100 mm, drift ≤ 0.5 m.

The labels (upright / in place / stands) say what the person in each of the 8 shared clips does
(``../shared/footage/SOURCE.md``); other clips get none unless ``--labels FILE.json`` maps a
file stem to ``{"upright": bool, "in_place": bool, "stands": bool}``. Writes
``OUT/task_video.json`` and ``OUT/task_video.md`` (the table) and prints the table.

``--mirror`` also runs each clip mirrored left-right (:func:`mirror_clip`, written under
``OUT/mirrored/``, never beside the footage): a clip of the same kind that no setting was
chosen on, with the same labels (a person who stands upright in place still does). Its row is
named ``<stem>_mirrored`` and the summary counts the originals and the mirrored clips apart,
and names every clip whose executable verdict differs from its mirror's. Measured on
2026-12-07: the 8 shared clips 7 of 8 executable, mirrored 6 of 8. The mirrored sofa clip
got no seat: its perceived pelvis is 0.098 m below standing (the rule asks 0.10) with the
centre of mass 0.6 cm outside the feet (2 cm), against 0.15 m and 7.7 cm for the original.

    EXOACTOR_ASSETS=../shared/assets .venv/bin/python benchmarks/task_video.py \
        [--footage ../shared/footage] [--clips 'gen_*.mp4'] [--out DIR] [--workers 1] \
        [--report] [--force [STAGE ...]] [--set '{"perceive": {"contact_from_planted": true}}']
        [--set '{"filter": {"seed": 1}}']  # the physics filter's seed
        [--mirror]  # each clip also mirrored left-right
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import logging
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("perceive", "retarget", "track")
LABELS: dict[str, dict[str, bool]] = {
    # man stands, raises both arms, grabs at his side (takes one small step)
    "gen_genmimic_raise_arms_and_grab_from_side": {"upright": True, "in_place": True,
                                                   "stands": True},
    "gen_genmimic_turn_around_and_pick_a_book": {"upright": False, "in_place": False,
                                                 "stands": True},
    "gen_genmimicbench_s3_A_gym_pick_up_weight": {"upright": False, "in_place": False,
                                                  "stands": True},
    "gen_genmimicbench_s1_A_office_fold_arms_wave": {"upright": True, "in_place": True,
                                                     "stands": True},
    "gen_zerohsi_kling_sit_on_bench": {"upright": False, "in_place": False, "stands": True},
    # leans over the plant while watering: in place, not upright
    "gen_zerohsi_kling_water_flowers": {"upright": False, "in_place": True, "stands": True},
    "gen_zerohsi_kling_clean_car": {"upright": False, "in_place": False, "stands": True},
    "gen_zerohsi_kling_guitar_on_sofa": {"upright": False, "in_place": False, "stands": False},
}
"""What the person in each shared clip does (file stem → labels)."""

TILT_MAX_DEG = 3.0
PATH_MAX_M = 0.15
STATURE_RANGE_M = (1.60, 1.95)
NOT_EXECUTED_MAX = 0.10
KEY_BODY_MAX_MM = 100.0
END_DRIFT_MAX_M = 0.5
NOSE_TO_CROWN_M = 0.11
MIRRORED = "_mirrored"
"""Suffix of a mirrored clip's stem (``--mirror``)."""
STANDING_MAX_BEND_DEG = 35.0
"""Largest knee and trunk-to-leg bend of a standing frame [deg]: perception's own
``WorldConfig.upright_max_bend_deg`` (MediaPipe bends the knees of people standing straight
by 15-35 deg)."""
PATH_RATE_HZ = 10.0


# ----------------------------------------------------------------------------- clips
def mirror_clip(src: Path, dst: Path) -> Path:
    """Write ``src`` mirrored left-right to ``dst`` (atomically; kept when it exists): every
    frame with its own timestamp (a variable-rate clip stays one, repeated frames stay
    repeated), H.264 at near-lossless quality, no audio. Uses imageio-ffmpeg's bundled
    ffmpeg."""
    import imageio_ffmpeg

    from exoactor.fileio import atomic_path

    if dst.exists():
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dst) as tmp:
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i",
                        str(src), "-vf", "hflip", "-fps_mode", "passthrough", "-c:v",
                        "libx264", "-crf", "12", "-pix_fmt", "yuv420p", "-an", "-f", "mp4",
                        str(tmp)], check=True)
    return dst


def with_mirrors(clips: list[Path], out: Path, labels: dict) -> list[Path]:
    """``clips`` followed by their mirrored copies under ``out/mirrored``; each mirror gets
    its original's labels (``labels`` is updated)."""
    mirrors = []
    for c in clips:
        m = mirror_clip(c, out / "mirrored" / f"{c.stem}{MIRRORED}{c.suffix}")
        if c.stem in labels:
            labels[m.stem] = labels[c.stem]
        mirrors.append(m)
    return list(clips) + mirrors


def mirror_summary(rows: list[dict]) -> list[str]:
    """Executable counts of the originals and the mirrored clips, and the clips whose verdict
    differs from their mirror's."""
    by = {r["clip"]: r for r in rows}
    pairs = [(by[k], by[k + MIRRORED]) for k in by if k + MIRRORED in by]
    if not pairs:
        return []
    ok = [sum(bool(p[i]["executable"]) for p in pairs) for i in (0, 1)]
    lines = [f"executable: originals {ok[0]} of {len(pairs)}, mirrored {ok[1]} of {len(pairs)}"]
    for a, b in pairs:
        if bool(a["executable"]) != bool(b["executable"]):
            lines.append(f"- {a['clip']}: original "
                         f"{'yes' if a['executable'] else 'no'}, mirrored "
                         f"{'yes' if b['executable'] else 'no'}")
    return lines


# ----------------------------------------------------------------------------- measures
def _idx(names: tuple[str, ...], *wanted: str) -> list[int]:
    return [names.index(w) for w in wanted]


def torso_tilt_deg(joints_w: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """``(T,)`` angle between hip centre → shoulder centre and +z [deg]."""
    ls, rs, lh, rh = _idx(names, "left_shoulder", "right_shoulder", "left_hip", "right_hip")
    axis = 0.5 * (joints_w[:, ls] + joints_w[:, rs]) - 0.5 * (joints_w[:, lh] + joints_w[:, rh])
    cos = axis[:, 2] / np.maximum(np.linalg.norm(axis, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def root_path_m(root_w: np.ndarray, fps: float, rate_hz: float = PATH_RATE_HZ) -> float:
    """Horizontal path length of ``root_w`` ``(T, 3)`` [m], averaged over windows of two
    sample periods (0.2 s at 10 Hz: zero gain at 5 Hz, little above) and sampled at
    ``rate_hz``, so frame rate and frame-to-frame jitter do not inflate it."""
    n = max(1, round(2.0 * fps / rate_hz))
    if len(root_w) < n + 1:
        return 0.0
    kernel = np.ones(n) / n
    xy = np.stack([np.convolve(root_w[:, k], kernel, mode="valid") for k in range(2)], -1)
    t = np.arange(len(xy)) / fps
    ts = np.arange(0.0, t[-1] + 1e-9, 1.0 / rate_hz)
    if len(ts) < 2:
        return 0.0
    xy = np.stack([np.interp(ts, t, xy[:, k]) for k in range(2)], axis=-1)
    return float(np.linalg.norm(np.diff(xy, axis=0), axis=-1).sum())


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1),
                                       1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def standing_frames(joints_w: np.ndarray, names: tuple[str, ...],
                    max_bend_deg: float = STANDING_MAX_BEND_DEG) -> np.ndarray:
    """``(T,)`` bool: the person stands straight (z up): both knees and the trunk against the
    legs (hip centre → shoulder centre vs ankle centre → hip centre) bent less than
    ``max_bend_deg``, and the body (ankle centre → shoulder centre) within it of vertical."""
    ls, rs, lh, rh, la, ra = _idx(names, "left_shoulder", "right_shoulder", "left_hip",
                                  "right_hip", "left_ankle", "right_ankle")
    sh = 0.5 * (joints_w[:, ls] + joints_w[:, rs])
    hip = 0.5 * (joints_w[:, lh] + joints_w[:, rh])
    ank = 0.5 * (joints_w[:, la] + joints_w[:, ra])
    out = _angle_deg(sh - hip, hip - ank) < max_bend_deg
    out &= _angle_deg(sh - ank, np.array([0.0, 0.0, 1.0])) < max_bend_deg
    for side in ("left", "right"):
        h, k, a = _idx(names, f"{side}_hip", f"{side}_knee", f"{side}_ankle")
        out &= _angle_deg(joints_w[:, k] - joints_w[:, h], joints_w[:, a] - joints_w[:, k]) \
            < max_bend_deg
    return out


def stature_nose_m(joints_w: np.ndarray, names: tuple[str, ...],
                   min_frames: int = 3) -> float | None:
    """p90 of the nose's height above the lowest foot landmark + 0.11 m, over the frames
    where the person stands straight (:func:`standing_frames`); None with fewer than
    ``min_frames`` of them."""
    nose = names.index("nose")
    feet = _idx(names, "left_ankle", "right_ankle", "left_heel", "right_heel",
                "left_foot_index", "right_foot_index")
    h = (joints_w[:, nose, 2] - joints_w[:, feet, 2].min(axis=1))[standing_frames(joints_w,
                                                                                  names)]
    if len(h) < min_frames:
        return None
    return float(np.percentile(h, 90) + NOSE_TO_CROWN_M)


def stature_bones_m(joints_w: np.ndarray, names: tuple[str, ...]) -> float:
    """(thigh + shank + hip-to-shoulder) / 0.779, bone lengths as medians over frames."""
    total = 0.0
    for side in ("left", "right"):
        s, h, k, a = _idx(names, f"{side}_shoulder", f"{side}_hip", f"{side}_knee",
                          f"{side}_ankle")
        for i, j in ((h, k), (k, a), (s, h)):
            total += 0.5 * float(np.median(np.linalg.norm(joints_w[:, i] - joints_w[:, j],
                                                          axis=-1)))
    return total / 0.779


# ----------------------------------------------------------------------------- one clip
def _video_seconds(path: Path) -> float:
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        n, fps = cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FPS)
    finally:
        cap.release()
    return float(n / fps) if fps > 0 and n > 0 else float("nan")


def _load_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def run_clip(video: str, run_dir: str, report: bool, force: list[str] | None,
             settings: dict | None = None) -> dict:
    """Run one clip (resuming its run directory); return its row. Runs in a worker process.

    ``force``: stages to recompute (``run_video``'s ``force``; ``["all"]`` every stage; the
    stages after one that runs run too). ``settings``: :class:`~exoactor.runner.RunConfig`
    fields (nested dicts) over its defaults.
    """
    os.environ.setdefault("MUJOCO_GL", "egl")
    os.environ.setdefault("GLOG_minloglevel", "2")
    logging.basicConfig(level=logging.ERROR)
    from exoactor.runner import RunConfig, run_video

    t0 = time.perf_counter()
    error = None
    try:
        config = RunConfig.model_validate(settings or {})
        run_video(video, run_dir, config, force=set(force or ()), report=report)
    except Exception as exc:  # noqa: BLE001 - a crash is a result of the benchmark
        error = f"{type(exc).__name__}: {exc}"
    row = clip_row(Path(video), Path(run_dir))
    row["wall_s"] = time.perf_counter() - t0
    if error and not row["failed_stage"]:
        row["failed_stage"], row["error"] = "crash", error
    return row


def clip_row(video: Path, run_dir: Path, labels: dict | None = None) -> dict:
    """Collect one clip's figures from its run directory."""
    labels = labels if labels is not None else LABELS.get(video.stem, {})
    video_s = _video_seconds(video)
    manifest = _load_json(run_dir / "manifest.json") or {}
    stages = {}
    failed_stage = error = None
    for name in STAGES:
        entry = manifest.get("stages", {}).get(name)
        if entry is None:
            stages[name] = {"status": "-", "s_per_video_s": None}
            continue
        sec = entry.get("seconds")
        stages[name] = {"status": entry.get("status"),
                        "s_per_video_s": sec / video_s if sec is not None else None}
        if entry.get("status") != "ok" and failed_stage is None:
            failed_stage, error = name, entry.get("error")
    row: dict = {"clip": video.stem, "video_s": video_s, "labels": labels, "stages": stages,
                 "failed_stage": failed_stage, "error": error}
    human = run_dir / "human_motion.npz"
    if human.is_file() and stages["perceive"]["status"] == "ok":
        from exoactor.formats import load_npz
        from exoactor.formats.motion import HumanMotion

        m = load_npz(human, expect=HumanMotion)
        j = m.joints[m.valid] if m.valid.any() else m.joints
        row.update(fps=m.fps, tilt_deg=float(np.median(torso_tilt_deg(j, m.joint_names))),
                   root_path_m=root_path_m(m.root_pos, m.fps),
                   stature_m=stature_nose_m(j, m.joint_names),
                   stature_bones_m=stature_bones_m(j, m.joint_names))
    pm = _load_json(run_dir / "perceive_metrics.json") or {}
    row["artefacts"] = pm.get("artefacts")
    row["camera_static"] = (pm.get("camera") or {}).get("static")
    tm = _load_json(run_dir / "metrics.json") if stages["track"]["status"] == "ok" else None
    if tm is not None:
        row.update(fell=bool(tm.get("fell")), fall_time_s=tm.get("fall_time_s"),
                   end_drift_m=tm.get("root_xy_error_end_m"),
                   key_body_error_mm=tm.get("key_body_error_mm"),
                   fraction_not_executed=tm.get("fraction_not_executed"))
        from exoactor.scene.score import interaction_columns

        row["interaction"] = interaction_columns(tm)
    verdict = _load_json(run_dir / "verdict.json") if tm is not None else None
    row["verdict"] = (verdict or {}).get("verdict")
    row["reasons"] = not_executable_reasons(row)
    row["executable"] = not row["reasons"]
    row["checks"] = perception_checks(row)
    return row


def not_executable_reasons(row: dict) -> list[str]:
    """Why a clip does not count as executable (empty: it does)."""
    if row["failed_stage"]:
        return [f"{row['failed_stage']} failed"]
    reasons = []
    if row.get("fell"):
        reasons.append("fell")
    if row.get("verdict") in (None, "not executable"):
        reasons.append(f"verdict {row.get('verdict')}")
    ne = row.get("fraction_not_executed")
    if ne is not None and ne > NOT_EXECUTED_MAX:
        reasons.append(f"not executed {ne:.0%}")
    kb = row.get("key_body_error_mm")
    if kb is None or kb > KEY_BODY_MAX_MM:
        reasons.append(f"key-body {kb if kb is None else round(kb)} mm")
    d = row.get("end_drift_m")
    if d is None or d > END_DRIFT_MAX_M:
        reasons.append(f"end drift {d if d is None else round(d, 2)} m")
    return reasons


def perception_checks(row: dict) -> dict[str, bool]:
    """The issue's perception targets that apply to this clip's labels."""
    lab, out = row["labels"], {}
    if "tilt_deg" not in row:
        return out
    if lab.get("upright"):
        out["tilt"] = row["tilt_deg"] <= TILT_MAX_DEG
    if lab.get("in_place"):
        out["path"] = row["root_path_m"] <= PATH_MAX_M
    if lab.get("stands"):
        out["stature"] = (row.get("stature_m") is not None
                          and STATURE_RANGE_M[0] <= row["stature_m"] <= STATURE_RANGE_M[1])
    return out


# ----------------------------------------------------------------------------- table
def _f(v: float | None, fmt: str, judged: bool | None = None) -> str:
    if v is None:
        return "?"
    text = format(v, fmt)
    return text + ("" if judged is None else (" ✓" if judged else " ✗"))


def _short(stem: str) -> str:
    for prefix in ("gen_genmimicbench_", "gen_genmimic_", "gen_zerohsi_", "gen_"):
        if stem.startswith(prefix):
            stem = stem[len(prefix):]
            break
    return stem[:26]


INTERACTION_KEYS = ("objects", "seated", "reached", "lifted", "interaction")
"""Interaction cells (``exoactor.scene.score.interaction_columns``), in table order."""


def table(rows: list[dict]) -> list[str]:
    """The per-clip table (markdown) and the executable rate."""
    head = ["clip", "fps", "perceive", "retarget", "track", "tilt °", "path m", "stature m",
            "bones m", "fall s", "drift m", "key-body mm", "not exec", "objects", "seated",
            "reached", "lifted", "interaction", "verdict", "exec"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        st = [f"{s['status']} {s['s_per_video_s']:.2f}" if s["s_per_video_s"] is not None
              else str(s["status"]) for s in (r["stages"][n] for n in STAGES)]
        c = r["checks"]
        fall = ("no" if not r.get("fell") else _f(r.get("fall_time_s"), ".2f")) \
            if "fell" in r else "?"
        ne = r.get("fraction_not_executed")
        cells = [_short(r["clip"]), _f(r.get("fps"), "g"), *st,
                 _f(r.get("tilt_deg"), ".1f", c.get("tilt")),
                 _f(r.get("root_path_m"), ".2f", c.get("path")),
                 _f(r.get("stature_m"), ".2f", c.get("stature")),
                 _f(r.get("stature_bones_m"), ".2f"), fall, _f(r.get("end_drift_m"), ".2f"),
                 _f(r.get("key_body_error_mm"), ".0f"), "?" if ne is None else f"{ne:.0%}",
                 *((r.get("interaction") or {}).get(k, "?") for k in INTERACTION_KEYS),
                 str(r.get("verdict")),
                 "yes" if r["executable"] else "no: " + ", ".join(r["reasons"])]
        lines.append("| " + " | ".join(cells) + " |")
    n_exec = sum(r["executable"] for r in rows)
    unknown = sum(r["executable"] and r.get("fraction_not_executed") is None for r in rows)
    lines.append("")
    lines.append(f"executable: {n_exec} of {len(rows)}"
                 + (f" ({unknown} with the fraction not executed unknown: tracking does not "
                    "report it yet)" if unknown else ""))
    checks = [(k, v) for r in rows for k, v in r["checks"].items()]
    for key, label in (("tilt", f"upright tilt ≤ {TILT_MAX_DEG:g}°"),
                       ("path", f"in-place path ≤ {PATH_MAX_M:g} m"),
                       ("stature", f"stature {STATURE_RANGE_M[0]:g}-{STATURE_RANGE_M[1]:g} m")):
        vals = [v for k, v in checks if k == key]
        lines.append(f"{label}: {sum(vals)} of {len(vals)}")
    failed = [r for r in rows if r["failed_stage"]]
    for r in failed:
        lines.append(f"- {_short(r['clip'])}: {r['failed_stage']} failed: "
                     f"{str(r['error'])[:200]}")
    arte = [r for r in rows if r.get("artefacts")]
    for r in arte:
        lines.append(f"- {_short(r['clip'])} artefacts: {_artefact_text(r['artefacts'])}")
    return lines


def _artefact_text(a: dict) -> str:
    parts = []
    for key, value in a.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k}={v}" for k, v in value.items()
                              if not isinstance(v, (list, dict)))
            parts.append(f"{key}({inner})")
        else:
            parts.append(f"{key}={value}")
    return "; ".join(parts)


# ----------------------------------------------------------------------------- main
def _git_label() -> str:
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "nogit"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "benchmarks")
    return head + ("-dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--footage", type=Path, default=ROOT.parent / "shared" / "footage",
                    help="folder of clips (default: ../shared/footage)")
    ap.add_argument("--clips", default="*.mp4", help="glob of clips inside --footage")
    ap.add_argument("--out", type=Path, help="folder of run directories "
                    "(default: runs/task_video/<git commit>)")
    ap.add_argument("--workers", type=int, default=1, help="clips run at once")
    ap.add_argument("--report", action="store_true",
                    help="also build each run's report (videos, page); slow")
    ap.add_argument("--force", nargs="*", metavar="STAGE",
                    help="recompute these stages and the ones after them (no STAGE: every "
                         "stage), e.g. --force retarget to reuse perception after a retarget "
                         "change")
    ap.add_argument("--labels", type=Path, help="JSON: clip stem -> labels (see docstring)")
    ap.add_argument("--set", type=json.loads, default={}, metavar="JSON",
                    help='RunConfig fields over the defaults, e.g. '
                         '\'{"perceive": {"contact_from_planted": true}}\'')
    ap.add_argument("--mirror", action="store_true",
                    help="also run each clip mirrored left-right (a held-out clip of the "
                         "same kind; written under OUT/mirrored)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    clips = sorted(args.footage.glob(args.clips))
    if not clips:
        sys.exit(f"no clips match {args.footage}/{args.clips}")
    labels = dict(LABELS)
    if args.labels:
        labels.update(json.loads(args.labels.read_text()))
    out = args.out or ROOT / "runs" / "task_video" / _git_label()
    out.mkdir(parents=True, exist_ok=True)
    if args.mirror:
        clips = with_mirrors(clips, out, labels)
    print(f"{len(clips)} clips from {args.footage} -> {out}; {args.workers} worker(s), "
          f"{os.cpu_count()} CPUs, load " + " ".join(f"{x:.1f}" for x in os.getloadavg()),
          flush=True)
    t0 = time.perf_counter()
    force = None if args.force is None else (args.force or ["all"])
    jobs = [(str(c), str(out / c.stem), args.report, force, args.set) for c in clips]
    rows: dict[str, dict] = {}
    if args.workers <= 1:
        for job in jobs:
            rows[job[0]] = run_clip(*job)
            print(f"  {Path(job[0]).stem}: {rows[job[0]]['wall_s']:.0f} s", flush=True)
    else:
        ctx = mp.get_context("spawn")
        with cf.ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
            futures = {pool.submit(run_clip, *job): job for job in jobs}
            for fut in cf.as_completed(futures):
                job = futures[fut]
                rows[job[0]] = fut.result()
                print(f"  {Path(job[0]).stem}: {rows[job[0]]['wall_s']:.0f} s", flush=True)
    ordered = []
    for c in clips:
        row = rows[str(c)]
        if c.stem in labels and row["labels"] != labels[c.stem]:  # --labels overrides
            row = clip_row(c, out / c.stem, labels[c.stem])
        ordered.append(row)
    lines = table(ordered) + mirror_summary(ordered)
    text = "\n".join(lines)
    print(text)
    print(f"wall {time.perf_counter() - t0:.0f} s")
    from exoactor.fileio import write_json

    write_json(out / "task_video.json", {"code": _git_label(), "settings": args.set,
                                         "rows": ordered})
    (out / "task_video.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
