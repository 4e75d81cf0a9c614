"""HTML building blocks shared by the batch report and the summary page (no I/O)."""

from __future__ import annotations

import html
from collections.abc import Sequence

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{margin-bottom:4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
.badge{display:inline-block;padding:3px 10px;border-radius:5px;font-weight:600;color:#fff;
font-size:13px}
.v-executable{background:#2e7d32}.v-marginal{background:#ef6c00}
.v-not-executable{background:#c62828}.v-none{background:#757575}
.winner{background:#1565c0}.ok{background:#2e7d32}.bad{background:#c62828}
.cands{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.cand{border:1px solid #ccc;border-radius:8px;padding:10px;width:360px}
.cand.is-winner{border:3px solid #1565c0}
.cand video,.cand img.thumb{width:100%;background:#000}
table{border-collapse:collapse;margin:6px 0 14px}td,th{border:1px solid #ddd;padding:3px 8px;
font-size:13px;text-align:left}th{background:#f5f5f5}
.error{background:#ffebee;border-left:4px solid #c62828;padding:6px 10px;white-space:pre-wrap;
font-size:13px}
"""


def esc(value: object) -> str:
    """Escaped display text of a cell value."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def verdict_badge(verdict: str | None) -> str:
    css = "v-" + (verdict or "none").replace(" ", "-")
    return f'<span class="badge {css}">{esc(verdict or "no verdict")}</span>'


def table(rows: Sequence[dict], columns: Sequence[str] | None = None,
          html_cells: Sequence[str] = ()) -> str:
    """An HTML table of ``rows``; values of ``html_cells`` columns are inserted unescaped."""
    if not rows:
        return "<p><i>none</i></p>"
    columns = list(columns or rows[0].keys())
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{r.get(c, '') if c in html_cells else esc(r.get(c, ''))}</td>"
                         for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def document(title: str, body: str) -> str:
    """A complete HTML page."""
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body>{body}</body></html>\n")
