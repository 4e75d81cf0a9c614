"""Local fake servers (127.0.0.1 only) speaking the hosted providers' documented protocols.

One threaded HTTP server serves every fake provider, on distinct paths:

* OpenAI-compatible: ``POST /v1/chat/completions``, ``POST /v1/images/edits``;
* Gemini: ``POST /v1beta/models/{model}:generateContent`` (image),
  ``POST /v1beta/models/{model}:predictLongRunning`` + ``GET /v1beta/{operation}`` (Veo);
* Kling: ``POST /v1/videos/image2video``, ``GET /v1/videos/image2video/{task_id}``;
* downloads: ``GET /files/{name}``.

Behaviour is scripted per test through :class:`FakeState`: ``inject[route]`` is a queue of
canned responses (status, headers, body) served before the normal behaviour (429 with
``Retry-After``, 5xx, malformed bodies); ``polls_until_done`` (None: never), ``fail_job``
and ``chat_content`` shape the normal behaviour. Every request is recorded in ``requests``.

Run as a script to serve a fake Kling on a fixed port: ``python tests/imagine/fakes.py 8765``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KLING_AK = "test-access-key"
KLING_SK = "test-secret-key"
API_KEY = "test-api-key"


def png_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 50, 50)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def plan_content() -> dict[str, Any]:
    """A plan answer following the chat planner's schema."""
    return {"actions": [
        {"verb": "walk_to", "target": "the chair", "destination": None,
         "description": "The person walks to the chair.", "duration_s": 3.0},
        {"verb": "sit", "target": "the chair", "destination": None,
         "description": "The person sits down on the chair.", "duration_s": 2.5}],
        "sections": {"shot": "Static third-person shot.", "scene": "A living room with a chair.",
                     "motion": "The person walks to the chair, then sits down.",
                     "execution": "Natural pace; lowers the hips onto the seat.",
                     "end_state": "The person sits on the chair."}}


@dataclass
class FakeState:
    """What the fake server does; tests edit it between calls."""

    video: bytes = b""
    """The mp4 served as every generated clip."""
    polls_until_done: int | None = 2
    """Polls answered 'processing' before success (None: never done)."""
    fail_job: str | None = None
    """Failure message of every job (None: jobs succeed)."""
    chat_content: Any = field(default_factory=plan_content)
    """The chat answer's message content (a dict is sent as JSON text)."""
    inject: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    """Route -> queued (status, headers, body bytes) answered before normal behaviour."""
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    """(method, path, headers, body) of every request."""
    polls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    jobs: int = 0

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for m, p, _, _ in self.requests if m == method and p.startswith(prefix))


def _jwt_ok(header: str) -> bool:
    if not header.startswith("Bearer "):
        return False
    try:
        h, p, s = header[7:].split(".")
    except ValueError:
        return False
    sig = base64.urlsafe_b64encode(hmac.new(KLING_SK.encode(), f"{h}.{p}".encode(),
                                            hashlib.sha256).digest()).rstrip(b"=").decode()
    payload = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    return hmac.compare_digest(sig, s) and payload.get("iss") == KLING_AK


class _Handler(BaseHTTPRequestHandler):
    state: FakeState
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes | dict | str, headers: dict[str, str] | None = None,
              ctype: str = "application/json") -> None:
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _route(self) -> str:
        p = self.path.split("?")[0]
        if p.startswith("/v1/chat/completions"):
            return "chat"
        if p.startswith("/v1/images/edits"):
            return "image_edit"
        if p.endswith(":generateContent"):
            return "gemini_image"
        if p.endswith(":predictLongRunning"):
            return "veo_submit"
        if "/operations/" in p:
            return "veo_poll"
        if p.startswith("/v1/videos/") and self.command == "POST":
            return "kling_submit"
        if p.startswith("/v1/videos/"):
            return "kling_poll"
        if p.startswith("/files/"):
            return "download"
        return "unknown"

    def _handle(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        st = self.state
        st.requests.append((self.command, self.path, dict(self.headers.items()), body))
        route = self._route()
        if st.inject[route]:
            status, headers, payload = st.inject[route].popleft()
            return self._send(status, payload, headers)
        getattr(self, f"_do_{route}")(body)

    do_GET = do_POST = _handle

    def _base(self) -> str:
        return f"http://{self.headers.get('Host')}"

    # ------------------------------------------------------------- OpenAI-compatible
    def _do_chat(self, body: bytes) -> None:
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self._send(401, {"error": {"message": "Incorrect API key provided"}})
        req = json.loads(body)
        if req.get("response_format", {}).get("type") != "json_schema":
            return self._send(400, {"error": {"message": "response_format json_schema required"}})
        content = self.state.chat_content
        text = json.dumps(content) if isinstance(content, dict) else content
        self._send(200, {"id": "chatcmpl-1", "object": "chat.completion", "model": req["model"],
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": text,
                                                  "refusal": None}}]})

    def _do_image_edit(self, body: bytes) -> None:
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data") or b'name="image"' not in body \
                or b'name="prompt"' not in body:
            return self._send(400, {"error": {"message": "image and prompt are required"}})
        b64 = base64.b64encode(png_bytes(96, 72, (10, 200, 10))).decode()
        self._send(200, {"created": 1, "data": [{"b64_json": b64}]})

    # ------------------------------------------------------------- Gemini / Veo
    def _do_gemini_image(self, body: bytes) -> None:
        if self.headers.get("x-goog-api-key") != API_KEY:
            return self._send(403, {"error": {"code": 403, "message": "API key not valid"}})
        parts = json.loads(body)["contents"][0]["parts"]
        if not any("inline_data" in p for p in parts):
            return self._send(400, {"error": {"code": 400, "message": "no image part"}})
        b64 = base64.b64encode(png_bytes(64, 48, (10, 10, 200))).decode()
        self._send(200, {"candidates": [{"content": {"role": "model", "parts": [
            {"text": "Here is the edited image."},
            {"inlineData": {"mimeType": "image/png", "data": b64}}]}}]})

    def _do_veo_submit(self, body: bytes) -> None:
        if self.headers.get("x-goog-api-key") != API_KEY:
            return self._send(403, {"error": {"code": 403, "message": "API key not valid"}})
        req = json.loads(body)
        inst = req["instances"][0]
        if "prompt" not in inst or "bytesBase64Encoded" not in inst.get("image", {}):
            return self._send(400, {"error": {"code": 400, "message": "prompt and image required"}})
        self.state.jobs += 1
        model = self.path.split("/models/")[1].split(":")[0]
        self._send(200, {"name": f"models/{model}/operations/op{self.state.jobs}"})

    def _do_veo_poll(self, body: bytes) -> None:
        name = self.path.split("/v1beta/")[1]
        st = self.state
        st.polls[name] += 1
        if st.polls_until_done is None or st.polls[name] <= st.polls_until_done:
            return self._send(200, {"name": name, "done": False})
        if st.fail_job:
            return self._send(200, {"name": name, "done": True,
                                    "error": {"code": 3, "message": st.fail_job}})
        uri = f"{self._base()}/files/{name.rsplit('/', 1)[-1]}.mp4"
        self._send(200, {"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}}})

    # ------------------------------------------------------------- Kling
    def _do_kling_submit(self, body: bytes) -> None:
        if not _jwt_ok(self.headers.get("Authorization", "")):
            return self._send(401, {"code": 1004, "message": "Authorization is invalid",
                                    "request_id": "r0"})
        req = json.loads(body)
        if "image2video" in self.path and not req.get("image"):
            return self._send(400, {"code": 1201, "message": "image is required",
                                    "request_id": "r1"})
        if req.get("duration") not in ("5", "10") or req.get("mode") not in ("std", "pro"):
            return self._send(400, {"code": 1201, "message": "invalid duration or mode",
                                    "request_id": "r2"})
        self.state.jobs += 1
        self._send(200, {"code": 0, "message": "SUCCEED", "request_id": "r3", "data": {
            "task_id": f"task{self.state.jobs}", "task_status": "submitted",
            "created_at": 1722769557708, "updated_at": 1722769557708}})

    def _do_kling_poll(self, body: bytes) -> None:
        if not _jwt_ok(self.headers.get("Authorization", "")):
            return self._send(401, {"code": 1004, "message": "Authorization is invalid"})
        task_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        st = self.state
        st.polls[task_id] += 1
        data: dict[str, Any] = {"task_id": task_id, "created_at": 1, "updated_at": 2}
        if st.polls_until_done is None or st.polls[task_id] <= st.polls_until_done:
            data["task_status"] = "processing" if st.polls[task_id] > 1 else "submitted"
        elif st.fail_job:
            data.update(task_status="failed", task_status_msg=st.fail_job)
        else:
            data.update(task_status="succeed", task_status_msg="", task_result={"videos": [
                {"id": "v1", "url": f"{self._base()}/files/{task_id}.mp4", "duration": "5.0"}]})
        self._send(200, {"code": 0, "message": "SUCCEED", "request_id": "r4", "data": data})

    # ------------------------------------------------------------- files
    def _do_download(self, body: bytes) -> None:
        self._send(200, self.state.video, ctype="video/mp4")

    def _do_unknown(self, body: bytes) -> None:
        self._send(404, {"error": {"message": f"no route {self.path}"}})


class FakeServer:
    """The fake provider server on 127.0.0.1 (a free port unless one is given)."""

    def __init__(self, state: FakeState | None = None, port: int = 0):
        self.state = state or FakeState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


if __name__ == "__main__":  # a fake Kling for a manual transcript
    import sys
    from pathlib import Path

    state = FakeState(video=Path(sys.argv[2]).read_bytes() if len(sys.argv) > 2 else b"")
    with FakeServer(state, port=int(sys.argv[1]) if len(sys.argv) > 1 else 8765) as srv:
        sys.stderr.write(f"fake providers on {srv.url}\n")
        threading.Event().wait()
