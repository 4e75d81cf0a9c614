"""Rendered known truth for issue 16's objects: seat height, table height and box width.

Renders each case with the Anny body (:mod:`exoactor.perceive.truth`): sitting down on a box of
known height seen from several azimuths, leaning on a table, lifting a box; runs the chain the
runner runs (``perceive_video`` -> ``retarget`` -> ``infer_scene``, the ``objects`` stage's
rules) on the perceived motion and on the true joints (a perfect perceive stage), and prints
the inferred object against the truth at the robot's scale, as the tests do
(``tests/perceive/test_sit_truth.py``, ``test_table_box_truth.py``, ``test_lean_truth.py``):

* seat: the seat's contact (top less ``InferConfig.seat_above_lowest_m``) against the rendered
  seat top times robot leg / true leg;
* table: the table top against :func:`~exoactor.perceive.truth.robot_scale.table_top_at_robot_scale`
  over the last 40 % of the frames (the hands resting);
* box: the box's width against :func:`~exoactor.perceive.truth.robot_scale.box_width_at_robot_scale`
  at the grasp (the last frame the box stands on the floor).

Issue 16's bounds: seat and table within 3 cm, box within 5 cm. Rendered clips and perceived
motions are cached under ``--cache`` (``--fresh`` perceives again; rendering is deterministic).
Needs ``anny`` and the G1 assets.

Attribution: ``--true-2d`` / ``--true-3d`` name BODY_33 landmarks that the detector's output
takes from the truth (the ``truth-landmarks`` backend, :mod:`exoactor.perceive.truth.landmarks`:
2D projected through the clip's camera, 3D relative to the hips), ``--skeleton-fit`` overrides
fields of :class:`~exoactor.perceive.skeleton_fit.SkeletonFitConfig` (JSON); each variant is
cached under its own name.

    EXOACTOR_ASSETS=../shared/assets .venv/bin/python benchmarks/scene_truth.py \
        [--cache DIR] [--cases sit_3q lean_30 ...] [--fresh] \
        [--true-2d left_hip right_hip] [--true-3d left_knee right_knee] \
        [--skeleton-fit '{"direction_sigma_m": 0.3}']
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

CASES = {
    "sit_front": ("sit", 0.0), "sit_30": ("sit", 30.0), "sit_3q": ("sit", 35.0),
    "sit_side": ("sit", 80.0),
    "lean_front": ("lean", 0.0), "lean_30": ("lean", 30.0), "lean_60": ("lean", 60.0),
    "lift_front": ("lift", 0.0), "lift_30": ("lift", 30.0), "lift_60": ("lift", 60.0),
}
"""Case -> (action, camera azimuth from the facing direction [deg]): the views of the tests
(``tests/perceive/test_sit_truth.py``: 35 and 80 deg; ``test_table_box_truth.py``: lean 60, lift
0; ``test_lean_truth.py``: lean 0 and 30), the sit from 0 and 30 deg, the lift from 30 and
60 deg (the lift's default view)."""
BOUND_M = {"sit": 0.03, "lean": 0.03, "lift": 0.05}
FRAMES = {"sit": 90, "lean": 90, "lift": 96}


def _clip(cache: Path, name: str):
    """The rendered case (rendered once; a later call reads its truth file)."""
    from exoactor.perceive import truth
    from exoactor.perceive.truth.clip import TRUTH_SUFFIX

    action, az = CASES[name]
    video = cache / f"{name}.mp4"
    done = video.with_name(video.stem + TRUTH_SUFFIX)
    if video.exists() and done.exists():
        return truth.load_truth(done)
    make = {"sit": truth.sit_down_config, "lean": truth.lean_config,
            "lift": truth.lift_config}[action]
    return truth.make_truth_clip(video, make(frames=FRAMES[action], azimuth_deg=az))


def variant_tag(true_2d: list[str], true_3d: list[str], fit: dict) -> str:
    """File-name tag of a perceive variant ("" for the stage as configured)."""
    parts = ([f"px-{'.'.join(true_2d)}"] if true_2d else []) + (
        [f"rel-{'.'.join(true_3d)}"] if true_3d else []) + (
        [f"fit-{'.'.join(f'{k}={v}' for k, v in sorted(fit.items()))}"] if fit else [])
    return "" if not parts else "_" + "_".join(parts)


def perceive_config(clip, true_2d: list[str], true_3d: list[str], fit: dict):
    """The perceive stage's config for a case: body only, the true field of view, and the
    variant's swaps (the ``truth-landmarks`` backend) and skeleton-fit overrides."""
    from exoactor.perceive import PerceiveConfig

    cfg = PerceiveConfig(hands=False, overlay=False, fov_deg=clip.fov_deg)
    update: dict = {}
    if true_2d or true_3d:
        import exoactor.perceive.truth.landmarks as lm  # registers the backend

        update |= {"backend": lm.BACKEND_NAME, "backend_options": {
            "truth_path": str(clip.truth_path), "joints_px": tuple(true_2d),
            "joints_rel_c": tuple(true_3d), "inner": cfg.backend,
            "inner_options": cfg.backend_options}}
    if fit:
        update["skeleton_fit"] = cfg.skeleton_fit.model_validate(
            cfg.skeleton_fit.model_dump() | fit)
    return cfg.model_copy(update=update)


def _perceived(cache: Path, name: str, clip, fresh: bool, true_2d: list[str] = (),
               true_3d: list[str] = (), fit: dict | None = None):
    from exoactor.formats import HumanMotion
    from exoactor.formats.npz import load_npz
    from exoactor.perceive import perceive_video

    fit = fit or {}
    out = cache / f"{name}{variant_tag(list(true_2d), list(true_3d), fit)}_human.npz"
    if out.exists() and not fresh:
        return load_npz(out, expect=HumanMotion)
    cfg = perceive_config(clip, list(true_2d), list(true_3d), fit)
    return perceive_video(clip.video_path, out, cfg).motion


def _leg_m(joints: np.ndarray) -> float:
    from exoactor.skeleton import BODY_33

    i = BODY_33.index
    legs = [np.linalg.norm(joints[:, i(f"{s}_{a}")] - joints[:, i(f"{s}_{b}")], axis=-1)
            for s in ("left", "right") for a, b in (("hip", "knee"), ("knee", "ankle"))]
    return float(np.nanmedian(sum(legs)) / 2)


def measure(action: str, clip, human) -> tuple[str, float | None, str]:
    """(object kind, error inferred - truth [m] or None when none was kept, a note)."""
    from exoactor.retarget import retarget
    from exoactor.retarget.config import RetargetConfig
    from exoactor.scene.infer import InferConfig, infer_scene

    cfg = InferConfig()
    r = retarget(human, RetargetConfig())
    scene = infer_scene(r.motion, cfg)
    robot_len = r.targets.scales.robot_length_m
    kind = {"sit": "seat", "lean": "table", "lift": "box"}[action]
    found = scene.of_kind(kind)
    rejected = [o for o in scene.rejected if o.kind == kind]
    if len(found) != 1:
        if len(found) == 0 and len(rejected) == 1:
            err = _error_m(kind, clip, rejected[0], robot_len, cfg)
            return kind, None, f"rejected: {100 * err:+.1f} cm ({rejected[0].note[:80]})"
        return kind, None, f"{len(found)} kept, {len(rejected)} rejected"
    return kind, _error_m(kind, clip, found[0], robot_len, cfg), ""


def _error_m(kind: str, clip, o, robot_len: dict[str, float], cfg) -> float:
    """Inferred - true size or height of ``o`` at the robot's scale [m] (see the docstring)."""
    from exoactor.perceive.truth import robot_scale

    if kind == "seat":
        robot_leg = (robot_len["thigh"] + robot_len["shin"]) / 2
        truth = clip.seat_top_m * robot_leg / _leg_m(clip.joints_w)
        return o.size[2] - cfg.seat_above_lowest_m - truth
    if kind == "table":
        rest = slice(int(0.6 * len(clip.joints_w)), None)
        return o.top_z - robot_scale.table_top_at_robot_scale(clip, robot_len, rest)
    g = int(np.flatnonzero(clip.box_corners_w[:, 0, 2] <= 1e-9)[-1])
    return o.size[1] - robot_scale.box_width_at_robot_scale(clip, robot_len, g)


def _cm(err_m: float | None) -> str:
    return "none" if err_m is None else f"{100 * err_m:+.1f}"


def main() -> None:
    from exoactor.perceive.truth.robot_scale import true_human_motion

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("runs/scene_truth"))
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--fresh", action="store_true", help="perceive again (ignore the cache)")
    ap.add_argument("--true-2d", nargs="+", default=[], metavar="NAME",
                    help="BODY_33 landmarks whose 2D is taken from the truth")
    ap.add_argument("--true-3d", nargs="+", default=[], metavar="NAME",
                    help="BODY_33 landmarks whose hip-relative 3D is taken from the truth")
    ap.add_argument("--skeleton-fit", type=json.loads, default={}, metavar="JSON",
                    help="SkeletonFitConfig fields to override, e.g. '{\"direction_sigma_m\": 0.3}'")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    args.cache.mkdir(parents=True, exist_ok=True)
    print("| case | object | true joints err cm | perceived err cm | bound cm | met | note |")
    print("|---|---|---|---|---|---|---|")
    for name in args.cases:
        action = CASES[name][0]
        clip = _clip(args.cache, name)
        kind, e_true, _ = measure(action, clip, true_human_motion(clip))
        kind, e_per, note = measure(action, clip, _perceived(
            args.cache, name, clip, args.fresh, args.true_2d, args.true_3d, args.skeleton_fit))
        bound = BOUND_M[action]
        ok = e_per is not None and abs(e_per) <= bound
        print(f"| {name} | {kind} | {_cm(e_true)} | {_cm(e_per)} | {100 * bound:.0f} | "
              f"{'yes' if ok else 'no'} | {note} |", flush=True)


if __name__ == "__main__":
    main()
