"""The imagine stages through the run directory: a file clip (the real sample clip), a 16 fps
clip, ranked candidates, a hosted Kling run that times out and resumes, and the hand-over to
the video -> robot stages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from exoactor.errors import StageFailed
from exoactor.imagine import ImagineConfig, imagine
from exoactor.imagine.checks import ClipCheckConfig
from exoactor.imagine.errors import ClipsRejected, ImagineError, JobTimeout, SceneImageError
from exoactor.imagine.plan import planners
from exoactor.imagine.transfer import scene_editors
from exoactor.imagine.video import generators
from exoactor.imagine.video.base import GeneratedClip, VideoGenerator, VideoRequest
from exoactor.imagine.video.clip import probe
from exoactor.pipeline import RunDir
from exoactor.runner import imagine_and_run

from .fakes import API_KEY, KLING_AK, KLING_SK, FakeServer

TASK = "walk to the chair and sit down"
CHECKS = ClipCheckConfig(samples=4)


def test_file_generator_makes_a_valid_run_directory(sample_clip: Path, scene_png: Path,
                                                    tmp_path: Path) -> None:
    cfg = ImagineConfig(generator="file", generator_options={"path": str(sample_clip)},
                        checks=CHECKS)
    out = tmp_path / "run"
    s = imagine(TASK, scene_png, out, cfg)
    for name in ("scene.png", "human_scene.png", "plan.json", "video.mp4", "video.json",
                 "clip_checks.json", "manifest.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert [manifest["stages"][k]["status"] for k in ("scene", "plan", "transfer", "generate",
                                                       "check")] == ["ok"] * 5
    assert manifest["stages"]["plan"]["config"]["task"] == TASK
    assert [a.verb for a in s.plan.actions] == ["walk_to", "sit"]
    info, src = probe(out / "video.mp4"), probe(sample_clip)
    assert (info.fps, info.num_frames) == (30.0, src.num_frames) and s.source_fps == 30.0
    # the sample clip shows two people: the user's own clip is kept, with the failure recorded
    assert not s.passed and s.reports[0]["checks"][2]["name"] == "single_person"
    again = imagine(TASK, scene_png, out, cfg)
    assert {r.status for r in again.stages.values()} == {"cached"}


def test_16fps_clip_keeps_its_duration(clip_16fps: Path, scene_png: Path, tmp_path: Path) -> None:
    cfg = ImagineConfig(generator_options={"path": str(clip_16fps)}, checks=CHECKS)
    s = imagine(TASK, scene_png, tmp_path / "run", cfg)
    src, out = probe(clip_16fps), probe(s.video)
    assert (s.source_fps, s.fps, out.fps) == (16.0, 30.0, 30.0)
    assert out.duration_s == pytest.approx(src.duration_s, abs=1 / 30)
    meta = json.loads((tmp_path / "run" / "video.json").read_text())
    assert meta["source_fps"] == 16.0 and meta["source_frames"] == src.num_frames
    changed = imagine("sit on the sofa", scene_png, tmp_path / "run", cfg)
    assert [changed.stages[k].status for k in ("scene", "plan", "transfer", "generate")] == [
        "cached", "ok", "cached", "ok"]


class _ClipsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    clips: tuple[str, ...] = ()


class _Clips(VideoGenerator):
    """Candidate i is clips[i % len]: a stand-in for a model whose seeds differ."""

    name = "test-clips"
    Config = _ClipsConfig

    def __init__(self, config: _ClipsConfig):
        self.config = config

    def generate(self, request: VideoRequest, out_path: Path, work_dir: Path) -> GeneratedClip:
        path = Path(self.config.clips[request.seed % len(self.config.clips)])
        info = probe(path)
        return GeneratedClip(path, info.fps, info.num_frames, info.width_px, info.height_px,
                             self.name, "test", request.seed)


@pytest.fixture
def clips_generator(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(generators._entries, "test-clips", _Clips)
    return "test-clips"


def test_candidates_are_checked_and_ranked(clips_generator: str, panning_clip: Path,
                                           single_person_clip: Path, scene_png: Path,
                                           tmp_path: Path) -> None:
    cfg = ImagineConfig(generator=clips_generator, candidates=2, checks=CHECKS,
                        generator_options={"clips": [str(panning_clip), str(single_person_clip)]})
    s = imagine(TASK, scene_png, tmp_path / "run", cfg)
    assert s.selected == 1 and s.passed
    checks = json.loads((tmp_path / "run" / "clip_checks.json").read_text())
    assert checks["ranking"] == [1, 0] and not checks["candidates"]["0"]["passed"]
    assert probe(s.video).num_frames == probe(single_person_clip).num_frames


def test_no_passing_candidate_is_an_error_for_generated_clips(
        clips_generator: str, panning_clip: Path, scene_png: Path, tmp_path: Path) -> None:
    cfg = ImagineConfig(generator=clips_generator, candidates=2, checks=CHECKS,
                        generator_options={"clips": [str(panning_clip)]})
    with pytest.raises(StageFailed) as err:
        imagine(TASK, scene_png, tmp_path / "run", cfg)
    assert isinstance(err.value.__cause__, ClipsRejected)
    assert "static_camera" in str(err.value)
    entry = RunDir(tmp_path / "run").stage("check")
    assert entry["status"] == "failed" and entry["error_type"] == "ClipsRejected"
    assert (tmp_path / "run" / "plan.json").is_file()  # earlier artefacts stay
    kept = imagine(TASK, scene_png, tmp_path / "run", cfg.model_copy(update={"on_reject": "keep_best"}))
    assert not kept.passed and kept.video.is_file()


def test_kling_run_times_out_then_resumes(fake: FakeServer, keys: None, scene_png: Path,
                                          tmp_path: Path) -> None:
    opts = {"base_url": fake.url, "poll_interval_s": 0.01, "poll_max_interval_s": 0.02,
            "poll_timeout_s": 0.1, "retry": {"backoff_s": 0.0, "max_retries": 1}}
    cfg = ImagineConfig(generator="kling", generator_options=opts, checks=CHECKS,
                        on_reject="keep_best")
    fake.state.polls_until_done = None
    with pytest.raises(StageFailed) as err:
        imagine(TASK, scene_png, tmp_path / "run", cfg)
    assert isinstance(err.value.__cause__, JobTimeout)
    job = json.loads((tmp_path / "run" / "jobs" / "kling_00.json").read_text())
    assert job["job_id"] == "image2video/task1" and job["status"] == "running"
    fake.state.polls_until_done = 0
    s = imagine(TASK, scene_png, tmp_path / "run", cfg)
    assert fake.state.jobs == 1 and s.stages["generate"].status == "ok"
    assert s.fps == 30.0 and s.video.is_file()
    submitted = json.loads(next(b for m, p, _, b in fake.state.requests if m == "POST"))
    assert submitted["prompt"] == s.plan.prompt
    text = "".join(p.read_text() for p in (tmp_path / "run").rglob("*.json"))
    for secret in (KLING_AK, KLING_SK, API_KEY):
        assert secret not in text


@pytest.mark.slow
def test_imagine_and_run_hands_video_mp4_to_the_runner(
        sample_clip: Path, scene_png: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import exoactor.runner as runner

    calls = []

    def fake_run_video(video, out_dir, config=None, force=frozenset()):  # noqa: ANN001, ANN202
        calls.append((Path(video), Path(out_dir), set(force)))
        return runner.RunSummary(Path(out_dir))

    monkeypatch.setattr(runner, "run_video", fake_run_video)
    cfg = ImagineConfig(generator_options={"path": str(sample_clip)}, checks=CHECKS)
    out = tmp_path / "run"
    s = imagine_and_run(TASK, scene_png, out, cfg, force={"plan", "track"})
    assert s.ok and calls == [(out / "video.mp4", out, {"track"})]
    assert s.imagine.stages["plan"].status == "ok"
    with pytest.raises(Exception, match="drop --start/--end"):
        imagine_and_run(TASK, scene_png, out, cfg, runner.RunConfig(start_s=1.0))
    with pytest.raises(SceneImageError, match="no such scene image"):
        imagine_and_run(TASK, tmp_path / "missing.png", tmp_path / "run2", cfg)
    cfg_bad = cfg.model_copy(update={"generator_options": {"path": str(tmp_path / "none.mp4")}})
    with pytest.raises(ImagineError, match="none.mp4: no such video file"):
        imagine_and_run(TASK, scene_png, tmp_path / "run3", cfg_bad)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"not a video")
    failed = imagine_and_run(TASK, scene_png, tmp_path / "run4", cfg.model_copy(
        update={"generator_options": {"path": str(corrupt)}}))
    assert failed.failed_stage == "generate" and "corrupt.mp4" in failed.error
    assert not failed.ok and failed.imagine is None


@pytest.mark.parametrize("registry", [planners, scene_editors, generators],
                         ids=["planners", "editors", "generators"])
def test_every_backend_has_a_frozen_config(registry) -> None:  # noqa: ANN001
    for name in registry.names():
        cls = registry.get(name)
        assert cls.Config.model_config.get("frozen") and \
            cls.Config.model_config.get("extra") == "forbid", name


def test_import_does_not_load_heavy_dependencies() -> None:
    code = ("import sys, exoactor.imagine, exoactor.imagine.run, exoactor.imagine.video.kling, "
            "exoactor.imagine.video.diffusers_video, exoactor.imagine.transfer.diffusers_edit; "
            "print(','.join(m for m in ('torch', 'diffusers', 'transformers', 'mediapipe', 'cv2')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
