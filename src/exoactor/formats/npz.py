"""``.npz`` storage of the motion containers (no pickles; strings stored as unicode arrays)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from exoactor.errors import InvalidMotionFile
from exoactor.fileio import atomic_path
from exoactor.formats.motion import HumanMotion, RobotMotion, Rollout

FORMAT_VERSION = 1
_KINDS = {"RobotMotion": RobotMotion, "HumanMotion": HumanMotion, "Rollout": Rollout}
_STRING_FIELDS = {"robot", "joint_names"}


def save_npz(obj: RobotMotion | HumanMotion | Rollout, path: str | Path) -> Path:
    """Save a container to ``path`` atomically. Optional fields that are None are omitted."""
    path = Path(path)
    data: dict[str, np.ndarray] = {"kind": np.array(type(obj).__name__),
                                   "format_version": np.array(FORMAT_VERSION)}
    for name, value in vars(obj).items():
        if name == "source" or value is None:
            continue
        if name == "extras":
            for key, arr in value.items():
                data[f"extras.{key}"] = np.asarray(arr)
            continue
        data[name] = np.asarray(value) if name not in _STRING_FIELDS else np.array(value, dtype=str)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **data)
    return path


def load_npz(path: str | Path, expect: type | None = None):
    """Load a container saved by :func:`save_npz`, validating every field.

    Args:
        path: the ``.npz`` file.
        expect: the container class the caller needs; another kind is an error.
    """
    path = Path(path)
    src = str(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise InvalidMotionFile(src, "<file>", "does not exist") from None
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InvalidMotionFile(src, "<file>", f"is not a readable .npz ({exc})") from None
    kind = str(data.pop("kind", "RobotMotion"))
    data.pop("format_version", None)
    cls = _KINDS.get(kind)
    if cls is None:
        raise InvalidMotionFile(src, "kind", f"is '{kind}', expected one of {list(_KINDS)}")
    if expect is not None and cls is not expect:
        raise InvalidMotionFile(src, "kind", f"is '{kind}', expected '{expect.__name__}'")
    kwargs: dict = {"source": src}
    extras = {}
    for key, value in data.items():
        if key.startswith("extras."):
            extras[key.removeprefix("extras.")] = value
        elif key == "robot":
            kwargs[key] = str(value)
        elif key == "joint_names":
            kwargs[key] = tuple(str(v) for v in value)
        elif key == "fps":
            kwargs[key] = float(value)
        else:
            kwargs[key] = value
    if cls is HumanMotion:
        kwargs["extras"] = extras
    import dataclasses

    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(kwargs) - names
    if unknown:
        raise InvalidMotionFile(src, sorted(unknown)[0], f"is not a field of {kind}")
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    for name in required:
        if name not in kwargs:
            raise InvalidMotionFile(src, name, f"is missing (a {kind} needs {', '.join(required)})")
    return cls(**kwargs)
