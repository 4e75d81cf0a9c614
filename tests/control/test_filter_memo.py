"""Reuse of physics filter runs within a ``run`` (:mod:`exoactor.control.filter.memo`): the
objects stage's filtered seat pair is not filtered again by the track stage; the reuse is
keyed by content, writes what a fresh run writes, and stops at the scope's end."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from exoactor import artefacts
from exoactor.control.filter import FilterConfig, filter_motion
from exoactor.control.filter import memo as filter_memo
from exoactor.control.filter import run as filter_run
from exoactor.control.track import TrackConfig
from exoactor.formats import load_npz, save_npz
from exoactor.formats.motion import RobotMotion
from exoactor.formats.scene import ObjectPose, Scene, SceneObject, load_scene, save_scene

FAST = FilterConfig(workers=1, candidates=4, random_candidates=0, horizon_s=0.5,
                    corrector_candidate=False)
"""A cheap filter: 4 candidates, 0.5 s horizon, in-process, no corrector run."""

TIMING = {"wall_s", "raw_wall_s", "filter_wall_s", "filter_s_per_motion_s", "real_time_factor",
          "rtf"}


@pytest.fixture(scope="module")
def short_walk(walk_motion) -> RobotMotion:
    return walk_motion.slice(0, int(1.2 * walk_motion.fps))


@pytest.fixture
def computes(monkeypatch) -> list[str]:
    """Counts the filter runs actually computed (sources of the motions)."""
    calls: list[str] = []
    real = filter_run._compute

    def counted(motion, *args, **kwargs):
        calls.append(motion.source)
        return real(motion, *args, **kwargs)

    monkeypatch.setattr(filter_run, "_compute", counted)
    return calls


def _seat_scene(x_m: float = 0.6) -> Scene:
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(x_m, 0.0, 0.22)), size=(0.4, 0.5, 0.44),
                       evidence=((10, 20),), note="a seat for the test")
    return Scene(source="test", fps=30.0, objects=(seat,))


def _without_timing(x):
    if isinstance(x, dict):
        return {k: _without_timing(v) for k, v in x.items() if k not in TIMING}
    if isinstance(x, list):
        return [_without_timing(v) for v in x]
    return x


def _files(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def test_key_survives_the_run_directory_round_trip(short_walk, tmp_path) -> None:
    """The track stage reads the seat pair back from ``seated_motion.npz`` and ``scene.json``:
    the key of what it filters equals the key of what the objects stage filtered (else the
    memo never hits), and a changed seat or setting changes the key."""
    scene = _seat_scene()
    track = TrackConfig().model_copy(update={"scene": scene})
    save_npz(short_walk, tmp_path / "m.npz")
    save_scene(scene, tmp_path / "scene.json")
    back = load_npz(tmp_path / "m.npz", expect=RobotMotion)
    assert back.source != short_walk.source
    track_back = TrackConfig().model_copy(update={"scene": load_scene(tmp_path / "scene.json")})
    key = filter_memo.run_key(short_walk, FAST, track)
    assert filter_memo.run_key(back, FAST, track_back) == key
    moved = TrackConfig().model_copy(update={"scene": _seat_scene(0.61)})
    assert filter_memo.run_key(back, FAST, moved) != key
    assert filter_memo.run_key(back, FAST.model_copy(update={"seed": 1}), track) != key
    other = back.slice(0, back.num_frames - 1)
    assert filter_memo.run_key(other, FAST, track) != key


@pytest.mark.slow
def test_equal_runs_are_filtered_once_in_a_scope_and_write_the_same_files(
        short_walk, tmp_path, computes) -> None:
    scene = _seat_scene()
    track = TrackConfig().model_copy(update={"scene": scene})
    fresh = tmp_path / "fresh"
    filter_motion(short_walk, FAST, track, out_dir=fresh, show_progress=False)
    assert len(computes) == 1
    save_npz(short_walk, tmp_path / "seated.npz")
    save_scene(scene, tmp_path / "scene.json")
    back = load_npz(tmp_path / "seated.npz", expect=RobotMotion)
    track_back = TrackConfig().model_copy(update={"scene": load_scene(tmp_path / "scene.json")})
    with filter_memo.remembering() as memo:
        first = filter_motion(short_walk, FAST, track, show_progress=False)  # the objects stage
        again = tmp_path / "again"
        res = filter_motion(back, FAST, track_back, out_dir=again, show_progress=False)
        assert (memo.hits, memo.misses) == (1, 1)
    assert computes == [short_walk.source, short_walk.source]  # not the reloaded one
    assert res.rollout.source == back.source and res.report["motion"] == back.source
    assert res.executable.source == f"{back.source} (physics filter)"
    assert first.report["motion"] == short_walk.source  # the stored run is not relabelled
    # what the reused run writes is what a fresh run writes (timing figures aside)
    a, b = _files(fresh), _files(again)
    assert a.keys() == b.keys()
    for name in (artefacts.ROLLOUT, artefacts.EXECUTABLE_MOTION):
        assert a[name] == b[name], name
    for name in (artefacts.METRICS, artefacts.FILTER_REPORT):
        fa, fb = (json.loads((d / name).read_text()) for d in (fresh, again))
        fa.pop("motion"), fb.pop("motion")  # the motion's source: the file it was read from
        assert _without_timing(fa) == _without_timing(fb), name
    # outside a scope, and after it closed, every call computes
    assert filter_memo.active() is None
    filter_motion(back, FAST, track_back, show_progress=False)
    assert len(computes) == 3


def test_a_scope_computes_other_inputs_and_nests(short_walk, monkeypatch) -> None:
    """Different inputs are computed, equal ones reused; nested scopes share one memo that
    goes when the outer one closes (the filter's work replaced by a stub here)."""
    calls: list[str] = []

    def fake(motion, config, track, out_dir, show_progress):
        calls.append(filter_memo.run_key(motion, config, track))
        return f"run {len(calls)}"

    monkeypatch.setattr(filter_run, "_compute", fake)
    monkeypatch.setattr(filter_run, "_finish", lambda done, *a: done)
    t1 = TrackConfig().model_copy(update={"scene": _seat_scene(0.6)})
    t2 = TrackConfig().model_copy(update={"scene": _seat_scene(0.7)})
    with filter_memo.remembering() as outer:
        assert filter_motion(short_walk, FAST, t1) == "run 1"
        with filter_memo.remembering() as inner:
            assert inner is outer
            assert filter_motion(short_walk, FAST, t2) == "run 2"
            assert filter_motion(short_walk, FAST, t1) == "run 1"
        assert filter_memo.active() is outer
        assert filter_motion(short_walk, FAST, t2) == "run 2"
    assert filter_memo.active() is None
    assert filter_motion(short_walk, FAST, t1) == "run 3"
    assert len(calls) == 3
