"""Run directory: skip when current, recompute on change or force, keep artefacts on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exoactor.errors import StageFailed
from exoactor.pipeline import RunDir


def _writer(path: Path, text: str, calls: list[str]):
    def fn() -> str:
        calls.append(text)
        path.write_text(text)
        return text

    return fn


def test_stage_skips_when_current_and_reruns_on_change(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    src = tmp_path / "input.txt"
    src.write_text("a")
    calls: list[str] = []
    out = run.artefact("out.txt")
    r1 = run.run_stage("s", _writer(out, "1", calls), config={"k": 1}, inputs=[src],
                       outputs=["out.txt"])
    r2 = run.run_stage("s", _writer(out, "2", calls), config={"k": 1}, inputs=[src],
                       outputs=["out.txt"])
    assert (r1.status, r2.status) == ("ok", "cached") and calls == ["1"]
    run.run_stage("s", _writer(out, "3", calls), config={"k": 2}, inputs=[src], outputs=["out.txt"])
    src.write_text("b")
    run.run_stage("s", _writer(out, "4", calls), config={"k": 2}, inputs=[src], outputs=["out.txt"])
    run.run_stage("s", _writer(out, "5", calls), config={"k": 2}, inputs=[src], outputs=["out.txt"],
                  backend="other")
    run.run_stage("s", _writer(out, "6", calls), config={"k": 2}, inputs=[src], outputs=["out.txt"],
                  backend="other", force=True)
    assert calls == ["1", "3", "4", "5", "6"]
    manifest = json.loads((tmp_path / "run/manifest.json").read_text())
    entry = manifest["stages"]["s"]
    assert entry["status"] == "ok" and entry["backend"] == "other"
    assert entry["config"] == {"k": 2} and "input.txt" in next(iter(entry["inputs"]))


def test_missing_output_reruns(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    calls: list[str] = []
    out = run.artefact("o.txt")
    run.run_stage("s", _writer(out, "1", calls), outputs=["o.txt"])
    out.unlink()
    run.run_stage("s", _writer(out, "2", calls), outputs=["o.txt"])
    assert calls == ["1", "2"]


def test_failure_keeps_earlier_artefacts_and_resumes(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    calls: list[str] = []
    first = run.artefact("first.txt")
    run.run_stage("first", _writer(first, "ok", calls), outputs=["first.txt"])

    def boom() -> None:
        run.artefact("second.txt.partial").write_text("half")
        raise ValueError("robot fell into a singularity")

    with pytest.raises(StageFailed, match="singularity"):
        run.run_stage("second", boom, inputs=[first], outputs=["second.txt"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["stages"]["second"]["status"] == "failed"
    assert manifest["stages"]["second"]["error_type"] == "ValueError"
    assert "singularity" in manifest["stages"]["second"]["error"]
    assert manifest["stages"]["first"]["status"] == "ok" and first.read_text() == "ok"

    # A new process (new RunDir on the same folder) resumes: first is cached, second reruns.
    again = RunDir(tmp_path)
    r1 = again.run_stage("first", _writer(first, "redo", calls), outputs=["first.txt"])
    second = again.artefact("second.txt")
    r2 = again.run_stage("second", _writer(second, "done", calls), inputs=[first],
                         outputs=["second.txt"])
    assert (r1.status, r2.status) == ("cached", "ok") and calls == ["ok", "done"]


def test_stage_that_forgets_its_output_fails(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    with pytest.raises(StageFailed, match="without writing out.npz"):
        run.run_stage("s", lambda: None, outputs=["out.npz"])


def test_interrupt_is_recorded_and_reraised(tmp_path: Path) -> None:
    run = RunDir(tmp_path)

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.run_stage("track", interrupted, outputs=["rollout.npz"])
    assert RunDir(tmp_path).stage("track")["status"] == "failed"


def test_missing_input_is_clear(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    with pytest.raises(StageFailed, match="does not exist"):
        run.run_stage("s", lambda: None, inputs=[tmp_path / "human_motion.npz"])


def test_corrupt_manifest_is_clear(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{ not json")
    from exoactor.errors import ExoActorError

    with pytest.raises(ExoActorError, match="unreadable manifest"):
        RunDir(tmp_path)


# ----------------------------------------------------------------------------- declared stages
def _fake_calls(run: RunDir, names: tuple[str, ...], ran: list[str], source: Path,
                settings: dict[str, str] | None = None) -> dict:
    """Calls that write each declared output of ``names``: the stage's setting (default: its
    name), the same bytes every time."""
    from exoactor.pipeline import STAGE_BY_NAME, StageCall

    settings = settings or {}

    def call(name: str):  # noqa: ANN202
        text = settings.get(name, name)

        def fn() -> None:
            ran.append(name)
            for out in STAGE_BY_NAME[name].outputs:
                run.artefact(out).parent.mkdir(parents=True, exist_ok=True)
                run.artefact(out).write_text(text)

        external = (source,) if STAGE_BY_NAME[name].external_input else ()
        return lambda: StageCall(fn, "fake", {"setting": text}, external)

    return {n: call(n) for n in names}


def test_forcing_a_stage_reruns_it_and_everything_after_it(tmp_path: Path) -> None:
    from exoactor.pipeline import run_stages

    names = ("clip", "perceive", "retarget", "objects", "track")
    source = tmp_path / "input.mp4"
    source.write_text("video")
    run, ran = RunDir(tmp_path / "run"), []
    calls = _fake_calls(run, names, ran, source)
    run_stages(run, names, calls)
    assert ran == list(names)
    ran.clear()
    res = run_stages(run, names, calls)
    assert ran == [] and {r.status for r in res.values()} == {"cached"}
    # perceive writes the same bytes again, yet everything after it re-runs; clip stays cached
    res = run_stages(run, names, calls, force={"perceive"})
    assert ran == ["perceive", "retarget", "objects", "track"]
    assert res["clip"].status == "cached"
    ran.clear()
    run_stages(run, names, calls, force={"track"})
    assert ran == ["track"]
    ran.clear()
    run_stages(run, names, calls, force={"all"})
    assert ran == list(names)


def test_the_force_rule_holds_across_commands_and_processes(tmp_path: Path) -> None:
    from exoactor.pipeline import run_stages

    source = tmp_path / "input.mp4"
    source.write_text("video")
    run, ran = RunDir(tmp_path / "run"), []
    first, later = ("clip", "perceive"), ("retarget", "track")
    run_stages(run, first + later, _fake_calls(run, first + later, ran, source))
    ran.clear()
    run_stages(run, first, _fake_calls(run, first, ran, source), force={"clip"})
    assert ran == ["clip", "perceive"]
    ran.clear()
    again = RunDir(tmp_path / "run")  # another command, another process: the manifest knows
    run_stages(again, later, _fake_calls(again, later, ran, source))
    assert ran == ["retarget", "track"]
    ran.clear()
    run_stages(again, later, _fake_calls(again, later, ran, source))
    assert ran == []


def test_unknown_forced_stage_lists_the_commands_stages(tmp_path: Path) -> None:
    from exoactor.pipeline import COMMANDS, forced_stages

    with pytest.raises(Exception, match=r"unknown stage\(s\) \['percieve'\].*perceive"):
        forced_stages({"percieve"}, COMMANDS["run"])
    assert forced_stages({"all"}, COMMANDS["motion"]) == {"motion", "track", "report"}
    assert forced_stages((), COMMANDS["run"]) == set()


def test_declared_stages_are_consistent() -> None:
    from pydantic import BaseModel

    from exoactor import artefacts
    from exoactor.pipeline import COMMANDS, STAGE_BY_NAME, STAGES

    names = [s.name for s in STAGES]
    assert len(set(names)) == len(names)
    files = set(artefacts.names())
    written: set[str] = set()
    for stage in STAGES:
        assert issubclass(stage.config_model(), BaseModel), stage.name
        for f in (*stage.inputs, *stage.optional_inputs, *stage.outputs):
            assert f in files, (stage.name, f)
        # a stage reads only what a stage before it writes (or what comes from outside)
        assert set(stage.inputs) <= written, (stage.name, set(stage.inputs) - written)
        written |= set(stage.outputs)
    for command, seq in COMMANDS.items():
        assert all(s in STAGE_BY_NAME for s in seq), command
        assert list(seq) == sorted(seq, key=names.index), command


def test_unforced_changes_propagate_by_content(tmp_path: Path) -> None:
    from exoactor.pipeline import run_stages

    names = ("clip", "perceive", "retarget", "track")
    source = tmp_path / "input.mp4"
    source.write_text("video")
    run, ran = RunDir(tmp_path / "run"), []
    run_stages(run, names, _fake_calls(run, names, ran, source))
    ran.clear()
    # a new perceive setting writes a different human motion: retarget reads it and runs; the
    # fake retarget writes the same bytes as before, so track (reading only those) stays cached
    run_stages(run, names, _fake_calls(run, names, ran, source, {"perceive": "v2"}))
    assert ran == ["perceive", "retarget"]
    ran.clear()
    run_stages(run, names, _fake_calls(run, names, ran, source, {"perceive": "v2"}))
    assert ran == []
    # a new track setting: only track runs
    run_stages(run, names, _fake_calls(run, names, ran, source, {"perceive": "v2", "track": "t2"}))
    assert ran == ["track"]
