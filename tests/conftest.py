"""Suite-wide set-up: assets from ../shared, headless GL, and a loopback-only network guard."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_ASSETS = REPO.parent / "shared" / "assets"

if "EXOACTOR_ASSETS" not in os.environ and SHARED_ASSETS.is_dir():
    os.environ["EXOACTOR_ASSETS"] = str(SHARED_ASSETS)
os.environ.setdefault("MUJOCO_GL", "egl")
# DDS (exoactor.deploy): loopback only, multicast off, for this process and its children.
os.environ["EXOACTOR_DDS_LOOPBACK_ONLY"] = "1"
os.environ["CYCLONEDDS_URI"] = (
    '<CycloneDDS><Domain id="any"><General><Interfaces><NetworkInterface name="lo"/></Interfaces>'
    '<AllowMulticast>false</AllowMulticast></General></Domain></CycloneDDS>')

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_loopback(address: object) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if host == "localhost":
                return
            raise RuntimeError(f"test tried to reach {host!r}: tests touch only 127.0.0.0/8") from None
        if not ip.is_loopback:
            raise RuntimeError(f"test tried to reach {host}: tests touch only 127.0.0.0/8")


def _guarded_connect(self: socket.socket, address: object):  # noqa: ANN202
    _check_loopback(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object):  # noqa: ANN202
    _check_loopback(address)
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets an empty asset cache, an empty user config and no download mirror unless
    it sets one."""
    monkeypatch.setenv("EXOACTOR_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("EXOACTOR_CONFIG", str(tmp_path_factory.mktemp("config") / "config.toml"))
    monkeypatch.delenv("EXOACTOR_ASSET_MIRROR", raising=False)


@pytest.fixture(scope="session")
def shared_assets() -> Path:
    root = Path(os.environ["EXOACTOR_ASSETS"])
    if not (root / "twist2").is_dir():
        pytest.fail(f"EXOACTOR_ASSETS={root} holds no twist2/ folder; run the tests from a "
                    "checkout with ../shared beside it or point EXOACTOR_ASSETS at the assets")
    return root


@pytest.fixture(scope="session")
def motion_files(shared_assets: Path) -> list[Path]:
    files = sorted((shared_assets / "twist2" / "motions").glob("*.pkl"))
    assert len(files) == 11
    return files


@pytest.fixture(scope="session")
def sample_clip() -> Path:
    """The real Sports2D demo clip, fetched into the user cache by the install script."""
    from exoactor.assets import cache_root, resolve_asset

    real_cache = Path(os.environ.get("EXOACTOR_CACHE_REAL", Path.home() / ".cache" / "exoactor"))
    mp = pytest.MonkeyPatch()
    mp.setenv("EXOACTOR_CACHE", str(real_cache))
    try:
        path = resolve_asset("sample_clip", download=False)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"sample clip missing from {cache_root()}: run `bash scripts/install.sh` "
                    f"(it runs `exoactor assets fetch sample_clip`): {exc}")
    finally:
        mp.undo()
    return path
