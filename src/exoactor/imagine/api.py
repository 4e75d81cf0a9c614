"""Entry points for the command line: flags -> :class:`ImagineConfig` -> one call.

``exoactor imagine`` calls :func:`imagine_command`; ``exoactor run --task ... --scene ...``
calls :func:`exoactor.runner.run_task_command` with the same flags. A flag sets the obvious
option of the chosen backend (``--video`` -> the file generator's ``path``, ``--model`` -> the
generator's ``model``, ``--device`` -> the ``device`` of the chosen backends whose ``Config``
has one); anything else goes in a config file (JSON or TOML with :class:`ImagineConfig` fields,
e.g. ``generator_options``), which the flags override.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exoactor import artefacts
from exoactor.fileio import read_config_file
from exoactor.imagine.config import ImagineConfig
from exoactor.imagine.run import ImagineSummary, imagine
from exoactor.registry import Registry


def _takes(registry: Registry, name: str, field: str) -> bool:
    """Whether backend ``name``'s ``Config`` has ``field`` (e.g. ``device``)."""
    return field in registry.config_class(name).model_fields


def load_options(path: Path | None) -> dict[str, Any]:
    """An options file (``.json`` or ``.toml``) as a dict of :class:`ImagineConfig` fields."""
    if path is None:
        return {}
    data = read_config_file(path, "options")
    return data.get("imagine", data)


def build_config(*, planner: str | None = None, editor: str | None = None,
                 generator: str | None = None, video: Path | None = None,
                 model: str | None = None, editor_model: str | None = None,
                 device: str | None = None, candidates: int | None = None,
                 seed: int | None = None, options: Path | None = None) -> ImagineConfig:
    """The config the flags describe (unset flags keep the options file's or the default)."""
    data = load_options(options)
    for key, value in (("planner", planner), ("editor", editor), ("generator", generator),
                       ("candidates", candidates), ("seed", seed)):
        if value is not None:
            data[key] = value
    if video is not None and data.get("generator") in (None, "file"):
        data["generator"] = "file"
    gen = dict(data.get("generator_options", {}))
    ed = dict(data.get("editor_options", {}))
    if video is not None:
        gen["path"] = str(video)
    if model is not None:
        gen["model"] = model
    if editor_model is not None:
        ed["model"] = editor_model
    if device is not None:
        from exoactor.imagine.transfer.base import scene_editors
        from exoactor.imagine.video.base import generators

        fields = ImagineConfig.model_fields
        if _takes(generators, data.get("generator") or fields["generator"].default, "device"):
            gen["device"] = device
        if _takes(scene_editors, data.get("editor") or fields["editor"].default, "device"):
            ed["device"] = device
    data["generator_options"], data["editor_options"] = gen, ed
    return ImagineConfig.model_validate(data)


def imagine_command(task: str, scene: Path, out: Path, *, force: set[str] | None = None,
                    **flags: Any) -> ImagineSummary:
    """``exoactor imagine``: flags (see :func:`build_config`) -> run directory with
    ``scene.png``, ``plan.json``, ``human_scene.png``, ``video.mp4``."""
    return imagine(task, scene, out, build_config(**flags), force=set(force or ()))


def imagine_video(task: str, scene: Path, out_dir: Path, *, seed: int,
                  generator: str | None = None, **options: Any) -> Path:
    """The batch runner's entry point: imagine one candidate and return its checked video.

    The imagine stages run in their own run directory ``out_dir / "imagine"`` (the batch's run
    directory keeps its own manifest); ``options`` are :func:`build_config` flags.
    """
    config = build_config(generator=generator, seed=seed, **options)
    return imagine(task, scene, Path(out_dir) / artefacts.IMAGINE_DIR, config).video
