"""Named assets (robot models, policies, reference motions): resolved, fetched and verified.

Resolution order for an asset name:

1. the folder named by ``EXOACTOR_ASSETS`` (a tree laid out like ``<root>/twist2/g1/...``),
   when it holds every file of the asset;
2. the folder recorded in the user config (``assets = "..."`` in
   ``$XDG_CONFIG_HOME/exoactor/config.toml``, default ``~/.config/exoactor/config.toml``, or the
   file ``EXOACTOR_CONFIG`` names), same layout: ``exoactor assets use FOLDER`` (run by
   ``scripts/install.sh``) records it, so commands find the assets in a new shell;
3. the user cache (``EXOACTOR_CACHE`` or ``~/.cache/exoactor/assets``), same layout;
4. a download from the upstream address pinned below into the cache, each file checked against
   its sha256 (:file:`exoactor/data/twist2.sha256`); a mismatch deletes the file and fails.

``EXOACTOR_ASSET_MIRROR`` replaces the upstream base URL (a local mirror, or the tests' server).

Collections and their upstreams:

* ``twist2``: files of ``amazon-far/TWIST2`` at a pinned commit, downloaded one by one (MIT).
* ``sports2d``: the sample clip ``Sports2D/Demo/demo.mp4`` (real footage of people, BSD-3) from
  the ``sports2d==0.8.34`` wheel on PyPI, fetched with ``pip download --no-deps``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from exoactor.errors import AssetError, UnknownName

logger = logging.getLogger(__name__)

TWIST2_COMMIT = "d5c7108e9ef82d1b8770e5b692f27a1294f3aa8a"
TWIST2_BASE_URL = f"https://raw.githubusercontent.com/amazon-far/TWIST2/{TWIST2_COMMIT}"
DOWNLOAD_TIMEOUT_S = 60.0

_NOT_FOUND = (
    "asset '{name}' is not available: not in EXOACTOR_ASSETS ({env}), not in the user config's "
    "folder ({recorded}), not in the cache ({cache}), and the download failed: {reason}. Fix: "
    "record a folder holding '{first}' with `exoactor assets use FOLDER` (or point "
    "EXOACTOR_ASSETS at it), or retry with network access (`exoactor assets fetch {name}`).")
_HASH_MISMATCH = (
    "{path}: sha256 {got} does not match the pinned {want}; the file was deleted. "
    "The download was corrupted or the upstream changed: retry `exoactor assets fetch {name}`.")


@dataclass(frozen=True)
class AssetSpec:
    """One named asset: a group of files under one upstream collection."""

    name: str
    description: str
    collection: str
    """Folder of the collection under an asset root, e.g. ``"twist2"``."""
    main: str
    """The file (or folder, ending in '/') returned by :func:`resolve_asset`, relative to the collection."""
    prefixes: tuple[str, ...]
    """Files of the collection that belong to this asset: those starting with one of these."""


def _twist2_upstream(rel: str) -> str:
    """Upstream repository path of a file of the twist2 collection."""
    if rel.startswith("g1/"):
        return "assets/" + rel
    if rel.startswith("policy/"):
        return "assets/ckpts/" + rel.removeprefix("policy/")
    if rel.startswith("motions/accad"):
        return "assets/ref_motions/" + rel.removeprefix("motions/")
    if rel.startswith("motions/"):
        return "assets/example_motions/" + rel.removeprefix("motions/")
    return rel


ASSETS: dict[str, AssetSpec] = {a.name: a for a in (
    AssetSpec("g1_29dof", "Unitree G1 29-DoF MJCF (TWIST2 sim2sim) with meshes", "twist2",
              "g1/g1_sim2sim_29dof.xml", ("g1/g1_sim2sim_29dof.xml", "g1/meshes/")),
    AssetSpec("g1_29dof_hands", "Unitree G1 29-DoF + two Dex3-1 hands MJCF with meshes",
              "twist2", "g1/g1_sim2sim_29dof_with_hands.xml",
              ("g1/g1_sim2sim_29dof_with_hands.xml", "g1/meshes/")),
    AssetSpec("twist2_policy", "TWIST2 general motion-tracking policy (ONNX, 50 Hz, 29 DoF)",
              "twist2", "policy/twist2_1017_20k.onnx", ("policy/twist2_1017_20k.onnx",)),
    AssetSpec("g1_motions", "11 G1 reference motions (TWIST2/GMR pkl)", "twist2",
              "motions/", ("motions/",)),
    AssetSpec("twist2_license", "TWIST2 licence (MIT)", "twist2", "LICENSE", ("LICENSE",)),
    AssetSpec("sample_clip", "Sports2D demo clip: 230 frames, 30 fps, real people (BSD-3)",
              "sports2d", "demo.mp4", ("demo.mp4",)),
)}

SPORTS2D_WHEEL = "sports2d==0.8.34"
_WHEEL_MEMBERS = {"sports2d": (SPORTS2D_WHEEL, {"demo.mp4": "Sports2D/Demo/demo.mp4"})}

_UPSTREAM = {"twist2": (TWIST2_BASE_URL, _twist2_upstream)}


@cache
def _pinned_hashes(collection: str) -> dict[str, str]:
    """Relative path -> sha256 of every file of a collection, from the packaged table."""
    text = resources.files("exoactor.data").joinpath(f"{collection}.sha256").read_text()
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            digest, rel = line.split(maxsplit=1)
            out[rel.removeprefix("./")] = digest
    return out


def asset_spec(name: str) -> AssetSpec:
    try:
        return ASSETS[name]
    except KeyError:
        raise UnknownName(f"unknown asset '{name}'; available: {', '.join(ASSETS)}") from None


def asset_files(name: str) -> dict[str, str]:
    """Relative path (within the collection) -> pinned sha256 of every file of asset ``name``."""
    spec = asset_spec(name)
    return {rel: h for rel, h in _pinned_hashes(spec.collection).items()
            if rel.startswith(spec.prefixes)}


def env_root() -> Path | None:
    """The folder named by ``EXOACTOR_ASSETS``, if set."""
    value = os.environ.get("EXOACTOR_ASSETS")
    return Path(value).expanduser() if value else None


def user_config_path() -> Path:
    """The user config file (``EXOACTOR_CONFIG``, else ``$XDG_CONFIG_HOME/exoactor/config.toml``)."""
    value = os.environ.get("EXOACTOR_CONFIG")
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME")
    return (Path(base).expanduser() if base else Path.home() / ".config") / "exoactor/config.toml"


def recorded_root() -> Path | None:
    """The asset folder recorded in the user config (``assets = "..."``), if any."""
    import tomllib

    path = user_config_path()
    if not path.is_file():
        return None
    try:
        value = tomllib.loads(path.read_text()).get("assets")
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise AssetError(f"{path}: not a readable TOML user config ({exc}); fix or delete it, "
                         "then run `exoactor assets use FOLDER`") from None
    return Path(value).expanduser() if isinstance(value, str) and value else None


def record_asset_root(folder: str | Path) -> Path:
    """Record ``folder`` (laid out as ``<folder>/twist2/...``) in the user config; returns it.

    Other lines of the config are kept; the write is atomic.
    """
    from exoactor.fileio import atomic_path

    root = Path(folder).expanduser().resolve()
    known = sorted({spec.collection for spec in ASSETS.values()})
    if not any((root / c).is_dir() for c in known):
        raise AssetError(f"{root} holds none of the asset collections ({', '.join(c + '/' for c in known)}); "
                         "give the folder that contains them (e.g. ../shared/assets)")
    path = user_config_path()
    lines = path.read_text().splitlines() if path.is_file() else []
    lines = [ln for ln in lines if ln.split("=", 1)[0].strip() != "assets"]
    # a TOML basic string: JSON's escaping is valid TOML for paths
    lines.insert(0, f"assets = {json.dumps(str(root))}")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return root


def asset_roots() -> list[tuple[str, Path | None]]:
    """Where assets are looked for, in order: (source, folder or None when unset)."""
    return [("env", env_root()), ("config", recorded_root()), ("cache", cache_root())]


def cache_root() -> Path:
    """The user cache of downloaded assets."""
    value = os.environ.get("EXOACTOR_CACHE")
    base = Path(value).expanduser() if value else Path.home() / ".cache" / "exoactor"
    return base / "assets"


def _complete(root: Path | None, spec: AssetSpec, files: dict[str, str]) -> bool:
    return root is not None and all((root / spec.collection / rel).is_file() for rel in files)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _url(collection: str, rel: str) -> str:
    base, upstream = _UPSTREAM[collection]
    mirror = os.environ.get("EXOACTOR_ASSET_MIRROR")
    return f"{(mirror or base).rstrip('/')}/{upstream(rel)}"


def _download(name: str, url: str, dest: Path, want: str) -> None:
    """Download ``url`` to ``dest`` atomically, checking its sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp, open(part, "wb") as fh:
            while chunk := resp.read(1 << 20):
                fh.write(chunk)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        part.unlink(missing_ok=True)
        raise AssetError(f"{url}: {exc}") from exc
    got = sha256_file(part)
    if got != want:
        part.unlink(missing_ok=True)
        raise AssetError(_HASH_MISMATCH.format(path=dest, got=got, want=want, name=name))
    os.replace(part, dest)


def fetch_asset(name: str, force: bool = False) -> Path:
    """Download every missing (or, with ``force``, every) file of ``name`` into the cache.

    Returns:
        The cache folder of the asset's collection.
    """
    from exoactor.ui import progress

    spec = asset_spec(name)
    files = asset_files(name)
    root = cache_root() / spec.collection
    todo = [rel for rel in files if force or not (root / rel).is_file()]
    if todo and spec.collection in _WHEEL_MEMBERS:
        _fetch_from_wheel(name, spec.collection, todo, root, files)
        return root
    for rel in progress(todo, f"fetch {name}", unit="file"):
        url = _url(spec.collection, rel)
        logger.info("downloading %s", url)
        _download(name, url, root / rel, files[rel])
    return root


def _fetch_from_wheel(name: str, collection: str, todo: list[str], root: Path,
                      files: dict[str, str]) -> None:
    """Extract files of a collection that ships inside a PyPI wheel (``pip download``)."""
    requirement, members = _WHEEL_MEMBERS[collection]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", tmp,
               requirement]
        logger.info("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise AssetError(f"pip download {requirement} failed: {proc.stderr.strip()[-400:]}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            for rel in todo:
                dest = root / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                part = dest.with_name(dest.name + ".part")
                with wheel.open(members[rel]) as src, open(part, "wb") as fh:
                    while chunk := src.read(1 << 20):
                        fh.write(chunk)
                got = sha256_file(part)
                if got != files[rel]:
                    part.unlink(missing_ok=True)
                    raise AssetError(_HASH_MISMATCH.format(path=dest, got=got, want=files[rel],
                                                           name=name))
                os.replace(part, dest)


def resolve_asset(name: str, download: bool = True) -> Path:
    """Path of the main file (or folder) of asset ``name``; see the module docstring for order."""
    spec = asset_spec(name)
    files = asset_files(name)
    env = env_root()
    for _, root in asset_roots():
        if _complete(root, spec, files):
            return root / spec.collection / spec.main  # type: ignore[operator]
    if not download:
        raise AssetError(f"asset '{name}' is not in EXOACTOR_ASSETS ({env}), the user config's "
                         f"folder ({recorded_root()}, {user_config_path()}) nor the cache "
                         f"({cache_root()}); run `exoactor assets fetch {name}` or "
                         "`exoactor assets use FOLDER`")
    try:
        root = fetch_asset(name)
    except AssetError as exc:
        raise AssetError(_NOT_FOUND.format(name=name, env=env, recorded=recorded_root(),
                                           cache=cache_root(), reason=exc,
                                           first=f"{spec.collection}/{spec.main}")) from exc
    return root / spec.main


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of checking one asset's files against their pinned sha256."""

    name: str
    root: Path | None
    ok: int
    missing: list[str]
    mismatched: list[str]

    @property
    def passed(self) -> bool:
        return self.root is not None and not self.missing and not self.mismatched


def verify_asset(name: str) -> VerifyResult:
    """Hash every file of ``name`` where it resolves (env folder, else cache); never downloads."""
    spec = asset_spec(name)
    files = asset_files(name)
    root = None
    for _, candidate in asset_roots():
        if candidate is not None and (candidate / spec.collection).is_dir():
            root = candidate / spec.collection
            if _complete(candidate, spec, files):
                break
    if root is None:
        return VerifyResult(name, None, 0, sorted(files), [])
    missing, bad, ok = [], [], 0
    for rel, want in files.items():
        path = root / rel
        if not path.is_file():
            missing.append(rel)
        elif sha256_file(path) != want:
            bad.append(rel)
        else:
            ok += 1
    return VerifyResult(name, root, ok, missing, bad)


def asset_source(name: str) -> str:
    """Where asset ``name`` resolves now: ``"env"``, ``"config"``, ``"cache"`` or ``"download"``."""
    spec = asset_spec(name)
    files = asset_files(name)
    return next((label for label, root in asset_roots() if _complete(root, spec, files)),
                "download")


def list_assets() -> list[tuple[AssetSpec, str]]:
    """Every asset with where it resolves now (see :func:`asset_source`)."""
    return [(spec, asset_source(spec.name)) for spec in ASSETS.values()]
