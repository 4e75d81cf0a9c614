"""The imagine stage through the run directory: scene -> plan -> transfer -> generate -> check.

Stages (each cached and resumable through :class:`~exoactor.pipeline.RunDir`):

=========  ===========================================  ==========================================
stage      writes                                       from
=========  ===========================================  ==========================================
scene      ``scene.png``                                the scene photo (any format PIL reads)
plan       ``plan.json``                                the task (+ scene image for LLM planners)
transfer   ``human_scene.png``                          ``scene.png`` + the plan's edit instruction
generate   ``candidates/video_NN.mp4`` (+ ``.json``),   ``human_scene.png`` + ``plan.json``
           ``candidates/index.json``
check      ``clip_checks.json``, ``video.mp4``,          the candidates
           ``video.json``
=========  ===========================================  ==========================================

``video.mp4`` is the best candidate resampled to the perception rate with its duration kept;
``video.json`` records its true (native) fps and the generator. The stages after it
(:func:`exoactor.runner.run_video`) continue in the same folder: see
:func:`exoactor.runner.imagine_and_run`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exoactor import artefacts
from exoactor.errors import ExoActorError
from exoactor.fileio import atomic_path, write_json
from exoactor.imagine.checks import ClipReport, check_clip, rank
from exoactor.imagine.config import ImagineConfig
from exoactor.imagine.errors import ClipsRejected, ImagineError, JobTimeout, SceneImageError
from exoactor.imagine.plan.base import Plan, load_plan, planners, save_plan
from exoactor.imagine.transfer.base import scene_editors
from exoactor.imagine.video.base import GeneratedClip, VideoRequest, generators
from exoactor.imagine.video.clip import ClipInfo, conform_clip
from exoactor.pipeline import (
    COMMANDS,
    RunDir,
    StageCall,
    StageResult,
    forced_stages,
    run_stages,
)

logger = logging.getLogger(__name__)

IMAGINE_STAGES = COMMANDS["imagine"]
"""Stage names in order (``force`` takes these; declared in :data:`exoactor.pipeline.STAGES`)."""
CANDIDATES = artefacts.CANDIDATES
"""Folder of the candidate clips inside the run directory."""

REJECTED = ("none of the {n} candidate clip(s) passed the clip checks: {why}. Generate more "
            "(--candidates), change the prompt or the scene image, or keep the best anyway "
            "(on_reject=keep_best)")


@dataclass
class ImagineSummary:
    """What :func:`imagine` did.

    Attributes:
        run_dir: the run folder.
        plan: the plan.
        video: ``video.mp4`` (the chosen clip at the perception rate).
        fps: its rate [Hz].
        source_fps: the true rate the clip was generated or filmed at [Hz].
        selected: index of the chosen candidate.
        passed: the chosen clip passed every check.
        reports: the check report of every candidate, best first.
        stages: what each stage did.
    """

    run_dir: Path
    plan: Plan
    video: Path
    fps: float
    source_fps: float
    selected: int
    passed: bool
    reports: list[dict[str, Any]] = field(default_factory=list)
    stages: dict[str, StageResult] = field(default_factory=dict)


def _copy_scene(src: Path, dst: Path) -> None:
    from PIL import Image, UnidentifiedImageError

    if not src.is_file():
        raise SceneImageError(f"{src}: no such scene image; give a photo of the robot in its "
                              "scene (png or jpg), taken from where the camera will stand")
    try:
        with Image.open(src) as im:
            im = im.convert("RGB")
            with atomic_path(dst) as tmp:
                im.save(tmp, format="PNG")
    except (UnidentifiedImageError, OSError) as exc:
        raise SceneImageError(f"{src}: not a readable image ({exc}); give a png or jpg") from None


def _request_key(generator: str, config: Any, request: VideoRequest) -> str:
    blob = json.dumps({"generator": generator, "config": config.model_dump(mode="json"),
                       "prompt": request.prompt, "negative": request.negative_prompt,
                       "seed": request.seed, "duration_s": request.duration_s,
                       "image": None if request.image is None else hashlib.sha256(
                           Path(request.image).read_bytes()).hexdigest()}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _candidate_meta(clip: GeneratedClip, conformed: Any, key: str) -> dict[str, Any]:
    return {"request_key": key, "generator": clip.generator, "model": clip.model,
            "seed": clip.seed, "native": {"path": str(clip.path), "fps": clip.fps,
                                          "num_frames": clip.num_frames,
                                          "width_px": clip.width_px, "height_px": clip.height_px,
                                          "duration_s": round(clip.duration_s, 4)},
            "conformed": conformed.to_dict(), "notes": clip.notes}


def generate_candidates(run: RunDir, plan: Plan, config: ImagineConfig) -> list[int]:
    """Generate ``config.candidates`` clips into ``candidates/`` (skipping finished ones).

    Returns:
        Indices of the candidates that exist after the call.

    Raises:
        JobTimeout: a hosted job is still running (run again to resume it).
        ExoActorError: every candidate failed (the first error).
    """
    from exoactor.ui import console

    gen = generators.build(config.generator, config.generator_options)
    folder = run.artefact(CANDIDATES)
    folder.mkdir(exist_ok=True)
    image = run.artefact(artefacts.HUMAN_SCENE)
    done: list[int] = []
    errors: list[ExoActorError] = []
    for i in range(config.candidates):
        req = VideoRequest(prompt=plan.prompt, image=image, negative_prompt=plan.negative_prompt,
                           seed=config.seed + i, duration_s=plan.duration_s, index=i)
        key = _request_key(config.generator, gen.config, req)
        out = run.artefact(artefacts.candidate_video(i))
        meta_path = run.artefact(artefacts.candidate_meta(i))
        if out.is_file() and meta_path.is_file() and \
                json.loads(meta_path.read_text()).get("request_key") == key:
            logger.info("candidate %d is current; skipped", i)
            done.append(i)
            continue
        console().print(f"generate: candidate {i + 1}/{config.candidates} with "
                        f"{config.generator} (seed {req.seed})")
        try:
            clip = gen.generate(req, run.artefact(artefacts.candidate_native(i)), run.path)
            native = ClipInfo(clip.path, clip.fps, clip.num_frames, clip.width_px,
                              clip.height_px)
            conformed = conform_clip(clip.path, out, config.perception_fps, clip.fps, native)
        except JobTimeout:
            raise
        except ExoActorError as exc:
            logger.warning("candidate %d failed: %s", i, exc)
            errors.append(exc)
            write_json(meta_path, {"request_key": key, "error": str(exc),
                                   "error_type": type(exc).__name__})
            continue
        write_json(meta_path, _candidate_meta(clip, conformed, key))
        done.append(i)
    if not done:
        raise errors[0]
    write_json(run.artefact(artefacts.CANDIDATE_INDEX),
               {"candidates": done, "failed": config.candidates - len(done)})
    return done


def choose_clip(run: RunDir, config: ImagineConfig) -> tuple[int, list[ClipReport]]:
    """Check every candidate, rank them, copy the best to ``video.mp4``.

    Raises:
        ClipsRejected: nothing passed and ``on_reject`` says error.
    """
    index = json.loads(run.artefact(artefacts.CANDIDATE_INDEX).read_text())["candidates"]
    reports = {}
    for i in index:
        path = run.artefact(artefacts.candidate_video(i))
        meta = json.loads(run.artefact(artefacts.candidate_meta(i)).read_text())
        native = meta["native"]
        info = ClipInfo(path, meta["conformed"]["fps"], meta["conformed"]["num_frames"],
                        native["width_px"] - native["width_px"] % 2,
                        native["height_px"] - native["height_px"] % 2)
        reports[i] = check_clip(path, config.checks, info)
    ranked = rank(list(reports.values()))
    best = ranked[0]
    chosen = next(i for i, r in reports.items() if r is best)
    policy = config.on_reject
    if policy == "auto":
        policy = "keep_best" if config.generator == "file" else "error"
    write_json(run.artefact(artefacts.CLIP_CHECKS), {
        "selected": chosen, "passed": best.passed, "on_reject": policy,
        "candidates": {str(i): r.to_dict() for i, r in reports.items()},
        "ranking": [next(i for i, r in reports.items() if r is x) for x in ranked]})
    if not best.passed:
        why = "; ".join(best.failures)
        if policy == "error":
            raise ClipsRejected(REJECTED.format(n=len(reports), why=why))
        logger.info("no candidate passed the clip checks (%s); keeping candidate %d", why,
                       chosen)
        from exoactor.ui import console

        console().print(f"[yellow]clip checks failed ({why}); keeping candidate {chosen} "
                        "(on_reject=keep_best)[/]")
    meta = json.loads(run.artefact(artefacts.candidate_meta(chosen)).read_text())
    with atomic_path(run.artefact(artefacts.VIDEO)) as tmp:
        tmp.write_bytes(run.artefact(artefacts.candidate_video(chosen)).read_bytes())
    write_json(run.artefact(artefacts.VIDEO_META), {
        "candidate": chosen, "fps": meta["conformed"]["fps"],
        "num_frames": meta["conformed"]["num_frames"],
        "duration_s": meta["conformed"]["duration_s"],
        "source_fps": meta["native"]["fps"], "source_frames": meta["native"]["num_frames"],
        "generator": meta["generator"], "model": meta["model"], "seed": meta["seed"],
        "checks_passed": best.passed, "score": round(best.score, 4)})
    return chosen, ranked


def imagine(task: str, scene: str | Path, out_dir: str | Path,
            config: ImagineConfig | None = None,
            force: set[str] | frozenset[str] = frozenset()) -> ImagineSummary:
    """Run the imagine stages into the run directory ``out_dir``.

    Args:
        task: the instruction, e.g. ``"walk to the chair and sit down"``.
        scene: photo of the robot in its scene.
        out_dir: run directory (created, or resumed).
        config: backends, candidates, checks.
        force: stages to run even when current (:data:`IMAGINE_STAGES` or ``"all"``); the
            stages after a stage that runs run too (:mod:`exoactor.pipeline`).

    Raises:
        StageFailed: a stage failed (its error is in the manifest; earlier artefacts stay).
    """
    config = config or ImagineConfig()
    forced_stages(force, IMAGINE_STAGES)
    run = RunDir(out_dir)
    scene = Path(scene)
    if not scene.is_file():
        raise SceneImageError(f"{scene}: no such scene image; give a photo of the robot in its "
                              "scene (png or jpg)")
    video_src = config.generator_options.get("path")
    if config.generator == "file" and video_src and not Path(video_src).is_file():
        raise ImagineError(f"{video_src}: no such video file; --video takes a clip of one "
                           "person doing the task, filmed by a static camera")
    stages: dict[str, StageResult] = {}
    run_stages(run, IMAGINE_STAGES, imagine_stage_calls(run, task, scene, config), force=force,
               results=stages)
    checks = json.loads(run.artefact(artefacts.CLIP_CHECKS).read_text())
    video_meta = json.loads(run.artefact(artefacts.VIDEO_META).read_text())
    reports = [checks["candidates"][str(i)] for i in checks["ranking"]]
    return ImagineSummary(run.path, load_plan(run.artefact(artefacts.PLAN)),
                          run.artefact(artefacts.VIDEO), video_meta["fps"],
                          video_meta["source_fps"], checks["selected"], checks["passed"],
                          reports, stages)


def imagine_stage_calls(run: RunDir, task: str, scene: Path,
                        config: ImagineConfig) -> dict[str, Callable[[], StageCall]]:
    """How ``run`` executes each imagine stage (each built when its stage comes up, after the
    stages before it wrote their files)."""
    scene_png = run.artefact(artefacts.SCENE_PHOTO)

    def plan_call() -> StageCall:
        planner = planners.build(config.planner, config.planner_options)
        return StageCall(lambda: save_plan(planner.plan(task, scene_png),
                                           run.artefact(artefacts.PLAN)),
                         config.planner, {"task": task, "options": planner.config})

    def transfer_call() -> StageCall:
        editor = scene_editors.build(config.editor, config.editor_options)
        plan = load_plan(run.artefact(artefacts.PLAN))
        return StageCall(lambda: editor.edit(scene_png, plan.edit_prompt,
                                             run.artefact(artefacts.HUMAN_SCENE)),
                         config.editor, {"instruction": plan.edit_prompt, "options": editor.config})

    def generate_call() -> StageCall:
        plan = load_plan(run.artefact(artefacts.PLAN))
        video_src = config.generator_options.get("path")
        external = (Path(video_src),) if config.generator == "file" and video_src else ()
        return StageCall(lambda: generate_candidates(run, plan, config), config.generator,
                         {"options": config.generator_options, "candidates": config.candidates,
                          "seed": config.seed, "perception_fps": config.perception_fps},
                         external)

    def check_call() -> StageCall:
        index = json.loads(run.artefact(artefacts.CANDIDATE_INDEX).read_text())["candidates"]
        return StageCall(lambda: choose_clip(run, config), "clip-checks",
                         {"checks": config.checks, "on_reject": config.on_reject,
                          "generator": config.generator},
                         tuple(run.artefact(artefacts.candidate_video(i)) for i in index))

    return {"scene": lambda: StageCall(lambda: _copy_scene(scene, scene_png), "pil", None,
                                       (scene,)),
            "plan": plan_call, "transfer": transfer_call, "generate": generate_call,
            "check": check_call}
