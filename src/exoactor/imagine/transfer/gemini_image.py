"""Hosted scene edit with Gemini image generation (``generateContent`` with an image part).

Protocol: ``POST {base_url}/models/{model}:generateContent`` with ``x-goog-api-key: KEY`` and
``{"contents": [{"parts": [{"text"}, {"inline_data": {"mime_type", "data"}}]}],
"generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}}`` -> ``{"candidates":
[{"content": {"parts": [{"text"}?, {"inlineData": {"mimeType", "data"}}]}}]}``.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from exoactor.imagine.errors import MalformedResponse
from exoactor.imagine.http import RetryPolicy, request
from exoactor.imagine.secrets import get_secret
from exoactor.imagine.transfer.base import EditResult, SceneEditor, save_like, scene_editors


class GeminiImageConfig(BaseModel):
    """Settings of the Gemini image editor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = "https://generativelanguage.googleapis.com/v1beta"
    """API root."""
    model: str = "gemini-2.5-flash-image"
    """Image-capable Gemini model."""
    api_key_env: str = "GEMINI_API_KEY"
    """Environment variable (or secrets-file key) with the key."""
    retry: RetryPolicy = RetryPolicy(timeout_s=180.0)
    """HTTP timeouts and retries."""


@scene_editors.register("gemini")
class GeminiImageEditor(SceneEditor):
    """Hosted image edit with a Gemini image model."""

    name = "gemini"
    Config = GeminiImageConfig

    def __init__(self, config: GeminiImageConfig | None = None):
        self.config = config or GeminiImageConfig()

    def edit(self, scene: Path, instruction: str, out_path: Path) -> EditResult:
        from PIL import Image

        url = f"{self.config.base_url.rstrip('/')}/models/{self.config.model}:generateContent"
        buf = io.BytesIO()
        with Image.open(scene) as im:
            im.convert("RGB").save(buf, format="PNG")
        body = {"contents": [{"parts": [
            {"text": instruction},
            {"inline_data": {"mime_type": "image/png",
                             "data": base64.b64encode(buf.getvalue()).decode()}}]}],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}}
        r = request("POST", url, what="gemini editor", policy=self.config.retry,
                    headers={"x-goog-api-key": get_secret(self.config.api_key_env,
                                                          "gemini editor")},
                    json_body=body, ok=(200,))
        data = r.json("gemini editor")
        try:
            parts = data["candidates"][0]["content"]["parts"]
        except (KeyError, IndexError, TypeError):
            raise MalformedResponse(f"gemini editor: {url} answered without "
                                    "candidates[0].content.parts") from None
        for part in parts:
            inline = part.get("inlineData") or part.get("inline_data") if isinstance(part, dict) \
                else None
            if inline and inline.get("data"):
                try:
                    img = Image.open(io.BytesIO(base64.b64decode(inline["data"], validate=True)))
                    img.load()
                except (ValueError, OSError):
                    raise MalformedResponse(f"gemini editor: {url} returned image data that "
                                            "does not decode") from None
                return save_like(img, scene, out_path, self.name, {"model": self.config.model})
        text = " ".join(p.get("text", "") for p in parts if isinstance(p, dict))[:200]
        raise MalformedResponse(f"gemini editor: {url} returned no image (text: {text!r}); the "
                                "model may have refused the edit: rephrase or use another editor")
