"""Run speed: the physics filter's seconds per motion-second before and after, side by side in
one run, and the whole ``run`` after the video per stage on a task clip.

Part 1 (the filter, issue 14: <= 3 s wall per motion-second for a 10 s motion on 2 cores).
"Before" is the code of a git revision (default ``main``), exported with ``git archive`` into
a temporary folder; "after" is this checkout's. For each motion (default: the shared walk_001
cut to 10 s) each version runs :func:`exoactor.control.filter.filter_motion` with its default
settings in a fresh subprocess (``--set`` overrides settings of the "after" version only, e.g.
``--set planning_timestep_s=0.002``); the versions alternate ``--repeats`` times so machine
load hits both alike. Printed per version: wall and CPU seconds (``getrusage`` of the process
and its children, so worker processes count) per motion-second for the whole call (raw tracker
+ filter + metrics and files), and the filter's own wall (planning and the executed run), and
after/before ratios. CPU seconds are the figure to trust on a shared machine; wall on 2 free
cores is at least CPU / 2.

Part 2 (the whole run, issue 17: ``run`` after the video <= 2.5 s per video-second), with
``--video CLIP``: ``exoactor run --video CLIP`` with this checkout's code in a subprocess whose
stage runner is wrapped to record wall and CPU seconds per stage (clip, perceive, retarget,
objects, track, report), plus the process start-up (interpreter and imports before the first
stage). Printed as seconds per video-second. ``--before-track`` also runs the track and report
stages of the "before" code on a copy of that run directory (``--force track``), so the whole
run's figure can be stated before and after from one measurement of perceive. ``--run-dir``
starts from a run directory of the same clip (perceive .. objects done) and forces track and
report for both versions. ``--whole-before`` runs the whole ``run`` with both versions
(alternating, ``--repeats`` times each), prints both per stage side by side with the after /
before ratios, and compares the two run directories' artefacts by SHA-256 (files whose bytes
differ are listed; JSON files are also compared without their timing fields).

    EXOACTOR_ASSETS=../shared/assets python benchmarks/run_speed.py [--before main] [--after REV]
        [--motions walk_001] [--seconds 10] [--repeats 1] [--set planning_timestep_s=0.002]
        [--video ../shared/footage/CLIP.mp4 [--before-track | --whole-before]] [--skip-filter]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_FILTER_CHILD = r"""
import json, logging, os, resource, sys, time
logging.basicConfig(level=logging.WARNING)
sys.path.insert(0, os.environ["BENCH_DIR"])
import filter as fb  # the motions of benchmarks/filter.py
from exoactor.control.filter import FilterConfig, filter_motion
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
def main():
    name, seconds = sys.argv[1], float(sys.argv[2])
    over = json.loads(sys.argv[3])
    found = [m for n, m in fb.motions([name]) if n == name]
    if not found:
        sys.exit(f"no motion named {name}")
    motion = found[0]
    if seconds > 0:
        motion = motion.slice(0, int(round(seconds * motion.fps)) + 1)
    cfg = FilterConfig(**over)
    c0, t0 = cpu(), time.perf_counter()
    res = filter_motion(motion, cfg, show_progress=False)
    wall, used = time.perf_counter() - t0, cpu() - c0
    m = res.metrics
    print(json.dumps({"motion_s": m.clip_duration_s, "wall_s": wall, "cpu_s": used,
                      "filter_wall_s": res.report["wall_s"], "raw_wall_s": res.report["raw_wall_s"],
                      "fell": m.fell, "xy_m": m.root_xy_error_end_m, "yaw_deg": m.yaw_error_end_deg,
                      "kept": res.report["kept"]}))
if __name__ == "__main__":
    main()
"""

_RUN_CHILD = r"""
import json, resource, sys, time
T0 = time.perf_counter()
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
def main():
    # under the main guard: spawned worker processes re-run this file as __mp_main__
    import exoactor.pipeline as pipeline
    from exoactor.cli import app
    stages, first = {}, {}
    original = pipeline.RunDir.run_stage
    def timed(self, stage, fn, **kw):
        if not first:
            first.update(wall_s=time.perf_counter() - T0, cpu_s=cpu())
        c0, t0 = cpu(), time.perf_counter()
        try:
            return original(self, stage, fn, **kw)
        finally:
            stages[stage] = {"wall_s": time.perf_counter() - t0, "cpu_s": cpu() - c0}
    pipeline.RunDir.run_stage = timed
    try:
        app(sys.argv[1:], standalone_mode=False)
    finally:
        print("BENCH " + json.dumps({"startup": first, "stages": stages,
                                     "total": {"wall_s": time.perf_counter() - T0,
                                               "cpu_s": cpu()}}))
if __name__ == "__main__":
    main()
"""


def _export(ref: str, repo: Path, dest: Path) -> Path:
    """``src/`` of git revision ``ref`` under ``dest``."""
    archive = subprocess.run(["git", "-C", str(repo), "archive", ref, "src"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _filter_once(src: Path, name: str, seconds: float, over: dict) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src), BENCH_DIR=str(Path(__file__).parent))
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(_FILTER_CHILD)
        script = fh.name
    try:
        proc = subprocess.run([sys.executable, script, name, str(seconds), json.dumps(over)],
                              env=env, capture_output=True, text=True, check=False)
    finally:
        os.unlink(script)
    if proc.returncode != 0:
        sys.exit(f"{src}: filter failed on {name}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def filter_part(args, versions: dict[str, Path]) -> None:
    over = {"after": dict(args.set), "before": {}}
    for name in args.motions:
        results: dict[str, list[dict]] = {k: [] for k in versions}
        for i in range(args.repeats):
            for tag, src in versions.items():
                r = _filter_once(src, name, args.seconds, over[tag])
                results[tag].append(r)
                print(f"  {name} {tag:6s} #{i}: {r['motion_s']:.1f} s of motion, wall "
                      f"{r['wall_s']:6.1f} s, cpu {r['cpu_s']:6.1f} s (filter wall "
                      f"{r['filter_wall_s']:.1f} s, raw loop {r['raw_wall_s']:.1f} s); "
                      f"{'FELL' if r['fell'] else 'up'}, clip-end xy {r['xy_m']:.3f} m, "
                      f"yaw {r['yaw_deg']:.2f} deg, kept {r['kept']}", flush=True)
        dur = results["after"][0]["motion_s"]
        med = {k: {m: statistics.median(r[m] for r in v)
                   for m in ("wall_s", "cpu_s", "filter_wall_s")} for k, v in results.items()}
        print(f"\nphysics filter on {name} ({dur:.1f} s of motion), {os.cpu_count()} CPUs, "
              f"before = {args.before}, after = this checkout"
              f"{' with ' + str(over['after']) if over['after'] else ''}, median of "
              f"{args.repeats}, seconds per motion-second:")
        for tag in versions:
            print(f"  {tag:6s}: whole call {med[tag]['wall_s'] / dur:5.2f} wall, "
                  f"{med[tag]['cpu_s'] / dur:5.2f} CPU; filter alone "
                  f"{med[tag]['filter_wall_s'] / dur:5.2f} wall")
        b, a = med["before"], med["after"]
        print(f"  after / before: wall {a['wall_s'] / b['wall_s']:.2f}x, cpu "
              f"{a['cpu_s'] / b['cpu_s']:.2f}x (speed-up {b['wall_s'] / a['wall_s']:.1f}x wall, "
              f"{b['cpu_s'] / a['cpu_s']:.1f}x CPU)\n", flush=True)


def _run_once(src: Path, argv: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    env.setdefault("MUJOCO_GL", "egl")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(_RUN_CHILD)
        script = fh.name
    try:
        proc = subprocess.run([sys.executable, script, *argv], env=env, capture_output=True,
                              text=True, check=False)
    finally:
        os.unlink(script)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")]
    if proc.returncode != 0 or not lines:
        sys.exit(f"exoactor {' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][6:])


def _video_seconds(path: Path) -> float:
    import imageio_ffmpeg

    _, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    return float(seconds)


def _print_stages(label: str, r: dict, video_s: float, names: list[str]) -> None:
    st = r["stages"]
    parts = [f"start-up {r['startup'].get('cpu_s', 0.0) / video_s:4.2f}"]
    parts += [f"{n} {st[n]['cpu_s'] / video_s:4.2f}" for n in names if n in st]
    print(f"  {label:6s} CPU  s/video-s: " + ", ".join(parts)
          + f" | total {r['total']['cpu_s'] / video_s:5.2f}")
    parts = [f"start-up {r['startup'].get('wall_s', 0.0) / video_s:4.2f}"]
    parts += [f"{n} {st[n]['wall_s'] / video_s:4.2f}" for n in names if n in st]
    print(f"  {label:6s} wall s/video-s: " + ", ".join(parts)
          + f" | total {r['total']['wall_s'] / video_s:5.2f}")


_TIMING_KEY = ("seconds", "wall", "per_second", "step_s", "_s_per", "started", "created",
               "real_time_factor", "ms_per_frame", "frames_per_second")
"""Parts of JSON keys that hold timings (left out of the JSON comparison). The manifest's
``report`` stage ``key`` and ``inputs`` hash ``metrics.json``, whose timings differ: left out
too."""


def _untimed(value):  # noqa: ANN001, ANN202
    """``value`` (parsed JSON) without timing fields and without paths of the run folder."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items()
                if not any(t in k for t in _TIMING_KEY)
                and k not in ("input", "output", "video", "source")
                and not (k in ("key", "inputs") and "report" in str(value.get("outputs")))}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _html_diff(a: str, b: str) -> list[str]:
    """Lines of page ``b`` unlike page ``a``'s, after removing what matplotlib's SVGs vary
    from run to run (their date, their random element ids)."""
    import difflib
    import re

    def norm(text: str) -> list[str]:
        text = re.sub(r"<dc:date>[^<]*</dc:date>", "", text)
        text = re.sub(r"\b[mp][0-9a-f]{10}\b", "ID", text)
        return text.replace("><", ">\n<").splitlines()

    return [ln[1:] for ln in difflib.unified_diff(norm(a), norm(b), lineterm="", n=0)
            if ln.startswith("+") and not ln.startswith("+++")]


def compare_runs(a: Path, b: Path) -> list[str]:
    """Lines saying which artefacts of run folders ``a`` and ``b`` are byte-identical."""
    import hashlib

    def digest(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()[:16]

    names = sorted({p.name for p in a.iterdir() if p.is_file()}
                   | {p.name for p in b.iterdir() if p.is_file()})
    same, lines = [], []
    for name in names:
        fa, fb = a / name, b / name
        if not (fa.is_file() and fb.is_file()):
            lines.append(f"  {name}: only in {'before' if fa.is_file() else 'after'}")
            continue
        if digest(fa) == digest(fb):
            same.append(name)
            continue
        note = ""
        if name.endswith(".json"):
            try:
                equal = (json.dumps(_untimed(json.loads(fa.read_text())), sort_keys=True)
                         == json.dumps(_untimed(json.loads(fb.read_text())), sort_keys=True))
            except json.JSONDecodeError:
                equal = False
            note = " (equal without timing fields and paths)" if equal else " (content differs)"
        if name.endswith(".html"):
            rest = _html_diff(fa.read_text(), fb.read_text())
            note = (" (equal without the plots' SVG dates and ids)" if not rest else
                    f" ({len(rest)} lines differ beyond the plots' SVG dates and ids, e.g. "
                    f"{rest[0][:120]!r})")
        lines.append(f"  {name}: bytes differ{note}")
    return [f"  identical ({len(same)}): {', '.join(same)}"] + lines


def whole_part(args, versions: dict[str, Path], scratch: Path) -> None:
    """The whole ``run`` with both versions, alternating; per stage side by side."""
    video = args.video.resolve()
    results: dict[str, list[dict]] = {"before": [], "after": []}
    for i in range(args.repeats):
        for tag in ("before", "after") if i % 2 == 0 else ("after", "before"):
            out = scratch / "run"  # one path for both: run folders name themselves in files
            results[tag].append(_run_once(versions[tag], ["run", "--video", str(video),
                                                          "-o", str(out)]))
            out.rename(scratch / f"whole_{tag}_{i}")
            print(f"  {tag} #{i}: {results[tag][-1]['total']['wall_s']:.1f} s wall, "
                  f"{results[tag][-1]['total']['cpu_s']:.1f} s CPU", flush=True)
    video_s = _video_seconds(scratch / "whole_after_0" / "video.mp4")
    names = ["clip", "perceive", "retarget", "objects", "track", "report"]

    def med(tag: str) -> dict:
        rs = results[tag]
        pick = lambda f: {m: statistics.median(f(r)[m] for r in rs) for m in ("wall_s", "cpu_s")}  # noqa: E731
        return {"startup": pick(lambda r: r["startup"]), "total": pick(lambda r: r["total"]),
                "stages": {n: pick(lambda r, n=n: r["stages"][n]) for n in names
                           if all(n in r["stages"] for r in rs)}}

    m = {tag: med(tag) for tag in results}
    print(f"\nwhole `run` on {video.name}: {video_s:.2f} s of video, {os.cpu_count()} CPUs, "
          f"before = {args.before}, after = this checkout, median of {args.repeats}, "
          "seconds per video-second:")
    for tag in ("before", "after"):
        _print_stages(tag, m[tag], video_s, names)
    print("  after / before:")
    for n in ["startup", *names, "total"]:
        b = m["before"]["stages"].get(n) if n in names else m["before"][n]
        a = m["after"]["stages"].get(n) if n in names else m["after"][n]
        if a and b and b["wall_s"] > 0 and b["cpu_s"] > 0:
            print(f"    {n:8s} wall {a['wall_s'] / b['wall_s']:5.2f}x  cpu "
                  f"{a['cpu_s'] / b['cpu_s']:5.2f}x  (saved {(b['cpu_s'] - a['cpu_s']) / video_s:+.2f}"
                  " CPU s/video-s)")
    print("artefacts, before #0 vs after #0:")
    for line in compare_runs(scratch / "whole_before_0", scratch / "whole_after_0"):
        print(line)


def run_part(args, versions: dict[str, Path], scratch: Path) -> None:
    video = args.video.resolve()
    if args.whole_before:
        whole_part(args, versions, scratch)
        return
    out = scratch / "run_after"
    if args.run_dir is not None:  # perceive .. objects done: track + report of both versions
        shutil.copytree(args.run_dir, out)
        after = _run_once(versions["after"], ["run", "--video", str(video), "-o", str(out),
                                              "--force", "track"])
    else:
        after = _run_once(versions["after"], ["run", "--video", str(video), "-o", str(out)])
    clip = out / "video.mp4"
    video_s = _video_seconds(clip if clip.is_file() else video)
    names = ["clip", "perceive", "retarget", "objects", "track", "report"]
    print(f"\nwhole `run` on {video.name}: {video_s:.2f} s of video, {os.cpu_count()} CPUs, "
          "seconds per video-second per stage (after = this checkout):")
    _print_stages("after", after, video_s, names)
    if args.before_track:
        copy = scratch / "run_before"
        shutil.copytree(out, copy)
        before = _run_once(versions["before"], ["run", "--video", str(video), "-o", str(copy),
                                                "--force", "track"])
        _print_stages("before", before, video_s, names)
        for n in ("track", "report"):
            if n in before["stages"] and n in after["stages"]:
                b, a = before["stages"][n], after["stages"][n]
                print(f"  {n}: after / before wall {a['wall_s'] / b['wall_s']:.2f}x, cpu "
                      f"{a['cpu_s'] / b['cpu_s']:.2f}x")
        up = ("clip", "perceive", "retarget", "objects")
        perceive_cpu = sum(after["stages"][n]["cpu_s"] for n in up if n in after["stages"])
        perceive_wall = sum(after["stages"][n]["wall_s"] for n in up if n in after["stages"])
        for tag, r in (("before", before), ("after", after)):
            rest = [r["stages"][n] for n in ("track", "report") if n in r["stages"]]
            cpu = (after["startup"]["cpu_s"] + perceive_cpu + sum(x["cpu_s"] for x in rest))
            wall = (after["startup"]["wall_s"] + perceive_wall + sum(x["wall_s"] for x in rest))
            print(f"  whole run with the {tag} track/report: {wall / video_s:5.2f} s wall, "
                  f"{cpu / video_s:5.2f} s CPU per video-second (start-up and perceive .. "
                  "objects of the after run)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", default="main", help="git revision of the 'before' code")
    ap.add_argument("--after", default=None,
                    help="git revision of the 'after' code (default: this checkout's src/, "
                    "as it is on disk while the benchmark runs)")
    ap.add_argument("--motions", nargs="*", default=["walk_001"],
                    help="motion names of benchmarks/filter.py")
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="cut each motion to this many seconds (0: whole)")
    ap.add_argument("--repeats", type=int, default=1, help="measurements per version")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    type=lambda s: (s.split("=", 1)[0], _value(s.split("=", 1)[1])),
                    help="FilterConfig field for the 'after' version (repeatable)")
    ap.add_argument("--video", type=Path, help="a task clip for the whole-run part")
    ap.add_argument("--before-track", action="store_true",
                    help="also run track + report of the 'before' code on the clip's run")
    ap.add_argument("--whole-before", action="store_true",
                    help="run the whole `run` on the clip with both versions, compare artefacts")
    ap.add_argument("--keep", type=Path, help="copy the run directories here (for inspection)")
    ap.add_argument("--skip-filter", action="store_true", help="only the whole-run part")
    ap.add_argument("--run-dir", type=Path,
                    help="a run directory of --video with perceive .. objects done: only track "
                    "and report are run (forced), for both versions")
    args = ap.parse_args()
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="exoactor-run-speed-") as tmp:
        scratch = Path(tmp)
        (scratch / "before_tree").mkdir()
        after = repo / "src"
        if args.after is not None:
            (scratch / "after_tree").mkdir()
            after = _export(args.after, repo, scratch / "after_tree")
        versions = {"before": _export(args.before, repo, scratch / "before_tree"),
                    "after": after}
        if not args.skip_filter:
            filter_part(args, versions)
        if args.video is not None:
            try:
                run_part(args, versions, scratch)
            finally:
                if args.keep is not None:
                    for d in scratch.iterdir():
                        if d.is_dir() and d.name not in ("before_tree", "after_tree"):
                            shutil.copytree(d, args.keep / d.name, dirs_exist_ok=True)


if __name__ == "__main__":
    main()
