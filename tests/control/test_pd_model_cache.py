"""The PD model is compiled once per distinct input in a process (the filter's loops and
plant and a seat search's rollouts build the same model many times); every caller gets its own
copy, equal to a fresh compile."""

from __future__ import annotations

import numpy as np

from exoactor.control import sim
from exoactor.control.sim import JointGroup, build_pd_model
from exoactor.formats.scene import ObjectPose, Scene, SceneObject
from exoactor.robots import get_robot


def _group() -> JointGroup:
    robot = get_robot("g1")
    names = tuple(robot.body_joint_names)
    n = len(names)
    return JointGroup(names, np.full(n, 80.0), np.full(n, 2.0), np.full(n, 60.0))


def _scene(x_m: float, note: str = "") -> Scene:
    seat = SceneObject(kind="seat", pose=ObjectPose(pos=(x_m, 0.0, 0.22)), size=(0.4, 0.5, 0.44),
                       note=note)
    return Scene(objects=(seat,))


def _arrays(model) -> dict[str, np.ndarray]:
    out = {}
    for name in dir(model):
        if name.startswith("_"):
            continue
        value = getattr(model, name, None)
        if isinstance(value, np.ndarray):
            out[name] = value.copy()
    return out


def test_equal_inputs_compile_once_and_each_caller_owns_its_copy(monkeypatch) -> None:
    compiled = []
    real = sim._compile_pd_model
    monkeypatch.setattr(sim, "_compile_pd_model",
                        lambda *a: compiled.append(1) or real(*a))
    monkeypatch.setattr(sim, "_pd_models", type(sim._pd_models)())
    path, group = get_robot("g1").mjcf_path, _group()
    a = build_pd_model(path, [group], _scene(0.6))
    b = build_pd_model(path, [group], _scene(0.6, note="edited note: not physics"))
    assert len(compiled) == 1 and a is not b
    fresh = _arrays(real(path, [group], _scene(0.6)))
    got = _arrays(b)
    assert fresh.keys() == got.keys()
    assert all(np.array_equal(fresh[k], got[k], equal_nan=True) for k in fresh)
    a.actuator_gainprm[:, 0] = 0.0  # the safety layer's damping mode does this to its model
    a.opt.timestep = 0.004
    c = build_pd_model(path, [group], _scene(0.6))
    assert np.array_equal(c.actuator_gainprm, fresh["actuator_gainprm"])
    assert c.opt.timestep == b.opt.timestep != 0.004
    # another seat pose, other gains, no scene: compiled afresh
    build_pd_model(path, [group], _scene(0.61))
    stiff = JointGroup(group.names, group.kp * 2, group.kd, group.torque_limit_nm)
    build_pd_model(path, [stiff], _scene(0.6))
    build_pd_model(path, [group])
    assert len(compiled) == 4


def test_the_cache_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(sim, "_pd_models", type(sim._pd_models)())
    path, group = get_robot("g1").mjcf_path, _group()
    for i in range(sim.PD_MODELS_KEPT + 2):
        build_pd_model(path, [group], _scene(0.5 + 0.01 * i))
    assert len(sim._pd_models) == sim.PD_MODELS_KEPT
