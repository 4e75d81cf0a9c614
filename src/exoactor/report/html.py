"""One self-contained HTML page per run: videos (embedded), plots (inline SVG), metrics, manifest."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from exoactor.report.thresholds import THRESHOLDS, mark
from exoactor.report.verdict import PhysicsVerdict

EMBED_LIMIT_BYTES = 40 * 1024 * 1024
"""Videos up to this size are embedded as data URIs; larger ones are linked relatively."""

WIDE_VIDEOS = ("robot in the scene", "side by side")
"""Captions (prefixes) of the videos shown wide."""

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;
max-width:1400px}
h1{margin-bottom:4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
.verdict{display:inline-block;padding:6px 14px;border-radius:6px;font-weight:600;color:#fff}
.v-executable{background:#2e7d32}.v-marginal{background:#ef6c00}
.v-not-executable{background:#c62828}.v-none{background:#757575}
.videos{display:flex;flex-wrap:wrap;gap:12px}.videos figure{margin:0}
video{max-width:440px;border:1px solid #ccc;background:#000}
.wide video{max-width:1340px;width:100%}
.plots{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.plots svg{max-width:620px;height:auto}
table{border-collapse:collapse;margin:6px 0 14px}td,th{border:1px solid #ddd;padding:3px 8px;
font-size:13px;text-align:left}th{background:#f5f5f5}
.pass{color:#2e7d32;font-weight:600}.warn{color:#ef6c00;font-weight:600}
.fail{color:#c62828;font-weight:600}.info{color:#757575}
.error{background:#ffebee;border-left:4px solid #c62828;padding:8px 12px;white-space:pre-wrap}
code{background:#f5f5f5;padding:1px 4px}
"""
_MARK_TEXT = {"pass": "✔ pass", "warn": "⚠ warn", "fail": "✘ fail", "info": ""}


@dataclass
class ReportPage:
    """Everything one run's page shows."""

    title: str
    verdict: PhysicsVerdict | None = None
    videos: list[tuple[str, Path]] = field(default_factory=list)
    """(caption, mp4 path) pairs in page order; those whose caption starts with one of
    :data:`WIDE_VIDEOS` are shown wide."""
    first_captions: dict[Path, str] = field(default_factory=dict)
    """mp4 path -> the caption strip text burned into its first frame (``data-caption0``)."""
    plots: list[tuple[str, str]] = field(default_factory=list)
    """(title, inline SVG) pairs."""
    metrics: dict[str, dict] = field(default_factory=dict)
    """Stage -> metrics dict."""
    manifest: dict = field(default_factory=dict)
    failure: tuple[str, str] | None = None
    """(stage, error message) of a failed stage."""


def _video_src(path: Path, page_dir: Path) -> str:
    if path.stat().st_size <= EMBED_LIMIT_BYTES:
        return "data:video/mp4;base64," + base64.b64encode(path.read_bytes()).decode()
    try:
        return html.escape(str(path.relative_to(page_dir)))
    except ValueError:
        return html.escape(path.resolve().as_uri())


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return html.escape(json.dumps(value)[:200])
    return html.escape(str(value))


def _flatten(prefix: str, value: dict) -> list[tuple[str, object]]:
    """Nested dicts as dotted rows (``artefacts.cut.found``)."""
    out: list[tuple[str, object]] = []
    for key, v in value.items():
        name = f"{prefix}.{key}"
        out.extend(_flatten(name, v) if isinstance(v, dict) else [(name, v)])
    return out


def _metrics_table(stage: str, metrics: dict) -> str:
    rows = []
    for name, value in metrics.items():
        if isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values()):
            for sub, v in value.items():
                rows.append((f"{name}.{sub}", v, mark(stage, name, v) if sub in ("median", "mean")
                             else "info"))
            continue
        if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            rows.extend((key, v, "info") for key, v in _flatten(name, value))  # e.g. artefacts
            continue
        rows.append((name, value, mark(stage, name, value)))
    out = ["<table><tr><th>metric</th><th>value</th><th>mark</th><th>threshold</th></tr>"]
    for name, value, m in rows:
        th = THRESHOLDS.get(stage, {}).get(name.split(".")[0])
        out.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{_fmt(value)}</td>"
                   f"<td class='{m}'>{_MARK_TEXT[m]}</td>"
                   f"<td>{html.escape(th.describe()) if th else ''}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _manifest_table(manifest: dict) -> str:
    out = ["<table><tr><th>stage</th><th>status</th><th>backend</th><th>seconds</th>"
           "<th>outputs</th><th>config</th></tr>"]
    for stage, entry in manifest.get("stages", {}).items():
        status = entry.get("status", "?")
        cls = {"ok": "pass", "failed": "fail", "running": "warn"}.get(status, "info")
        out.append(
            f"<tr><td>{html.escape(stage)}</td><td class='{cls}'>{html.escape(status)}</td>"
            f"<td>{html.escape(str(entry.get('backend')))}</td>"
            f"<td>{_fmt(entry.get('seconds'))}</td>"
            f"<td>{html.escape(', '.join(entry.get('outputs', [])))}</td>"
            f"<td><code>{html.escape(json.dumps(entry.get('config'))[:300])}</code></td></tr>")
    out.append("</table>")
    meta = {k: v for k, v in manifest.items() if k != "stages"}
    out.append(f"<p class='info'>{html.escape(json.dumps(meta))}</p>")
    return "".join(out)


def render_html(page: ReportPage, page_dir: Path) -> str:
    """The page as one HTML string (videos embedded when small enough)."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(page.title)}"
             f"</title><style>{_CSS}</style></head><body><h1>{html.escape(page.title)}</h1>"]
    if page.verdict is not None:
        cls = "v-" + page.verdict.verdict.replace(" ", "-")
        parts.append(f"<p>Physics verdict: <span class='verdict {cls}' id='verdict'>"
                     f"{html.escape(page.verdict.verdict)}</span></p><ul>")
        parts += [f"<li>{html.escape(r)}</li>" for r in page.verdict.reasons]
        parts.append("</ul>")
    else:
        parts.append("<p>Physics verdict: <span class='verdict v-none' id='verdict'>none</span>"
                     " (the track stage did not finish)</p>")
    if page.failure is not None:
        stage, message = page.failure
        parts.append(f"<h2>Failure</h2><div class='error' id='failure'>Stage "
                     f"<b>{html.escape(stage)}</b> failed:\n{html.escape(message)}</div>")
    if page.videos:
        parts.append("<h2>Videos</h2>")
        for caption, path in page.videos:
            wide = " wide" if caption.startswith(WIDE_VIDEOS) else ""
            first = page.first_captions.get(path)
            data = f" data-caption0='{html.escape(first)}'" if first else ""
            parts.append(f"<div class='videos{wide}'><figure><video controls muted loop "
                         f"autoplay playsinline{data} src='{_video_src(path, page_dir)}'></video>"
                         f"<figcaption>{html.escape(caption)}</figcaption></figure></div>")
    if page.plots:
        parts.append("<h2>Plots</h2><div class='plots'>")
        parts += [f"<figure class='plot' title='{html.escape(t)}'>{svg}</figure>"
                  for t, svg in page.plots]
        parts.append("</div>")
    if page.metrics:
        parts.append("<h2>Metrics</h2>")
        for stage, metrics in page.metrics.items():
            parts.append(f"<h3>{html.escape(stage)}</h3>{_metrics_table(stage, metrics)}")
    if page.manifest:
        parts.append(f"<h2>Manifest</h2>{_manifest_table(page.manifest)}")
    parts.append("</body></html>")
    return "".join(parts)
