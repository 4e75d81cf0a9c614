"""Kling and Veo against a local fake server: submit, poll with backoff, download, resume,
and every documented failure (429 + Retry-After, 5xx, failed job, poll timeout, malformed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exoactor.imagine.errors import HostedAPIError, JobFailed, JobTimeout, MalformedResponse, NotLoopback
from exoactor.imagine.http import RetryPolicy
from exoactor.imagine.video.base import VideoRequest
from exoactor.imagine.video.kling import KlingConfig, KlingGenerator, kling_jwt
from exoactor.imagine.video.veo import VeoConfig, VeoGenerator

from .fakes import KLING_AK, KLING_SK, FakeServer, _jwt_ok

FAST = RetryPolicy(timeout_s=5.0, max_retries=2, backoff_s=0.0, max_backoff_s=0.01)
POLL = {"poll_interval_s": 0.01, "poll_max_interval_s": 0.02, "poll_timeout_s": 5.0, "retry": FAST}


class Clock:
    """A fake monotonic clock advanced by the generator's sleeps (no real waiting)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s

    def __call__(self) -> float:
        return self.t


def _kling(fake: FakeServer, clock: Clock | None = None, **kw) -> KlingGenerator:  # noqa: ANN003
    clock = clock or Clock()
    return KlingGenerator(KlingConfig(base_url=fake.url, **{**POLL, **kw}), sleep=clock.sleep,
                          clock=clock)


def _veo(fake: FakeServer, clock: Clock | None = None, **kw) -> VeoGenerator:  # noqa: ANN003
    clock = clock or Clock()
    return VeoGenerator(VeoConfig(base_url=f"{fake.url}/v1beta", **{**POLL, **kw}),
                        sleep=clock.sleep, clock=clock)


def _req(scene_png: Path, **kw) -> VideoRequest:  # noqa: ANN003
    return VideoRequest(prompt="Shot: static. Motion: the person walks.", image=scene_png,
                        negative_prompt="camera motion", duration_s=5.5, **kw)


def test_jwt_is_hs256_with_iss_exp_nbf() -> None:
    token = kling_jwt(KLING_AK, KLING_SK, now=1_000_000)
    assert _jwt_ok(f"Bearer {token}")
    import base64

    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert payload == {"iss": KLING_AK, "exp": 1_001_800, "nbf": 999_995}


def test_kling_submit_poll_download(fake: FakeServer, keys: None, scene_png: Path,
                                    tmp_path: Path, short_clip: Path) -> None:
    clock = Clock()
    clip = _kling(fake, clock).generate(_req(scene_png), tmp_path / "native.mp4", tmp_path)
    assert clip.path.read_bytes() == short_clip.read_bytes()
    assert clip.fps == pytest.approx(30.0) and clip.num_frames == 60
    assert clip.notes["job_id"] == "image2video/task1" and clip.notes["polls"] == 3
    assert clock.sleeps == pytest.approx([0.01, 0.015])  # grows 1.5x per poll
    body = json.loads(next(b for m, p, _, b in fake.state.requests if m == "POST"))
    assert body["duration"] == "5" and body["mode"] == "std" and body["model_name"] == "kling-v2-1"
    assert not body["image"].startswith("data:")
    record = json.loads((tmp_path / "jobs" / "kling_00.json").read_text())
    assert record["status"] == "downloaded" and record["job_id"] == "image2video/task1"
    assert KLING_SK not in json.dumps(record) and KLING_AK not in json.dumps(record)


def test_kling_429_and_5xx_are_retried(fake: FakeServer, keys: None, scene_png: Path,
                                       tmp_path: Path) -> None:
    fake.state.inject["kling_submit"].append(
        (429, {"Retry-After": "7"}, b'{"code": 1302, "message": "rate limit"}'))
    fake.state.inject["kling_poll"].append((502, {}, b"bad gateway"))
    clock = Clock()
    gen = _kling(fake, clock, retry=RetryPolicy(timeout_s=5.0, max_retries=2, backoff_s=0.0,
                                                max_backoff_s=0.05))
    clip = gen.generate(_req(scene_png), tmp_path / "native.mp4", tmp_path)
    assert clip.num_frames == 60
    assert fake.state.count("POST", "/v1/videos/image2video") == 2
    assert 0.05 in clock.sleeps  # Retry-After 7 s, capped by max_backoff_s


def test_kling_failed_job(fake: FakeServer, keys: None, scene_png: Path, tmp_path: Path) -> None:
    fake.state.fail_job = "Failure to pass the risk control system"
    with pytest.raises(JobFailed, match="risk control"):
        _kling(fake).generate(_req(scene_png), tmp_path / "native.mp4", tmp_path)
    record = json.loads((tmp_path / "jobs" / "kling_00.json").read_text())
    assert record["status"] == "failed"
    fake.state.fail_job = None  # a failed job is submitted afresh on the next run
    _kling(fake).generate(_req(scene_png), tmp_path / "native.mp4", tmp_path)
    assert fake.state.jobs == 2


def test_kling_poll_timeout_then_resume_without_resubmitting(
        fake: FakeServer, keys: None, scene_png: Path, tmp_path: Path) -> None:
    fake.state.polls_until_done = None
    with pytest.raises(JobTimeout, match="run the same command again to resume") as err:
        _kling(fake, poll_timeout_s=0.1).generate(_req(scene_png), tmp_path / "n.mp4", tmp_path)
    assert "image2video/task1" in str(err.value)
    assert fake.state.jobs == 1 and fake.state.polls["task1"] >= 3
    fake.state.polls_until_done = 0
    clip = _kling(fake).generate(_req(scene_png), tmp_path / "n.mp4", tmp_path)
    assert fake.state.jobs == 1 and clip.notes["job_id"] == "image2video/task1"
    # a different request is a different job
    _kling(fake).generate(_req(scene_png, seed=5), tmp_path / "n.mp4", tmp_path)
    assert fake.state.jobs == 2


def test_kling_interrupted_while_polling_resumes(fake: FakeServer, keys: None, scene_png: Path,
                                                 tmp_path: Path) -> None:
    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    gen = KlingGenerator(KlingConfig(base_url=fake.url, **POLL), sleep=interrupt)
    with pytest.raises(KeyboardInterrupt):
        gen.generate(_req(scene_png), tmp_path / "n.mp4", tmp_path)
    assert json.loads((tmp_path / "jobs" / "kling_00.json").read_text())["status"] == "running"
    _kling(fake).generate(_req(scene_png), tmp_path / "n.mp4", tmp_path)
    assert fake.state.jobs == 1


@pytest.mark.parametrize("route,payload,error", [
    ("kling_submit", b'{"message": "no code"}', MalformedResponse),
    ("kling_submit", b'{"code": 1102, "message": "Account balance not enough"}', HostedAPIError),
    ("kling_submit", b'{"code": 0, "data": {}}', MalformedResponse),
    ("kling_poll", b'{"code": 0, "data": {"task_status": "succeed", "task_result": {}}}',
     MalformedResponse),
    ("kling_poll", b'{"code": 0, "data": {"task_status": "weird"}}', MalformedResponse),
    ("kling_poll", b"not json", MalformedResponse),
])
def test_kling_malformed_or_refused(fake: FakeServer, keys: None, scene_png: Path,
                                    tmp_path: Path, route: str, payload: bytes,
                                    error: type) -> None:
    fake.state.inject[route].append((200, {}, payload))
    with pytest.raises(error):
        _kling(fake).generate(_req(scene_png), tmp_path / "n.mp4", tmp_path)


def test_kling_bad_key_is_401(fake: FakeServer, scene_png: Path, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_ACCESS_KEY", KLING_AK)
    monkeypatch.setenv("KLING_SECRET_KEY", "wrong-secret")
    with pytest.raises(HostedAPIError, match="HTTP 401"):
        _kling(fake).generate(_req(scene_png), tmp_path / "n.mp4", tmp_path)


def test_cost_estimate_is_shown_before_submitting(fake: FakeServer, keys: None, scene_png: Path,
                                                  tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    gen = _kling(fake)
    assert gen.cost_estimate_usd(_req(scene_png)) == pytest.approx(0.25)
    assert gen.cost_estimate_usd(_req(scene_png).__class__(prompt="x", duration_s=9)) == \
        pytest.approx(0.5)
    gen.generate(_req(scene_png), tmp_path / "n.mp4", tmp_path)
    assert "estimated cost $0.25" in capsys.readouterr().err


def test_veo_submit_poll_download(fake: FakeServer, keys: None, scene_png: Path,
                                  tmp_path: Path) -> None:
    fake.state.inject["veo_poll"].append((503, {"Retry-After": "0"}, b"{}"))
    clip = _veo(fake).generate(_req(scene_png), tmp_path / "native.mp4", tmp_path)
    assert clip.num_frames == 60
    assert clip.notes["job_id"].startswith("models/veo-3.0-generate-001/operations/")
    _, path, headers, body = next(r for r in fake.state.requests if r[0] == "POST")
    req = json.loads(body)
    assert path == "/v1beta/models/veo-3.0-generate-001:predictLongRunning"
    assert req["parameters"] == {"aspectRatio": "16:9", "durationSeconds": 8,
                                 "personGeneration": "allow_adult",
                                 "negativePrompt": "camera motion"}
    assert req["instances"][0]["image"]["mimeType"] == "image/png"
    downloads = [h for m, p, h, _ in fake.state.requests if p.startswith("/files/")]
    assert downloads and {k.lower(): v for k, v in downloads[0].items()}["x-goog-api-key"] == \
        "test-api-key"
    assert VeoGenerator(VeoConfig()).cost_estimate_usd(_req(scene_png)) == pytest.approx(3.2)


def test_veo_failed_filtered_timeout_malformed(fake: FakeServer, keys: None, scene_png: Path,
                                               tmp_path: Path) -> None:
    fake.state.fail_job = "Unable to process input image"
    with pytest.raises(JobFailed, match="Unable to process input image"):
        _veo(fake).generate(_req(scene_png), tmp_path / "n.mp4", tmp_path)
    fake.state.fail_job = None
    filtered = {"name": "x", "done": True, "response": {"generateVideoResponse": {
        "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["person"]}}}
    fake.state.inject["veo_poll"].append((200, {}, json.dumps(filtered).encode()))
    fake.state.polls_until_done = 0
    with pytest.raises(JobFailed, match="filtered by safety"):
        _veo(fake).generate(_req(scene_png, seed=1), tmp_path / "n.mp4", tmp_path)
    fake.state.inject["veo_poll"].append((200, {}, b'{"done": true, "response": {}}'))
    with pytest.raises(MalformedResponse, match="generatedSamples"):
        _veo(fake).generate(_req(scene_png, seed=2), tmp_path / "n.mp4", tmp_path)
    fake.state.polls_until_done = None
    with pytest.raises(JobTimeout):
        _veo(fake, poll_timeout_s=0.05).generate(_req(scene_png, seed=3), tmp_path / "n.mp4",
                                                tmp_path)


def test_hosted_backends_refuse_real_providers_under_test(keys: None, scene_png: Path,
                                                          tmp_path: Path) -> None:
    for gen in (KlingGenerator(), VeoGenerator()):
        with pytest.raises(NotLoopback):
            gen.generate(_req(scene_png), tmp_path / "n.mp4", tmp_path)
