"""Google Veo image-to-video through the Gemini API's long-running operations.

Protocol (``x-goog-api-key: KEY`` on every request):

* submit: ``POST {base_url}/models/{model}:predictLongRunning`` with ``{"instances": [{"prompt",
  "image": {"bytesBase64Encoded", "mimeType"}}], "parameters": {"aspectRatio",
  "negativePrompt", "durationSeconds", "personGeneration"}}`` -> ``{"name":
  "models/{model}/operations/{id}"}``;
* poll: ``GET {base_url}/{name}`` -> ``{"name", "done": bool, "error": {"code", "message"}?,
  "response": {"generateVideoResponse": {"generatedSamples": [{"video": {"uri"}}],
  "raiMediaFilteredCount"?, "raiMediaFilteredReasons"?}}}``;
* download: ``GET`` the sample's ``uri`` with the key header.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

from pydantic import Field

from exoactor.imagine.errors import MalformedResponse
from exoactor.imagine.http import RetryPolicy, download, request
from exoactor.imagine.secrets import get_secret
from exoactor.imagine.video.base import VideoRequest, generators
from exoactor.imagine.video.hosted import HostedVideoConfig, HostedVideoGenerator, PollResult

logger = logging.getLogger(__name__)


class VeoConfig(HostedVideoConfig):
    """Settings of the Veo backend."""

    base_url: str = "https://generativelanguage.googleapis.com/v1beta"
    """API root (``http://127.0.0.1:PORT/v1beta`` for the test server)."""
    model: str = "veo-3.0-generate-001"
    """Veo model name."""
    duration_s: int = Field(8, ge=4, le=8)
    """``durationSeconds`` (Veo 3: 8; Veo 3.1: 4, 6 or 8; Veo 2: 5-8) [s]."""
    aspect_ratio: str = Field("auto", pattern=r"^(auto|16:9|9:16)$")
    """``16:9``, ``9:16``, or ``auto`` (from the scene image's orientation)."""
    person_generation: str = "allow_adult"
    """``personGeneration`` (image-to-video accepts ``allow_adult``)."""
    api_key_env: str = "GEMINI_API_KEY"
    """Environment variable (or secrets-file key) with the Gemini API key."""
    usd_per_second: float = Field(0.4, ge=0.0)
    """Rough price per second of video [USD] (Veo 3 standard list price): set your plan's."""
    poll_interval_s: float = Field(10.0, gt=0.0)
    """First wait between polls [s] (Google's examples poll every 10 s)."""
    retry: RetryPolicy = RetryPolicy()
    """HTTP timeouts and retries."""


@generators.register("veo")
class VeoGenerator(HostedVideoGenerator):
    """Google Veo (hosted, paid) via the Gemini API."""

    name = "veo"
    Config = VeoConfig

    def __init__(self, config: VeoConfig | None = None, **kw: Any):
        super().__init__(**kw)
        self.config = config or VeoConfig()

    def _headers(self) -> dict[str, str]:
        return {"x-goog-api-key": get_secret(self.config.api_key_env, "veo")}

    def duration_s(self, request: VideoRequest) -> float:
        return float(self.config.duration_s)

    def request_params(self, request: VideoRequest) -> dict[str, Any]:
        return {"duration_s": self.duration_s(request), "aspect": self._aspect(request),
                "person": self.config.person_generation}

    def _aspect(self, request: VideoRequest) -> str:
        if self.config.aspect_ratio != "auto":
            return self.config.aspect_ratio
        if request.image is None:
            return "16:9"
        from PIL import Image

        with Image.open(request.image) as im:
            return "9:16" if im.height > im.width else "16:9"

    def _get(self, url: str, body: Any = None, method: str = "GET") -> Any:
        r = request(method, url, what="veo", policy=self.config.retry, headers=self._headers(),
                    json_body=body, ok=(200,), sleep=self._sleep)
        return r.json("veo")

    def submit(self, request: VideoRequest) -> str:
        instance: dict[str, Any] = {"prompt": request.prompt}
        if request.image is not None:
            mime = "image/png" if Path(request.image).suffix.lower() == ".png" else "image/jpeg"
            instance["image"] = {"bytesBase64Encoded": base64.b64encode(
                Path(request.image).read_bytes()).decode(), "mimeType": mime}
        params: dict[str, Any] = {"aspectRatio": self._aspect(request),
                                  "durationSeconds": self.config.duration_s,
                                  "personGeneration": self.config.person_generation}
        if request.negative_prompt:
            params["negativePrompt"] = request.negative_prompt
        url = f"{self.config.base_url.rstrip('/')}/models/{self.config.model}:predictLongRunning"
        body = self._get(url, {"instances": [instance], "parameters": params}, method="POST")
        name = body.get("name") if isinstance(body, dict) else None
        if not name:
            raise MalformedResponse(f"veo: {url} answered without an operation 'name'")
        return str(name)

    def poll(self, job_id: str) -> PollResult:
        url = f"{self.config.base_url.rstrip('/')}/{job_id}"
        op = self._get(url)
        if not isinstance(op, dict):
            raise MalformedResponse(f"veo: {url} did not answer an operation object")
        if not op.get("done"):
            return PollResult("running", "running")
        if op.get("error"):
            err = op["error"]
            return PollResult("failed", "error", message=f"{err.get('code')}: {err.get('message')}"
                              if isinstance(err, dict) else str(err))
        resp = (op.get("response") or {}).get("generateVideoResponse") or {}
        samples = resp.get("generatedSamples") or []
        if not samples:
            reasons = resp.get("raiMediaFilteredReasons")
            if reasons or resp.get("raiMediaFilteredCount"):
                return PollResult("failed", "filtered", message=f"filtered by safety: {reasons}")
            raise MalformedResponse(f"veo: operation {job_id} is done but has no "
                                    "response.generateVideoResponse.generatedSamples")
        try:
            uri = samples[0]["video"]["uri"]
        except (KeyError, TypeError):
            raise MalformedResponse(f"veo: operation {job_id}: generatedSamples[0].video.uri "
                                    "is missing") from None
        return PollResult("succeeded", "done", video_url=str(uri))

    def fetch(self, result: PollResult, dest: Path) -> Path:
        return download(result.video_url, dest, what="veo", policy=self.config.retry,  # type: ignore[arg-type]
                        headers=self._headers(), sleep=self._sleep)
