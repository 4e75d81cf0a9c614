"""The batch report: one HTML page showing, per task, the candidates side by side with their
scores, their rank and the winner.

Each candidate card links its run's own report and shows a thumbnail of the robot drawn
into the input video (a frame of ``robot_in_scene.mp4``, linked to it) when the run made one,
else its world-view video (``rollout.mp4``). Images and videos are linked by relative path (not
embedded), so the page stays small for large suites; open it from the batch folder (or serve
the folder).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from exoactor import artefacts
from exoactor.batch.outcome import RunOutcome
from exoactor.batch.page import document, esc, table, verdict_badge
from exoactor.batch.ranking import TaskRanking
from exoactor.fileio import atomic_path

SCORE_ROWS = (("fell", "fell"), ("fall_time_s", "fall at [s]"),
              ("global_body_error_max_m", "global error [m]"),
              ("key_body_error_mm", "key-body error [mm]"),
              ("mean_joint_error_rad", "joint error [rad]"))
"""Metrics shown on each candidate card, in ranking order."""


def _rel(path: Path, out_dir: Path) -> str:
    try:
        return path.relative_to(out_dir).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def _card(o: RunOutcome, ranking: TaskRanking, out_dir: Path) -> str:
    winner = ranking.winner == o.run_id
    rank = ranking.rank(o.run_id)
    head = [f"<b>{esc(o.run_id.split('/')[-1])}</b>",
            f"rank {rank}" if rank else "unranked"]
    badges = ['<span class="badge winner">WINNER</span>'] if winner else []
    badges.append(verdict_badge(o.verdict) if o.ok else
                  f'<span class="badge bad">failed: {esc(o.failed_stage)}</span>')
    rows = [{"score": label, "value": o.metrics[key]} for key, label in SCORE_ROWS
            if o.metrics.get(key) is not None]
    rows += [{"score": "seed", "value": o.seed}]
    rows += [{"score": k, "value": v} for k, v in sorted(o.backends.items())]
    if o.input:
        rows.append({"score": "input", "value": Path(o.input).name})
    parts = [" · ".join(head), "<div>" + " ".join(badges) + "</div>", table(rows)]
    thumb, scene = o.run_dir / artefacts.ROBOT_IN_SCENE_THUMB, o.run_dir / artefacts.ROBOT_IN_SCENE
    video = o.run_dir / artefacts.ROLLOUT_VIDEO
    if thumb.is_file():
        img = (f'<img class="thumb" alt="robot in the scene" '
               f'src="{esc(_rel(thumb, out_dir))}">')
        parts.append(f'<a href="{esc(_rel(scene, out_dir))}">{img}</a>' if scene.is_file()
                     else img)
    elif video.is_file():
        parts.append(f'<video controls muted loop preload="metadata" '
                     f'src="{esc(_rel(video, out_dir))}"></video>')
    if o.error:
        detail = f" ({o.detail})" if o.detail else ""
        parts.append(f'<div class="error">{esc(o.error + detail)}</div>')
    page = o.run_dir / artefacts.REPORT
    if page.is_file():
        parts.append(f'<p><a href="{esc(_rel(page, out_dir))}">run report</a></p>')
    css = "cand is-winner" if winner else "cand"
    return f'<div class="{css}" data-run="{esc(o.run_id)}">' + "".join(parts) + "</div>"


def write_batch_report(out_dir: Path, suite_name: str, outcomes: Sequence[RunOutcome],
                       rankings: Sequence[TaskRanking]) -> Path:
    """Write ``report.html`` into ``out_dir`` and return its path."""
    sections = []
    for r in rankings:
        mine = {o.run_id: o for o in outcomes if o.task == r.task}
        ordered = [mine[i] for i in (*r.order, *r.failed) if i in mine]
        status = ('<span class="badge ok">success</span>' if r.success
                  else '<span class="badge bad">no executable candidate</span>')
        cards = "".join(_card(o, r, out_dir) for o in ordered)
        sections.append(f'<section data-task="{esc(r.task)}"><h2>{esc(r.task)} {status}</h2>'
                        f'<div class="cands">{cards}</div></section>')
    succeeded = sum(r.success for r in rankings)
    body = (f"<h1>batch: {esc(suite_name)}</h1><p>{succeeded} of {len(rankings)} tasks "
            f"succeeded; {len(outcomes)} runs. Candidates are ranked by: no fall, physics "
            f"verdict, global error, motion quality. "
            f'<a href=artefacts.BATCH_SUMMARY_HTML>summary tables</a></p>' + "".join(sections))
    path = out_dir / artefacts.REPORT
    with atomic_path(path) as tmp:
        tmp.write_text(document(f"batch: {suite_name}", body))
    return path
