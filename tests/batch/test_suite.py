"""Suite files and planning: schema, defaults, candidates, seeds, run directories, job keys."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from exoactor.batch import load_suite, plan_runs
from exoactor.batch.suite import validate_suite
from exoactor.errors import ExoActorError


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        (folder / n).write_bytes(b"x")


def test_yaml_suite_expands_into_candidates(tmp_path: Path, suite_file) -> None:
    _touch(tmp_path / "in", "a.npz", "b.npz", "walk.mp4", "kitchen.png")
    path = suite_file(tmp_path, """
name: night
candidates: 2
seeds: [7, 9, 11]
backends: {controller: twist2}
config: {report_fps: 10, track: {drift: {enabled: false}}}
tasks:
  - name: swing
    motion: [in/a.npz, in/b.npz]
    candidates: 1
  - video: in/walk.mp4
    start_s: 1.0
    end_s: 2.5
    config: {track: {reference: {joint_noise_rad: 0.02}}}
  - text: Pour water into the cup!
    scene: in/kitchen.png
    candidates: 3
""")
    suite = load_suite(path)
    assert suite.name == "night" and suite.root == tmp_path.resolve()
    jobs = plan_runs(suite, tmp_path / "out")
    assert [j.run_id for j in jobs] == ["swing/c00", "swing/c01", "walk/c00", "walk/c01",
                                        "pour-water-into-the-cup/c00",
                                        "pour-water-into-the-cup/c01",
                                        "pour-water-into-the-cup/c02"]
    assert [j.kind for j in jobs] == ["motion"] * 2 + ["video"] * 2 + ["imagine"] * 3
    assert [j.input.name for j in jobs[:2]] == ["a.npz", "b.npz"]
    assert [j.seed for j in jobs] == [7, 7, 7, 9, 7, 9, 11]
    assert all(j.run_dir == (tmp_path / "out" / "runs" / j.run_id).resolve() for j in jobs)
    video = jobs[2]
    cfg = video.run_config()
    assert (cfg.start_s, cfg.end_s, cfg.report_fps) == (1.0, 2.5, 10)
    assert cfg.track.drift.enabled is False and cfg.track.reference.joint_noise_rad == 0.02
    assert cfg.track.reference.noise_seed == 7 and jobs[3].track_config().reference.noise_seed == 9
    assert jobs[4].text == "Pour water into the cup!" and jobs[4].scene.name == "kitchen.png"
    assert jobs[4].needs_gpu and not video.needs_gpu


def test_backend_lists_sweep_candidates(tmp_path: Path) -> None:
    _touch(tmp_path, "clip.mp4")
    suite = validate_suite({"root": str(tmp_path), "candidates": 2, "tasks": [
        {"name": "t", "video": "clip.mp4", "backends": {"perceive": ["mediapipe", "mediapipe"]},
         "config": {"track": {"reference": {"joint_noise_rad": 0.01}}}}]})
    jobs = plan_runs(suite, tmp_path / "out")
    assert len(jobs) == 4
    assert [j.run_config().perceive.backend for j in jobs] == ["mediapipe"] * 4
    assert [j.seed for j in jobs] == [0, 1, 0, 1]


def test_job_key_tracks_what_shapes_the_result(tmp_path: Path) -> None:
    _touch(tmp_path, "a.npz")
    suite = validate_suite({"root": str(tmp_path), "tasks": [{"motion": "a.npz"}]})
    (job,) = plan_runs(suite, tmp_path / "out")
    assert job.run_id == "a/c00"
    assert job.key() == plan_runs(suite, tmp_path / "elsewhere")[0].key()  # folder: not in key
    assert job.key() == job.model_copy(update={"crash_at": "track"}).key()  # drill: not in key
    assert job.key() != job.model_copy(update={"seed": 1}).key()
    other = validate_suite({"root": str(tmp_path), "config": {"report": False},
                            "tasks": [{"motion": "a.npz"}]})
    assert plan_runs(other, tmp_path / "out")[0].key() != job.key()


@pytest.mark.parametrize(("tasks", "message"), [
    ([{"name": "x", "motion": "a.npz", "video": "a.npz"}], "exactly one of"),
    ([{"name": "x", "text": "wave"}], "needs a 'scene'"),
    ([{"name": "x", "motion": "a.npz", "start_s": 2, "end_s": 1}], "must be after start_s"),
    ([{"name": "bad name!", "motion": "a.npz"}], "tasks.0.name"),
    ([{"motion": "a.npz"}, {"motion": "a.npz"}], "appear more than once"),
    ([{"name": "x", "motion": "a.npz", "candidates": 0}], "tasks.0.candidates"),
    ([{"name": "x", "motion": "a.npz", "colour": "red"}], "tasks.0.colour"),
])
def test_invalid_suites_name_the_field(tmp_path: Path, tasks: list, message: str) -> None:
    _touch(tmp_path, "a.npz")
    with pytest.raises(ExoActorError, match="suite.yaml: not a valid suite") as err:
        validate_suite({"root": str(tmp_path), "tasks": tasks}, source="suite.yaml")
    assert message in str(err.value)


def test_missing_input_names_task_field_and_root(tmp_path: Path, suite_file) -> None:
    path = suite_file(tmp_path, "tasks:\n  - {name: walk, video: clips/none.mp4}\n")
    with pytest.raises(ExoActorError, match=r"task 'walk' field 'video' names clips/none.mp4, "
                                            r"which does not exist"):
        load_suite(path)


def test_unreadable_suite(tmp_path: Path, suite_file) -> None:
    with pytest.raises(ExoActorError, match="could not read the suite"):
        load_suite(suite_file(tmp_path, "tasks: [unclosed\n"))
    with pytest.raises(ExoActorError, match="not a mapping"):
        load_suite(suite_file(tmp_path, "- just\n- a list\n"))
    with pytest.raises(ExoActorError, match="could not read the suite"):
        load_suite(tmp_path / "absent.yaml")


def test_planning_fails_early(tmp_path: Path) -> None:
    _touch(tmp_path, "a.npz")
    few = validate_suite({"root": str(tmp_path), "candidates": 3, "seeds": [1, 2],
                          "tasks": [{"name": "t", "motion": "a.npz"}]})
    with pytest.raises(ExoActorError, match="need 3 seeds, but 'seeds' lists 2"):
        plan_runs(few, tmp_path)
    unknown = validate_suite({"root": str(tmp_path), "backends": {"controller": "nope"},
                              "tasks": [{"name": "t", "motion": "a.npz"}]})
    from exoactor.control import controllers

    listed = ", ".join(controllers.names())  # every registered one (adding one edits no test)
    with pytest.raises(ExoActorError, match=rf"unknown controller 'nope'; available: {listed}"):
        plan_runs(unknown, tmp_path)
    bad = validate_suite({"root": str(tmp_path), "config": {"track": {"post_fall_s": -1}},
                          "tasks": [{"name": "t", "motion": "a.npz"}]})
    with pytest.raises(ExoActorError, match="task 't': invalid stage config: post_fall_s"):
        plan_runs(bad, tmp_path)


def test_identical_candidates_are_warned_about(tmp_path: Path, caplog) -> None:
    _touch(tmp_path, "a.npz")
    suite = validate_suite({"root": str(tmp_path), "candidates": 2,
                            "tasks": [{"name": "t", "motion": "a.npz"}]})
    with caplog.at_level(logging.WARNING):
        plan_runs(suite, tmp_path)
    assert "candidates will be identical" in caplog.text
