"""Imagine tasks: the ``imagine`` stage calls the imagine package's batch entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exoactor.batch import RunJob
from exoactor.batch import imagine_run as imagine_mod
from exoactor.batch.worker import execute_run


@pytest.fixture
def imagine_job(tmp_path: Path) -> RunJob:
    scene = tmp_path / "kitchen.png"
    scene.write_bytes(b"png")
    return RunJob(run_id="pour/c00", task="pour", candidate=0, kind="imagine",
                  run_dir=tmp_path / "runs" / "pour" / "c00", text="pour water", scene=scene,
                  seed=5, backends={"imagine": "wan"})


def test_generate_part_calls_the_entry_point(imagine_job: RunJob, monkeypatch,
                                             tmp_path: Path) -> None:
    calls = []

    def imagine_video(task, scene, out_dir, *, seed, generator=None, **options):  # noqa: ANN001, ANN202
        calls.append((task, Path(scene).name, seed, generator, options))
        video = Path(out_dir) / "generated.mp4"
        video.write_bytes(b"mp4")
        return video

    monkeypatch.setattr("exoactor.imagine.api.imagine_video", imagine_video)
    job = imagine_job.model_copy(update={"config": imagine_job.config.model_copy(
        update={"imagine": {"frames": 49}})})
    report = execute_run(job, "generate")
    assert report.error is None
    assert calls == [("pour water", "kitchen.png", 5, "wan", {"frames": 49})]
    assert (job.run_dir / imagine_mod.IMAGINED_VIDEO).read_bytes() == b"mp4"
    entry = json.loads((job.run_dir / "manifest.json").read_text())["stages"]["imagine"]
    assert entry["status"] == "ok" and entry["backend"] == "wan"
    assert entry["config"] == {"text": "pour water", "seed": 5, "frames": 49}
    execute_run(job, "generate")  # current: not generated again
    assert len(calls) == 1
