"""Headless Chromium: screenshot a report and probe that its videos play and plots draw.

Network-guarded per the project's infra notes: no background networking, no component updates,
and every host name except localhost resolves to nothing. Uses Debian's ``chromium``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exoactor.errors import ExoActorError

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--autoplay-policy=no-user-gesture-required", "--hide-scrollbars",
)
_PROBE_SCRIPT = """<script>
async function __strip(v) {
  // the caption strip (bottom rows) of the video's first frame, as the browser draws it
  const h = 36;
  v.pause(); v.currentTime = 0;
  await new Promise(r => { v.addEventListener('seeked', r, {once: true}); setTimeout(r, 1500); });
  const c = document.createElement('canvas'); c.width = v.videoWidth; c.height = h;
  const ctx = c.getContext('2d');
  ctx.drawImage(v, 0, v.videoHeight - h, v.videoWidth, h, 0, 0, v.videoWidth, h);
  try {
    const d = ctx.getImageData(0, 0, c.width, h).data; let s = '';
    for (let i = 0; i < d.length; i += 4)
      s += String.fromCharCode(Math.round((d[i] + d[i + 1] + d[i + 2]) / 3));
    return {width: c.width, height: h, gray: btoa(s), caption: v.dataset.caption0};
  } catch (e) { return {error: String(e), caption: v.dataset.caption0}; }
}
window.addEventListener('load', () => { setTimeout(async () => {
  const all = [...document.querySelectorAll('video')];
  const videos = all.map(v => ({
    width: v.videoWidth, height: v.videoHeight, ready_state: v.readyState,
    current_time_s: v.currentTime, duration_s: v.duration, error: v.error && v.error.code,
    paused: v.paused}));
  const plots = [...document.querySelectorAll('figure.plot svg')].map(s => {
    const r = s.getBoundingClientRect(); return {width: r.width, height: r.height,
    elements: s.querySelectorAll('path,line,polyline,rect').length}; });
  const strips = [];
  for (const v of all.filter(v => v.dataset.caption0)) strips.push(await __strip(v));
  const out = document.createElement('pre'); out.id = '__probe__';
  out.textContent = JSON.stringify({videos, plots, strips, title: document.title});
  document.body.appendChild(out);
}, %d); });
</script>"""


def chromium_path() -> str:
    """Path of the Chromium binary; a clear error names the package when it is missing."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise ExoActorError("no Chromium found: apt-get install chromium (Debian) to check reports "
                        "in a headless browser")


def _run(args: list[str], timeout_s: float) -> str:
    with tempfile.TemporaryDirectory(prefix="exoactor-chromium-") as profile:
        cmd = [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode != 0:
        raise ExoActorError(f"chromium exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 2400,
               budget_ms: int = 5000, timeout_s: float = 120.0) -> Path:
    """Render ``page`` headless and save a PNG screenshot of its first ``height`` pixels."""
    _run([f"--window-size={width},{height}", f"--virtual-time-budget={budget_ms}",
          f"--screenshot={Path(png).resolve()}", Path(page).resolve().as_uri()], timeout_s)
    if not Path(png).is_file():
        raise ExoActorError(f"chromium wrote no screenshot for {page}")
    return Path(png)


@dataclass(frozen=True)
class PageProbe:
    """What the browser saw: per video its size, state and play position; per plot its size;
    per video with a ``data-caption0`` attribute, the grey levels of the caption strip (its
    bottom 36 rows) of its first frame as drawn by the browser (``gray``: base64 bytes, row
    major, ``width`` x ``height``) and that caption's text."""

    videos: list[dict]
    plots: list[dict]
    title: str
    strips: list[dict] = ()  # type: ignore[assignment]

    def strip_pixels(self, k: int = 0) -> np.ndarray:
        """``(height, width)`` uint8 grey caption strip ``k``."""
        import base64

        s = self.strips[k]
        if "error" in s:
            raise ExoActorError(f"the browser could not read the video pixels: {s['error']}")
        raw = base64.b64decode(s["gray"])
        return np.frombuffer(raw, dtype=np.uint8).reshape(s["height"], s["width"])

    @property
    def videos_playing(self) -> bool:
        return bool(self.videos) and all(
            v["width"] > 0 and v["ready_state"] >= 2 and v["current_time_s"] > 0
            and not v["error"] for v in self.videos)

    @property
    def plots_drawn(self) -> bool:
        return bool(self.plots) and all(p["width"] > 50 and p["elements"] > 5 for p in self.plots)


def probe_page(page: Path, wait_ms: int = 2500, timeout_s: float = 120.0) -> PageProbe:
    """Load a copy of ``page`` with a probe script, let virtual time run, read the results."""
    text = Path(page).read_text()
    probed = text.replace("</body>", (_PROBE_SCRIPT % wait_ms) + "</body>")
    with tempfile.TemporaryDirectory(prefix="exoactor-probe-", dir=Path(page).parent) as tmp:
        copy = Path(tmp) / Path(page).name
        copy.write_text(probed)
        dom = _run([f"--virtual-time-budget={wait_ms + 3000}", "--dump-dom", copy.as_uri()],
                   timeout_s)
    match = re.search(r'<pre id="__probe__">(.*?)</pre>', dom, re.S)
    if not match:
        raise ExoActorError(f"{page}: the page did not finish loading in the browser")
    import html

    data = json.loads(html.unescape(match.group(1)))
    return PageProbe(data["videos"], data["plots"], data["title"], data.get("strips", []))
