"""Kling image-to-video by its documented asynchronous HTTP API.

Protocol: every request carries ``Authorization: Bearer <JWT>``, a JWT signed HS256 with the
secret key, claims ``iss`` = access key, ``exp`` = now + 1800 s, ``nbf`` = now - 5 s.

* submit: ``POST {base_url}/v1/videos/image2video`` (``text2video`` without an image) with
  ``{"model_name", "image" (base64, no data: prefix), "prompt", "negative_prompt",
  "cfg_scale", "mode" ("std" | "pro"), "duration" ("5" | "10")}`` -> ``{"code": 0,
  "message", "request_id", "data": {"task_id", "task_status": "submitted"}}``;
* poll: ``GET {base_url}/v1/videos/image2video/{task_id}`` -> ``data.task_status`` in
  ``submitted`` / ``processing`` / ``succeed`` / ``failed`` (``task_status_msg`` says why),
  ``data.task_result.videos[0].url`` when done;
* download: ``GET`` that URL.

A body whose ``code`` is not 0 is an error (the HTTP layer retries 429 and 5xx).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from exoactor.imagine.errors import HostedAPIError, MalformedResponse
from exoactor.imagine.http import RetryPolicy, download, request
from exoactor.imagine.secrets import get_secret
from exoactor.imagine.video.base import VideoRequest, generators
from exoactor.imagine.video.hosted import HostedVideoConfig, HostedVideoGenerator, PollResult

logger = logging.getLogger(__name__)

PROMPT_LIMIT = 2500
"""Longest prompt Kling accepts [characters]."""


class KlingConfig(HostedVideoConfig):
    """Settings of the Kling backend."""

    base_url: str = "https://api-singapore.klingai.com"
    """API root (``http://127.0.0.1:PORT`` for the test server)."""
    model: str = "kling-v2-1"
    """``model_name`` sent to Kling."""
    mode: str = Field("std", pattern="^(std|pro)$")
    """``std`` (cheaper) or ``pro`` (higher quality)."""
    cfg_scale: float = Field(0.5, ge=0.0, le=1.0)
    """Prompt adherence (Kling's ``cfg_scale``)."""
    access_key_env: str = "KLING_ACCESS_KEY"
    """Environment variable (or secrets-file key) with the access key."""
    secret_key_env: str = "KLING_SECRET_KEY"
    """Environment variable (or secrets-file key) with the secret key."""
    usd_per_second: float = Field(0.05, ge=0.0)
    """Rough price per second of video [USD] (std 5 s ~ $0.25): set your plan's."""
    retry: RetryPolicy = RetryPolicy()
    """HTTP timeouts and retries."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def kling_jwt(access_key: str, secret_key: str, now: float | None = None) -> str:
    """The bearer token Kling expects (HS256; ``iss``, ``exp`` = +30 min, ``nbf`` = -5 s)."""
    now = time.time() if now is None else now
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps({"iss": access_key, "exp": int(now) + 1800,
                                  "nbf": int(now) - 5}, separators=(",", ":")).encode())
    signing = f"{header}.{payload}".encode()
    sig = _b64url(hmac.new(secret_key.encode(), signing, hashlib.sha256).digest())
    return f"{header}.{payload}.{sig}"


@generators.register("kling")
class KlingGenerator(HostedVideoGenerator):
    """Kling image-to-video (hosted, paid)."""

    name = "kling"
    Config = KlingConfig

    def __init__(self, config: KlingConfig | None = None, **kw: Any):
        super().__init__(**kw)
        self.config = config or KlingConfig()

    def _headers(self) -> dict[str, str]:
        ak = get_secret(self.config.access_key_env, "kling")
        sk = get_secret(self.config.secret_key_env, "kling")
        return {"Authorization": f"Bearer {kling_jwt(ak, sk)}"}

    def duration_s(self, request: VideoRequest) -> float:
        return 10.0 if request.duration_s > 7.5 else 5.0

    def request_params(self, request: VideoRequest) -> dict[str, Any]:
        return {"duration_s": self.duration_s(request), "mode": self.config.mode,
                "cfg_scale": self.config.cfg_scale}

    def _endpoint(self, has_image: bool) -> str:
        kind = "image2video" if has_image else "text2video"
        return f"{self.config.base_url.rstrip('/')}/v1/videos/{kind}"

    def _data(self, body: Any, url: str) -> dict:
        if not isinstance(body, dict) or "code" not in body:
            raise MalformedResponse(f"kling: {url} answered without a 'code' field; is the base "
                                    "URL Kling's API root?")
        if body["code"] != 0:
            raise HostedAPIError(f"kling: {url} refused the request: code {body['code']}: "
                                 f"{body.get('message', '')} (request {body.get('request_id')}); "
                                 "see Kling's error codes (1000-1004: key, 1102: balance, "
                                 "1301/1303: content or parallel-task limits)")
        data = body.get("data")
        if not isinstance(data, dict):
            raise MalformedResponse(f"kling: {url} answered code 0 without a 'data' object")
        return data

    def submit(self, request: VideoRequest) -> str:
        prompt = request.prompt
        if len(prompt) > PROMPT_LIMIT:
            logger.warning("kling: prompt cut from %d to %d characters", len(prompt), PROMPT_LIMIT)
            prompt = prompt[:PROMPT_LIMIT]
        body: dict[str, Any] = {"model_name": self.config.model, "prompt": prompt,
                                "negative_prompt": request.negative_prompt[:PROMPT_LIMIT],
                                "cfg_scale": self.config.cfg_scale, "mode": self.config.mode,
                                "duration": str(int(self.duration_s(request)))}
        if request.image is not None:
            body["image"] = base64.b64encode(Path(request.image).read_bytes()).decode()
        url = self._endpoint(request.image is not None)
        r = request_json("POST", url, self, body)
        task_id = self._data(r, url).get("task_id")
        if not task_id:
            raise MalformedResponse(f"kling: {url} accepted the job but returned no task_id")
        kind = "image2video" if request.image is not None else "text2video"
        return f"{kind}/{task_id}"

    def poll(self, job_id: str) -> PollResult:
        """Poll ``job_id`` (``"image2video/<task_id>"``: the task's resource path)."""
        url = f"{self.config.base_url.rstrip('/')}/v1/videos/{job_id}"
        data = self._data(request_json("GET", url, self, None), url)
        status = str(data.get("task_status", ""))
        if status in ("submitted", "processing"):
            return PollResult("running", status)
        if status == "failed":
            return PollResult("failed", status, message=data.get("task_status_msg") or None)
        if status == "succeed":
            try:
                video_url = data["task_result"]["videos"][0]["url"]
            except (KeyError, IndexError, TypeError):
                raise MalformedResponse(f"kling: task {job_id} succeeded but "
                                        "task_result.videos[0].url is missing") from None
            return PollResult("succeeded", status, video_url=str(video_url))
        raise MalformedResponse(f"kling: task {job_id} has an unknown task_status {status!r} "
                                "(expected submitted, processing, succeed or failed)")

    def fetch(self, result: PollResult, dest: Path) -> Path:
        return download(result.video_url, dest, what="kling", policy=self.config.retry,  # type: ignore[arg-type]
                        sleep=self._sleep)


def request_json(method: str, url: str, gen: KlingGenerator, body: Any) -> Any:
    """One authenticated Kling request, parsed."""
    r = request(method, url, what="kling", policy=gen.config.retry, headers=gen._headers(),
                json_body=body, ok=(200,), sleep=gen._sleep)
    return r.json("kling")
