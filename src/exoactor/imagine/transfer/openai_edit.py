"""Hosted scene edit with the OpenAI Images API (``images/edits``).

Protocol: ``POST {base_url}/images/edits`` as ``multipart/form-data`` with the fields ``model``,
``prompt``, ``size``, ``n`` and the file ``image`` (PNG), ``Authorization: Bearer KEY`` ->
``{"created", "data": [{"b64_json": "..."}]}`` (``gpt-image-1`` always answers base64).
"""

from __future__ import annotations

import base64
import io
import os
import uuid
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from exoactor import artefacts
from exoactor.imagine.errors import MalformedResponse
from exoactor.imagine.http import RetryPolicy, request
from exoactor.imagine.secrets import get_secret
from exoactor.imagine.transfer.base import EditResult, SceneEditor, save_like, scene_editors


class OpenAIEditConfig(BaseModel):
    """Settings of the OpenAI image-edit editor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str | None = None
    """API root; None reads ``OPENAI_BASE_URL``, else ``https://api.openai.com/v1``."""
    model: str = "gpt-image-1"
    """Image model."""
    size: str = Field("auto", pattern=r"^(auto|1024x1024|1536x1024|1024x1536)$")
    """Output size asked for (the result is resized back to the scene's size)."""
    api_key_env: str = "OPENAI_API_KEY"
    """Environment variable (or secrets-file key) with the key."""
    retry: RetryPolicy = RetryPolicy(timeout_s=180.0)
    """HTTP timeouts and retries."""


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
              ) -> tuple[bytes, str]:
    """Encode ``multipart/form-data``; returns the body and its ``Content-Type``."""
    boundary = f"exoactor-{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                  f"{value}\r\n".encode())
    for name, (filename, data, mime) in files.items():
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                  f"filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


@scene_editors.register("openai")
class OpenAIImageEditor(SceneEditor):
    """Hosted image edit (OpenAI ``gpt-image-1`` or any compatible endpoint)."""

    name = "openai"
    Config = OpenAIEditConfig

    def __init__(self, config: OpenAIEditConfig | None = None):
        self.config = config or OpenAIEditConfig()

    def edit(self, scene: Path, instruction: str, out_path: Path) -> EditResult:
        from PIL import Image

        base = (self.config.base_url or os.environ.get("OPENAI_BASE_URL")
                or "https://api.openai.com/v1").rstrip("/")
        url = f"{base}/images/edits"
        key = get_secret(self.config.api_key_env, "openai editor")
        buf = io.BytesIO()
        with Image.open(scene) as im:
            im.convert("RGB").save(buf, format="PNG")
        body, ctype = multipart({"model": self.config.model, "prompt": instruction,
                                 "size": self.config.size, "n": "1"},
                                {"image": (artefacts.SCENE_PHOTO, buf.getvalue(), "image/png")})
        r = request("POST", url, what="openai editor", policy=self.config.retry,
                    headers={"Authorization": f"Bearer {key}", "Content-Type": ctype},
                    data=body, ok=(200,))
        data = r.json("openai editor")
        try:
            b64 = data["data"][0]["b64_json"]
            img = Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))
            img.load()
        except (KeyError, IndexError, TypeError, ValueError, OSError):
            raise MalformedResponse(f"openai editor: {url} answered without a decodable "
                                    "data[0].b64_json image") from None
        return save_like(img, scene, out_path, self.name, {"model": self.config.model})
