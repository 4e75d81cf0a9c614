"""The backend convention (:mod:`exoactor.registry`): a backend is found by reading its module,
imported only when used, built one way; every registry of the package lists exactly what its
modules register."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel

from exoactor.errors import ExoActorError, UnknownName
from exoactor.registry import Registry


def _registries() -> dict[str, Registry]:
    from exoactor.batch.executors import executors
    from exoactor.control.controller import controllers
    from exoactor.imagine.plan.base import planners
    from exoactor.imagine.transfer.base import scene_editors
    from exoactor.imagine.video.base import generators
    from exoactor.perceive.backend import pose_backends

    return {r.variable: r for r in (executors, controllers, planners, scene_editors, generators,
                                    pose_backends)}


REGISTRIES = _registries()


@pytest.fixture
def plugin_pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A throwaway package ``fakebackends_<id>`` on sys.path with a registry module."""
    name = f"fakebackends_{abs(hash(tmp_path)) % 10**8}"
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(f"""
        from exoactor.registry import Registry
        widgets = Registry(kind="widget", package="{name}", variable="widgets")
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name, pkg
    for mod in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[mod]


def _write_backend(pkg: Path, module: str, name: str, body: str = "") -> None:
    (pkg / f"{module}.py").write_text(textwrap.dedent(f"""
        from pydantic import BaseModel, ConfigDict, Field
        from {pkg.name} import widgets
        {body}

        class SpinConfig(BaseModel):
            model_config = ConfigDict(frozen=True, extra="forbid")
            speed_hz: float = Field(1.0, gt=0.0)
            \"\"\"Spin rate [Hz].\"\"\"

        @widgets.register("{name}")
        class Spinner:
            Config = SpinConfig

            def __init__(self, config=None, *, size=1):
                self.config, self.size = config, size
    """))


def test_a_backend_is_one_file_found_without_importing_it(plugin_pkg) -> None:
    pkg_name, pkg = plugin_pkg
    _write_backend(pkg, "spin", "spinner")
    registry = importlib.import_module(pkg_name).widgets
    assert registry.names() == ["spinner"]
    assert f"{pkg_name}.spin" not in sys.modules  # listed by reading, not importing
    widget = registry.build("spinner", {"speed_hz": 3.0}, size=2)
    assert f"{pkg_name}.spin" in sys.modules
    assert widget.config.speed_hz == 3.0 and widget.size == 2
    assert registry.config_class("spinner").__name__ == "SpinConfig"


def test_bad_options_and_unknown_names_are_clear(plugin_pkg) -> None:
    pkg_name, pkg = plugin_pkg
    _write_backend(pkg, "spin", "spinner")
    registry = importlib.import_module(pkg_name).widgets
    with pytest.raises(ExoActorError, match=r"widget 'spinner': invalid options.*speed_hz.*"
                                            r"Valid fields: speed_hz"):
        registry.build("spinner", {"speed_hz": -1})
    with pytest.raises(ExoActorError, match="colour"):
        registry.build("spinner", {"colour": "red"})
    with pytest.raises(UnknownName, match="unknown widget 'wobbler'; available: spinner"):
        registry.get("wobbler")


def test_a_missing_dependency_gives_the_modules_install_hint(plugin_pkg) -> None:
    pkg_name, pkg = plugin_pkg
    _write_backend(pkg, "heavy", "heavy", body=(
        'INSTALL_HINT = "pip install no-such-package"\n'
        "        import no_such_package_xyz  # noqa: F401"))
    registry = importlib.import_module(pkg_name).widgets
    assert registry.names() == ["heavy"]
    with pytest.raises(UnknownName, match="not installed.*pip install no-such-package"):
        registry.get("heavy")


def test_one_name_in_two_modules_is_an_error(plugin_pkg) -> None:
    pkg_name, pkg = plugin_pkg
    _write_backend(pkg, "a", "spinner")
    _write_backend(pkg, "b", "spinner")
    with pytest.raises(ExoActorError, match="registered twice"):
        importlib.import_module(pkg_name).widgets.names()


def _registered_by_import(registry: Registry) -> set[str]:
    """Names the package's modules register when every one of them is imported (modules whose
    dependencies are missing count by what discovery says, which ``get`` then reports)."""
    package = importlib.import_module(registry.package)
    missing = set()
    for info in pkgutil.iter_modules(package.__path__):
        try:
            importlib.import_module(f"{registry.package}.{info.name}")
        except ImportError:
            missing |= {f.name for f in registry.found().values()
                        if f.module == f"{registry.package}.{info.name}"}
    return set(registry._entries) | missing


@pytest.mark.parametrize("variable", sorted(REGISTRIES))
def test_every_registry_lists_exactly_what_its_modules_register(variable: str) -> None:
    registry = REGISTRIES[variable]
    assert registry.names(), variable
    assert set(registry.names()) == _registered_by_import(registry)


@pytest.mark.parametrize("variable", sorted(REGISTRIES))
def test_every_backend_has_one_frozen_config_and_builds_from_defaults(variable: str) -> None:
    registry = REGISTRIES[variable]
    for name in registry.names():
        try:
            config = registry.config_class(name)
        except UnknownName as exc:  # an optional dependency is not installed here
            assert "not installed" in str(exc), exc
            continue
        assert issubclass(config, BaseModel), name
        assert config.model_config.get("frozen") and config.model_config.get("extra") == \
            "forbid", name
        assert isinstance(registry.validate(name, {}), config)


def test_config_files_written_before_the_convention_still_load() -> None:
    """Backend settings moved into ``*_options``; the old places are still read."""
    from exoactor.batch import BatchConfig
    from exoactor.perceive.config import PerceiveConfig
    from exoactor.runner import RunConfig

    p = PerceiveConfig.model_validate({"mediapipe": {"min_detection_confidence": 0.7}})
    assert p.backend_options == {"min_detection_confidence": 0.7}
    assert REGISTRIES["pose_backends"].validate(p.backend, p.backend_options) \
        .min_detection_confidence == 0.7
    b = BatchConfig(executor="ray", address="auto", max_retries=2)
    assert b.executor_options == {"address": "auto", "max_retries": 2}
    assert BatchConfig(address="auto").executor_options == {}  # local ignored it, and does
    r = RunConfig.model_validate({"report_fps": 12})
    assert r.report.fps == 12 and r.report_fps == 12


def test_get_robot_hands_variant() -> None:
    from exoactor.robots import get_spec, robot_name

    assert robot_name("g1", hands=True) == "g1_hands" == get_spec("g1_hands", hands=True).name
    assert robot_name("g1") == "g1"
    with pytest.raises(UnknownName, match="unknown robot 'h1'"):
        get_spec("h1", hands=True)
