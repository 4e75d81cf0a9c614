"""The ``exoactor`` command line. Thin: parse, build a config, call one library function, print.

Only this module configures logging and the MuJoCo GL backend.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from exoactor import __version__, artefacts
from exoactor.errors import ExoActorError

app = typer.Typer(name="exoactor", no_args_is_help=True, add_completion=False,
                  help="Make a humanoid robot do a task by imagining a person doing it.",
                  pretty_exceptions_enable=False,
                  rich_markup_mode=None)  # plain help: rich markup ate units like [s] and [m]
assets_app = typer.Typer(no_args_is_help=True, help="List, fetch, verify and locate assets.")
app.add_typer(assets_app, name="assets")

CsvFormat = Annotated[Literal["beyondmimic", "kimodo"], typer.Option(
    help="Convention of a headerless CSV: beyondmimic (quaternion x y z w) or kimodo (w x y z: "
         "Kimodo, ProtoMotions, ARDY).")]


def _console():
    from exoactor.ui import console

    return console()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"exoactor {__version__}")
        raise typer.Exit()


QUIET_NATIVE_LOGS = ("perceive", "run", "demo", "batch")
"""Commands that run MediaPipe: its TFLite/absl chatter on stderr is dropped unless --verbose."""


@app.callback()
def _main(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Log debug detail (and the TFLite/absl logs of perceive).")] = False,
    version: Annotated[Optional[bool], typer.Option(  # noqa: UP007 - typer needs Optional
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None,
) -> None:
    os.environ.setdefault("MUJOCO_GL", "egl")
    if not verbose:  # MediaPipe / TFLite chatter (what ignores these is filtered below)
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not verbose and ctx.invoked_subcommand in QUIET_NATIVE_LOGS:
        from exoactor.native_logs import NativeLogFilter

        ctx.call_on_close(NativeLogFilter().start().stop)


# ----------------------------------------------------------------------------- config plumbing
ROOT = Path(__file__).resolve().parent
"""The package folder: config sources are read from here for ``--help`` text."""


@functools.cache
def _field_docs(module: str, model: str) -> dict[str, str]:
    """Attribute docstrings of the fields of class ``model`` in ``exoactor.<module>``, read from
    the source (importing the stage would load its heavy dependencies just to print help)."""
    import ast

    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == model), None)
    if cls is None:  # moved to another module and imported here: follow the import
        for node in tree.body:
            if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("exoactor.")
                    and any(a.name == model for a in node.names)):
                return _field_docs(node.module.removeprefix("exoactor."), model)
        raise ExoActorError(f"{path}: no class {model} (the --help text of its options is read "
                            "from there: update the module in cli.py)")
    docs, body = {}, cls.body
    for node, nxt in zip(body, body[1:], strict=False):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _doc(module: str, model: str, field: str, extra: str = "") -> str:
    """``--help`` text of an option that sets field ``field`` of config ``model``: the field's
    docstring (code markup removed), then ``extra``."""
    text = _field_docs(module, model)[field].replace("``", "")
    return f"{text} {extra}".strip()


def _choices(package: str, variable: str):  # noqa: ANN202
    """Names of the backends in ``package`` (read from their modules, nothing imported) and a
    callback that refuses any other name as a usage error listing them."""
    from exoactor.registry import discover

    folder = ROOT.joinpath(*package.split(".")[1:])  # not find_spec: that imports the parents
    names = sorted(discover(package, variable, folders=[folder]))

    def check(value: str | None) -> str | None:
        if value is not None and value not in names:
            raise typer.BadParameter(f"{value!r} is not one of: {', '.join(names)}")
        return value

    return names, check


def _read_config(path: Path | None, section: str | None = None) -> dict:
    """A config file (``.json`` or ``.toml``) as a dict; a run config's ``section`` (e.g.
    ``perceive``) when the file has one, so one file serves ``run`` and the stage command."""
    if path is None:
        return {}
    from exoactor.fileio import read_config_file

    data = read_config_file(path, "config")
    if section is not None and isinstance(data.get(section), dict):
        data = data[section]
    return data


def _override(data: dict, **flags: object) -> dict:
    """``data`` with every flag that was given (not None) set."""
    return {**data, **{k: v for k, v in flags.items() if v is not None}}


_P = ("perceive.config", "PerceiveConfig")
_S = ("deploy.sim_robot", "SimRobotConfig")
_D = ("deploy.config", "DeployConfig")
_R = ("retarget.config", "RetargetConfig")

_I = ("imagine.config", "ImagineConfig")
CONTROLLERS, _controller = _choices("exoactor.control", "controllers")
PLANNERS, _planner = _choices("exoactor.imagine.plan", "planners")
EDITORS, _editor = _choices("exoactor.imagine.transfer", "scene_editors")
GENERATORS, _generator = _choices("exoactor.imagine.video", "generators")

ConfigFile = Annotated[Optional[Path], typer.Option(  # noqa: UP007
    "--config", help="Stage config (.json or .toml) with the stage config's fields (or a run "
                     "config with a section for the stage); flags given override it.")]


# ----------------------------------------------------------------------------- convert
@app.command()
def convert(
    src: Annotated[Path, typer.Argument(
        help="Input motion (.npz, .pkl, .gmt.pkl, .csv, .sonic folder).")],
    dst: Annotated[Path, typer.Argument(
        help="Output motion; format from the extension (.sonic: a SONIC reference folder).")],
    fps: Annotated[Optional[float], typer.Option(  # noqa: UP007
        min=0.1, help="Resample to this rate [Hz].")] = None,
    input_fps: Annotated[Optional[float], typer.Option(  # noqa: UP007
        min=0.1, help="Frame rate of an input that stores none (CSV) [Hz].")] = None,
    robot: Annotated[str, typer.Option(help="Robot the motion is for.")] = "g1",
    csv_format: CsvFormat = "beyondmimic",
    out_csv_format: Annotated[Optional[Literal["beyondmimic", "kimodo"]], typer.Option(  # noqa: UP007
        help="Convention of a CSV output (default: --csv-format).")] = None,
) -> None:
    """Convert a robot motion between formats (GMR/TWIST2 pkl, GMT pkl, BeyondMimic or Kimodo
    CSV, npz, SONIC reference folder: OUT.sonic)."""
    from exoactor.formats import convert_motion

    r = convert_motion(src, dst, fps=fps, input_fps=input_fps, robot=robot,
                       csv_format=csv_format, out_csv_format=out_csv_format)
    _console().print(f"[green]wrote[/] {r.dst} ({r.dst_format}): {r.frames_out} frames at "
                     f"{r.fps_out:g} Hz (from {r.src_format}, {r.frames_in} frames at {r.fps_in:g} Hz)")


# ----------------------------------------------------------------------------- assets
@assets_app.command("list")
def assets_list() -> None:
    """List the named assets and where each resolves now."""
    from rich.table import Table

    from exoactor.assets import asset_files, list_assets

    table = Table("name", "files", "resolves from", "description")
    for spec, where in list_assets():
        table.add_row(spec.name, str(len(asset_files(spec.name))), where, spec.description)
    _console().print(table)


@assets_app.command("fetch")
def assets_fetch(
    names: Annotated[Optional[list[str]], typer.Argument(  # noqa: UP007
        callback=_asset_names, help="Assets (default: all).")] = None,
    force: Annotated[bool, typer.Option(help="Download again even if cached.")] = False,
) -> None:
    """Download assets into the user cache, checking each file's sha256."""
    from exoactor.assets import ASSETS, fetch_asset

    for name in names or list(ASSETS):
        root = fetch_asset(name, force=force)
        _console().print(f"[green]ok[/] {name} → {root}")


@assets_app.command("verify")
def assets_verify(
    names: Annotated[Optional[list[str]], typer.Argument(  # noqa: UP007
        callback=_asset_names, help="Assets (default: all).")] = None,
) -> None:
    """Check every file of the assets against its pinned sha256 (never downloads)."""
    from exoactor.assets import ASSETS, verify_asset

    failed = False
    for name in names or list(ASSETS):
        r = verify_asset(name)
        if r.passed:
            _console().print(f"[green]ok[/] {name}: {r.ok} files in {r.root}")
        else:
            failed = True
            _console().print(f"[red]FAIL[/] {name} in {r.root}: {len(r.missing)} missing, "
                             f"{len(r.mismatched)} with a wrong sha256 "
                             f"{(r.missing + r.mismatched)[:5]}")
    if failed:
        raise typer.Exit(code=1)


def _asset_name(name: str | None) -> str | None:
    """Check an asset name on the command line (a usage error lists the names)."""
    from exoactor.assets import ASSETS

    if name is not None and name not in ASSETS:
        raise typer.BadParameter(f"{name!r} is not an asset; available: {', '.join(ASSETS)}")
    return name


def _asset_names(names: list[str] | None) -> list[str] | None:
    for name in names or ():
        _asset_name(name)
    return names


def _asset_folder(folder: Path) -> Path:
    """Check that ``folder`` holds an asset collection (a usage error says what it must hold)."""
    from exoactor.assets import ASSETS

    known = sorted({spec.collection for spec in ASSETS.values()})
    if not any((folder / c).is_dir() for c in known):
        raise typer.BadParameter(f"{str(folder)!r} holds none of the asset collections "
                                 f"({', '.join(c + '/' for c in known)})")
    return folder


@assets_app.command("path")
def assets_path(name: Annotated[Optional[str], typer.Argument(  # noqa: UP007
                    callback=_asset_name,
                    help="Asset name (default: say where assets are looked for).")] = None,
                download: Annotated[bool, typer.Option(help="Download if missing.")] = True) -> None:
    """Print the path an asset resolves to (downloading it if needed), or where assets come from."""
    from exoactor.assets import ASSETS, asset_roots, asset_source, resolve_asset, user_config_path

    if name is not None:
        typer.echo(str(resolve_asset(name, download=download)))
        return
    labels = {"env": "EXOACTOR_ASSETS", "config": f"user config ({user_config_path()})",
              "cache": "cache"}
    for i, (label, root) in enumerate(asset_roots(), 1):
        typer.echo(f"{i}. {labels[label]}: {root if root is not None else '(not set)'}")
    typer.echo("then: download into the cache")
    for spec in ASSETS.values():
        typer.echo(f"  {spec.name}: {labels.get(asset_source(spec.name), 'download')}")


@assets_app.command("use")
def assets_use(folder: Annotated[Path, typer.Argument(
        callback=_asset_folder,
        help="Folder holding the asset collections (twist2/, sports2d/, ...).")]) -> None:
    """Record an asset folder in the user config, so every shell finds the assets there."""
    from exoactor.assets import record_asset_root, user_config_path

    root = record_asset_root(folder)
    _console().print(f"[green]recorded[/] {root} in {user_config_path()}")


# ----------------------------------------------------------------------------- render
@app.command()
def render(
    motion: Annotated[Path, typer.Argument(help="Robot motion (.npz, .pkl, .gmt.pkl, .csv).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .mp4.")] = Path("clip.mp4"),
    robot: Annotated[str, typer.Option(help="Robot model.")] = "g1",
    fps: Annotated[Optional[float], typer.Option(  # noqa: UP007
        min=1.0, max=240.0, help="Video rate [Hz] (default: motion's).")] = None,
    input_fps: Annotated[Optional[float], typer.Option(  # noqa: UP007
        min=0.1, help="Rate of a CSV input [Hz].")] = None,
    csv_format: CsvFormat = "beyondmimic",
    width: Annotated[Optional[int], typer.Option(  # noqa: UP007
        min=16, max=7680, help="Frame width [px] (default: the renderer's).")] = None,
    height: Annotated[Optional[int], typer.Option(  # noqa: UP007
        min=16, max=4320, help="Frame height [px] (default: the renderer's).")] = None,
) -> None:
    """Render a robot motion kinematically to an mp4 with MuJoCo's offscreen renderer."""
    from exoactor.formats import load_motion
    from exoactor.report.render import render_motion

    m = load_motion(motion, robot=robot, fps=input_fps, csv_format=csv_format)
    r = render_motion(m, out, fps=fps, **_override({}, width=width, height=height))
    _console().print(f"[green]wrote[/] {r.path}: {r.num_frames} frames at {r.fps:g} Hz, "
                     f"{r.width}x{r.height} ({r.ms_per_frame:.0f} ms/frame)")


# ----------------------------------------------------------------------------- later stages
def _print_summary(summary) -> None:  # noqa: ANN001
    from rich.table import Table

    table = Table("stage", "status", "seconds", "outputs", title=f"run {summary.run_dir}")
    for name, res in summary.stages.items():
        table.add_row(name, res.status, f"{res.seconds:.1f}",
                      ", ".join(p.name for p in res.outputs))
    _console().print(table)
    metrics_file = summary.run_dir / artefacts.METRICS
    if metrics_file.is_file():
        import json

        m = json.loads(metrics_file.read_text())
        _console().print(
            f"tracking: fell={m.get('fell')}  mean joint error {m.get('mean_joint_error_rad', 0):.3f}"
            f" rad  key-body error {m.get('key_body_error_mm', 0):.0f} mm  end drift "
            f"{m.get('root_xy_error_end_m', 0):.2f} m  yaw {m.get('yaw_error_end_deg', 0):.1f}°"
            + (f" (clip end reached {m['clip_end_late_s']:.2f} s late)"
               if m.get("clip_end_late_s") else ""))
    if summary.verdict:
        v = summary.verdict["verdict"]
        color = ("green" if v == "executable" else "yellow" if v.startswith("executable")
                 or v == "marginal" else "red")
        _console().print(f"physics verdict: [bold {color}]{summary.verdict['verdict']}[/] — "
                         + "; ".join(summary.verdict["reasons"]))
    if summary.failed_stage:
        _console().print(f"[red]stage {summary.failed_stage} failed:[/] {summary.error}")
    if summary.report:
        _console().print(f"report: {summary.report}")
        typer.echo(str(summary.report))


def _run_config(config: Path | None, start: float | None, end: float | None, hands: bool | None,
                fov: float | None, reground: bool | None):  # noqa: ANN202
    from exoactor.runner import RunConfig

    data = RunConfig.model_validate(_read_config(config)).model_dump()
    if hands is not None:
        data["hands"] = hands
    if start is not None:
        data["start_s"] = start
    if end is not None:
        data["end_s"] = end
    if fov is not None:
        data["perceive"]["fov_deg"] = fov
    if reground is not None:
        data["retarget"]["reground"] = reground
    return RunConfig.model_validate(data)  # validated: a bad option is reported, not copied in


def _stages(force: list[str] | None) -> list[str] | None:
    """Check ``--force`` names against the run's stages, imagine's included for ``--task`` (a
    usage error lists them)."""
    from exoactor.pipeline import COMMANDS

    STAGES = COMMANDS["imagine"] + COMMANDS["run"]  # noqa: N806

    bad = [f for f in force or () if f not in (*STAGES, "all")]
    if bad:
        raise typer.BadParameter(f"{bad[0]!r} is not a stage; stages: {', '.join(STAGES)}, all")
    return force


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run directory.")] = Path("runs/demo"),
    force: Annotated[Optional[list[str]], typer.Option(  # noqa: UP007
        callback=_stages, help="Recompute a stage.")] = None,
) -> None:
    """Run the whole pipeline on the real sample clip (fetched on first use); print the report."""
    from exoactor.assets import resolve_asset
    from exoactor.runner import DEMO_WINDOW_S, demo_config, run_video

    clip = resolve_asset("sample_clip")
    _console().print(f"demo: {clip.name}, window {DEMO_WINDOW_S[0]:g}-{DEMO_WINDOW_S[1]:g} s")
    summary = run_video(clip, out, demo_config(), force=set(force or ()))
    _print_summary(summary)
    if not summary.ok:
        raise typer.Exit(code=1)


@app.command()
def run(
    video: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        "--video", help="Input clip of a person (or give --task and --scene).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Run directory.")] = Path("runs/run"),
    task: Annotated[Optional[str], typer.Option(help="Task to imagine (with --scene).")] = None,  # noqa: UP007
    scene: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        help="Photo of the robot in its scene (with --task).")] = None,
    planner: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_planner, help=f"Imagine planner: one of {', '.join(PLANNERS)}.")] = None,
    editor: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_editor, help=f"Imagine scene editor: one of {', '.join(EDITORS)}.")] = None,
    generator: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_generator, help=f"Imagine video generator: one of {', '.join(GENERATORS)}.")
    ] = None,
    model: Annotated[Optional[str], typer.Option(help="Video generator model.")] = None,  # noqa: UP007
    device: Annotated[Optional[str], typer.Option(help="auto, cuda or cpu.")] = None,  # noqa: UP007
    candidates: Annotated[Optional[int], typer.Option(help="Clips to generate.")] = None,  # noqa: UP007
    imagine_options: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        help="JSON/TOML with ImagineConfig fields.")] = None,
    robot: Annotated[Optional[str], typer.Option(help="Robot (only g1 runs end to end).")  # noqa: UP007
                     ] = None,
    hands: Annotated[Optional[bool], typer.Option(help=_doc("runner", "RunConfig", "hands"))  # noqa: UP007
                     ] = None,
    config: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        help="Run config (.json or .toml) with RunConfig fields; flags given override it.")
    ] = None,
    start: Annotated[Optional[float], typer.Option(  # noqa: UP007
        help=_doc("runner", "RunConfig", "start_s"))] = None,
    end: Annotated[Optional[float], typer.Option(help=_doc("runner", "RunConfig", "end_s"))  # noqa: UP007
                   ] = None,
    fov: Annotated[Optional[float], typer.Option(help=_doc(*_P, "fov_deg"))] = None,  # noqa: UP007
    reground: Annotated[Optional[bool], typer.Option(help=_doc(*_R, "reground"))] = None,  # noqa: UP007
    force: Annotated[Optional[list[str]], typer.Option(  # noqa: UP007
        callback=_stages, help="Recompute a stage (clip, perceive, retarget, track, report, all).")
    ] = None,
) -> None:
    """Run every stage after the video (perceive → retarget → track → report), resumably."""
    from exoactor.runner import run_video

    if robot not in (None, "g1"):
        raise ExoActorError(f"robot '{robot}' is not supported by the end-to-end run; use g1")
    cfg = _run_config(config, start, end, hands, fov, reground)
    if task is not None or scene is not None:
        if task is None or scene is None or video is not None:
            raise ExoActorError("give --task and --scene together (to imagine the video), "
                                "or --video")
        from exoactor.runner import run_task_command

        ts = run_task_command(task, scene, out, cfg, force=set(force or ()), planner=planner,
                              editor=editor, generator=generator, model=model, device=device,
                              candidates=candidates, options=imagine_options)
        if ts.run is None:
            _console().print(f"[red]imagine stage {ts.failed_stage} failed:[/] {ts.error}")
            raise typer.Exit(code=1)
        summary = ts.run
    elif video is None:
        raise ExoActorError("give --video, or --task and --scene")
    else:
        summary = run_video(video, out, cfg, force=set(force or ()))
    _print_summary(summary)
    if not summary.ok:
        raise typer.Exit(code=1)


@app.command()
def imagine(
    task: Annotated[str, typer.Option(help="What to do, e.g. 'walk to the chair and sit down'.")],
    scene: Annotated[Path, typer.Option(help="Photo of the robot in its scene (png/jpg).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run directory.")] = Path("runs/imagine"),
    planner: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_planner, help=_doc(*_I, "planner", f"One of: {', '.join(PLANNERS)}."))] = None,
    editor: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_editor, help=_doc(*_I, "editor", f"One of: {', '.join(EDITORS)}."))] = None,
    generator: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_generator, help=_doc(*_I, "generator", f"One of: {', '.join(GENERATORS)}."))
    ] = None,
    video: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        help="Clip of a person doing the task (--generator file).")] = None,
    model: Annotated[Optional[str], typer.Option(  # noqa: UP007
        help="Generator model: a local diffusers folder, or the hosted model name.")] = None,
    editor_model: Annotated[Optional[str], typer.Option(  # noqa: UP007
        help="Local diffusers image-edit model folder.")] = None,
    device: Annotated[Optional[str], typer.Option(  # noqa: UP007
        help="auto, cuda or cpu for local models (cuda falls back to cpu with a warning).")] = None,
    candidates: Annotated[Optional[int], typer.Option(  # noqa: UP007
        help="Clips to generate; the best one passing the clip checks is kept.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the first candidate.")] = None,  # noqa: UP007
    options: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        "--config", "--options",
        help="Stage config (.json or .toml) with ImagineConfig fields (planner_options, "
             "generator_options, checks...); flags given override it.")] = None,
    force: Annotated[Optional[list[str]], typer.Option(  # noqa: UP007
        help="Recompute a stage (scene, plan, transfer, generate, check, all).")] = None,
) -> None:
    """Task + scene image → plan.json, human_scene.png and a checked video.mp4 (resumable)."""
    from exoactor.imagine import imagine_command

    s = imagine_command(task, scene, out, force=set(force or ()), planner=planner, editor=editor,
                        generator=generator, video=video, model=model, editor_model=editor_model,
                        device=device, candidates=candidates, seed=seed, options=options)
    for name, res in s.stages.items():
        _console().print(f"  {name:<9} {res.status:<6} {res.seconds:6.1f} s")
    _console().print(f"plan ({s.plan.planner}): " + " → ".join(
        f"{a.verb}({a.target})" if a.target else a.verb for a in s.plan.actions))
    status = "[green]passed[/]" if s.passed else "[yellow]failed (kept)[/]"
    _console().print(f"video: candidate {s.selected}, {s.source_fps:g} fps → {s.fps:g} fps, "
                     f"clip checks {status}")
    typer.echo(str(s.video))


POSE_BACKENDS, _pose_backend = _choices("exoactor.perceive.backends", "pose_backends")


@app.command()
def perceive(
    video: Annotated[Path, typer.Argument(help="Input video (static camera, one actor).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Human motion .npz.")] = Path(
        artefacts.HUMAN_MOTION),
    config: ConfigFile = None,
    backend: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_pose_backend, help=_doc(*_P, "backend", f"One of: {', '.join(POSE_BACKENDS)}.")
    )] = None,
    fov: Annotated[Optional[float], typer.Option(help=_doc(*_P, "fov_deg"))] = None,  # noqa: UP007
    person: Annotated[Optional[int], typer.Option(help=_doc(*_P, "person"))] = None,  # noqa: UP007
    hands: Annotated[Optional[bool], typer.Option(help=_doc(*_P, "hands"))] = None,  # noqa: UP007
    overlay: Annotated[Optional[bool], typer.Option(help=_doc(*_P, "overlay"))] = None,  # noqa: UP007
    body_height: Annotated[Optional[float], typer.Option(  # noqa: UP007
        help=_doc(*_P, "body_height_m"))] = None,
) -> None:
    """Video → world-grounded human motion (body + hands); writes perceive_metrics.json."""
    from exoactor.perceive import PerceiveConfig, perceive_video

    cfg = PerceiveConfig.model_validate(_override(
        _read_config(config, "perceive"), backend=backend, fov_deg=fov, person=person,
        hands=hands, overlay=overlay, body_height_m=body_height))
    res = perceive_video(video, out, cfg)
    m = res.metrics.to_dict()
    _console().print(
        f"[green]wrote[/] {res.motion_path}: {res.motion.num_frames} frames at "
        f"{res.motion.fps:g} Hz\n  detection rate {m.get('detection_rate', float('nan')):.1%}, "
        f"median reprojection {m.get('reprojection_error_px_median', float('nan')):.1f} px, "
        f"{m['seconds_per_video_second']['total']:.2f} s of compute per video second"
        + (f"\n  overlay: {res.overlay_path}" if res.overlay_path else ""))


@app.command()
def retarget(
    human: Annotated[Path, typer.Argument(help="Human motion (.npz from `exoactor perceive`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Robot motion (.npz/.pkl/.csv).")] = Path(
        artefacts.ROBOT_MOTION),
    config: ConfigFile = None,
    robot: Annotated[Optional[str], typer.Option(help=_doc(*_R, "robot"))] = None,  # noqa: UP007
    hands: Annotated[Optional[bool], typer.Option(help=_doc(*_R, "hands"))] = None,  # noqa: UP007
    fps: Annotated[Optional[float], typer.Option(help=_doc(*_R, "output_fps"))] = None,  # noqa: UP007
    reground: Annotated[Optional[bool], typer.Option(help=_doc(*_R, "reground"))] = None,  # noqa: UP007
) -> None:
    """Human motion → robot motion (IK with contacts and limits); writes retarget_metrics.json."""
    from exoactor.retarget import RetargetConfig, retarget_file

    cfg = RetargetConfig.model_validate(_override(
        _read_config(config, "retarget"), robot=robot, hands=hands, output_fps=fps,
        reground=reground))
    res = retarget_file(human, out, cfg)
    m = res.metrics
    _console().print(
        f"[green]wrote[/] {out} ({res.status}): {m.num_frames} frames at {m.fps:g} Hz, "
        f"{m.frames_per_second:.0f} frames/s\n  limit violations {m.joint_limit_violations}, "
        f"foot skate {m.foot_skate_mm:.2f} mm/contact frame, penetration "
        f"{m.foot_penetration_mm:.1f} mm, float {m.foot_float_mm:.1f} mm, self-collisions "
        f"{m.self_collisions}, keypoint error median {m.keypoint_error_mm['median']:.1f} mm")


_T = ("control.track", "TrackConfig")


@app.command()
def track(
    motion: Annotated[Path, typer.Argument(help="Robot motion (.npz, .pkl, .gmt.pkl, .csv).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("track_out"),
    config: ConfigFile = None,
    controller: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_controller, help=_doc(*_T, "controller", f"One of: {', '.join(CONTROLLERS)}.")
    )] = None,
    drift_correction: Annotated[Optional[bool], typer.Option(  # noqa: UP007
        help="Legacy heuristic drift correction (control/drift.py) on the raw tracker; the "
             "physics filter replaces it and ignores this. Off on the command line unless "
             "given here or in --config (track.drift.enabled).")] = None,
    start: Annotated[Optional[str], typer.Option(help=_doc(*_T, "start"))] = None,  # noqa: UP007
    render: Annotated[bool, typer.Option(help="Also write rollout.mp4.")] = False,
    input_fps: Annotated[Optional[float], typer.Option(  # noqa: UP007
        min=0.1, help="Rate of a CSV input [Hz].")] = None,
    csv_format: CsvFormat = "beyondmimic",
    physics_filter: Annotated[Optional[bool], typer.Option(  # noqa: UP007
        "--filter/--no-filter",
        help="Plan what the tracker is fed with the simulated robot in the loop (physics "
             "filter; writes executable_motion.npz and filter_report.json); --no-filter runs "
             "the raw tracker.")] = None,
    workers: Annotated[Optional[int], typer.Option(  # noqa: UP007
        help=_doc("control.filter.config", "FilterConfig", "workers"))] = None,
) -> None:
    """Execute a robot motion in MuJoCo physics with a general tracking controller."""
    from exoactor.control import TrackConfig, track_motion
    from exoactor.control.filter import FilterConfig
    from exoactor.formats import load_motion

    data = _read_config(config)  # TrackConfig fields (+ a filter section), or a run config
    filter_data = data.pop("filter", None) or {}
    data = data["track"] if isinstance(data.get("track"), dict) else data
    drift = dict(data.get("drift") or {})
    if drift_correction is not None or "enabled" not in drift:
        drift["enabled"] = bool(drift_correction)
    cfg = TrackConfig.model_validate(_override(data, controller=controller, start=start,
                                               drift=drift))  # options checked first
    fcfg = FilterConfig.model_validate(_override(filter_data, workers=workers,
                                                 enabled=physics_filter))
    m = load_motion(motion, fps=input_fps, csv_format=csv_format)
    use_filter = fcfg.applies(cfg.controller, m)
    if fcfg.enabled and not use_filter:
        _console().print("[yellow]the physics filter drives TWIST2 on the 29 body joints; "
                         "running the raw tracker[/]")
    if use_filter:
        from exoactor.control.drift import DriftConfig
        from exoactor.control.filter import filter_motion

        cfg = cfg.model_copy(update={"drift": DriftConfig(enabled=False)})
        res = filter_motion(m, fcfg, cfg, out_dir=out)
        r = res.raw_metrics
        _console().print(
            f"raw tracker: {'FELL' if r.fell else 'no fall'}, end drift "
            f"{r.root_xy_error_end_m:.2f} m, yaw {r.yaw_error_end_deg:.1f}°, joint error "
            f"{r.mean_joint_error_rad:.3f} rad\nphysics filter ({res.report['kept']} kept): "
            f"as asked {100 * res.fractions['fraction_as_asked']:.0f} %, modified "
            f"{100 * res.fractions['fraction_modified']:.0f} %, not executed "
            f"{100 * res.fractions['fraction_not_executed']:.0f} %")
    else:
        res = track_motion(m, cfg, out_dir=out)
    if render:
        from exoactor.report.render import render_qpos
        from exoactor.robots import get_robot

        res.files["video"] = render_qpos(
            get_robot(res.rollout.robot).model, res.rollout.qpos, res.rollout.fps,
            out / artefacts.ROLLOUT_VIDEO, caption=Path(motion).name).path
    d = res.metrics.to_dict()
    color = "red" if d["fell"] else "green"
    state = f"FELL at {d['fall_time_s']:.2f} s" if d["fell"] else "no fall"
    _console().print(
        f"[{color}]{state}[/]  "
        f"mean joint error {d['mean_joint_error_rad']:.3f} rad, key bodies "
        f"{d['key_body_error_mm']:.0f} mm, end drift {d['root_xy_error_end_m']:.2f} m, "
        f"yaw {d['yaw_error_end_deg']:.1f}°, {d['real_time_factor']:.1f}× real time"
        + (f"\n  the clip end was reached {late:.2f} s late (reference time warp)"
           if (late := d["extras"].get("clip_end_late_s")) and late == late else "")
        + (f"\n  dropped {d['dropped_frames']} glitched leading frame(s)"
           if d["dropped_frames"] else ""))
    for name, path in res.files.items():
        _console().print(f"  {name}: {path}")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    config: ConfigFile = None,
    fps: Annotated[Optional[float], typer.Option(  # noqa: UP007
        help=_doc("report.config", "ReportConfig", "fps"))] = None,
    screenshot: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        help="Also save a PNG screenshot of the page (headless Chromium).")] = None,
) -> None:
    """Build the side-by-side video, plots, verdict and HTML report of a run directory."""
    from exoactor.report.config import ReportConfig
    from exoactor.runner import report_run

    cfg = ReportConfig.model_validate(_override(_read_config(config, "report"), fps=fps))
    res = report_run(run_dir, fps=cfg.fps)
    if res.verdict:
        _console().print(f"physics verdict: {res.verdict.verdict} — {'; '.join(res.verdict.reasons)}")
    if screenshot is not None:
        from exoactor.report.browser import screenshot as shoot

        shoot(res.html, screenshot)
        _console().print(f"screenshot: {screenshot}")
    typer.echo(str(res.html))


BENCHMARKS = ("track", "retarget", "perceive", "perceive_truth", "batch", "deploy", "task_video",
              "perceive_artefacts")


def _benchmark(name: str) -> str:
    if name not in BENCHMARKS:
        raise typer.BadParameter(f"{name!r} is not one of: {', '.join(BENCHMARKS)}")
    return name


@app.command()
def bench(
    name: Annotated[str, typer.Argument(callback=_benchmark,
                                        help=f"One of: {', '.join(BENCHMARKS)}.")],
    args: Annotated[Optional[list[str]], typer.Argument(help="Arguments for the benchmark.")] = None,  # noqa: UP007
) -> None:
    """Run a benchmark script from benchmarks/ (a source checkout) and print its figures."""
    import runpy

    if name not in BENCHMARKS:
        raise ExoActorError(f"unknown benchmark '{name}'; available: {', '.join(BENCHMARKS)}")
    script = Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.py"
    if not script.is_file():
        raise ExoActorError(f"{script} not found: benchmarks ship with the source checkout")
    sys.argv = [str(script), *(args or [])]
    runpy.run_path(str(script), run_name="__main__")


EXECUTORS, _executor = _choices("exoactor.batch.executors", "executors")
_B = ("batch.config", "BatchConfig")


@app.command()
def batch(
    suite: Annotated[Path, typer.Argument(
        help="Suite file (.yaml/.json): tasks, candidates, backends, seeds.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Batch folder (runs, report, tables).")],
    config: ConfigFile = None,
    executor: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_executor, help=_doc(*_B, "executor", f"One of: {', '.join(EXECUTORS)}."))
    ] = None,
    workers: Annotated[Optional[int], typer.Option(help=_doc(*_B, "workers"))] = None,  # noqa: UP007
    address: Annotated[Optional[str], typer.Option(  # noqa: UP007
        help=_doc("batch.executors.ray_cluster", "RayConfig", "address",
                  "(ray; sets executor_options.address)"))] = None,
) -> None:
    """Run a task suite: each (task, candidate) resumably; physics picks the best of N."""
    from exoactor.batch import BatchConfig, run_batch

    data = _override(_read_config(config, "batch"), executor=executor, workers=workers)
    if address is not None:
        data["executor_options"] = {**dict(data.get("executor_options") or {}),
                                    "address": address}
    result = run_batch(suite, out, BatchConfig.model_validate(data))
    _console().print("\n".join(result.summary_lines()), highlight=False)
    if not result.ok:
        raise typer.Exit(code=1)


@app.command("sim-robot")
def sim_robot(
    config: ConfigFile = None,
    hands: Annotated[Optional[bool], typer.Option(help=_doc(*_S, "hands"))] = None,  # noqa: UP007
    domain_id: Annotated[Optional[int], typer.Option(help=_doc(*_S, "domain_id"))] = None,  # noqa: UP007
    interface: Annotated[Optional[str], typer.Option(help=_doc(*_S, "interface"))] = None,  # noqa: UP007
    gantry: Annotated[Optional[bool], typer.Option(help=_doc(*_S, "gantry"))] = None,  # noqa: UP007
    duration: Annotated[Optional[float], typer.Option(  # noqa: UP007
        help="Stop after this many seconds (default: until Ctrl-C).")] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        "--out", "-o", help="Folder for sim_robot.json and sim_rollout.npz.")] = None,
    mimic: Annotated[Optional[Literal["unitree_mujoco"]], typer.Option(  # noqa: UP007
        help="Behave like Unitree's simulator: 200 Hz state, tick/CRC/modes 0, per-command "
             "held PD torque, 5 ms Newton physics.")] = None,
    release_after: Annotated[Optional[float], typer.Option(  # noqa: UP007
        help="Drop the band this many seconds after the first command.")] = None,
) -> None:
    """A MuJoCo G1 on DDS that behaves like the robot: rt/lowcmd in, rt/lowstate out at 500 Hz."""
    from exoactor.deploy.sim_robot import SimRobot, SimRobotConfig

    logging.getLogger("exoactor.deploy").setLevel(logging.INFO)
    cfg = SimRobotConfig.model_validate(_override(
        _read_config(config, "sim_robot"), hands=hands, domain_id=domain_id,
        interface=interface, gantry=gantry, duration_s=duration, mimic=mimic,
        release_after_command_s=release_after))
    summary = SimRobot(cfg, out_dir=out).run()
    loop = summary["loop"]
    _console().print(
        f"sim-robot stopped after {summary['wall_s']:.1f} s: {summary['commands']} commands "
        f"({summary['crc_rejected']} rejected), state loop {loop['achieved_hz']:.1f} Hz "
        f"(p99 jitter {loop['jitter_p99_ms']:.2f} ms, {loop['overruns']} overruns), "
        f"{summary['real_time_factor']:.2f}x real time", highlight=False)


@app.command()
def deploy(
    motion: Annotated[Path, typer.Argument(
        help="Robot motion (.npz, .pkl, .gmt.pkl, .csv), or a run folder: the motion it "
             "verified in simulation is streamed and the deployed rollout written beside "
             "the simulated one.")],
    sim: Annotated[bool, typer.Option(
        "--sim", help="Drive `exoactor sim-robot` (loopback, domain 1) instead of a G1.")] = False,
    simulator: Annotated[Optional[Literal["unitree_mujoco"]], typer.Option(  # noqa: UP007
        help="Rehearse on a foreign simulator (needs --interface lo): accept its unsigned "
             "state, clock the controller by host time.")] = None,
    interface: Annotated[Optional[str], typer.Option(  # noqa: UP007
        help="Network interface wired to the G1 (e.g. enp3s0); domain 0.")] = None,
    domain_id: Annotated[Optional[int], typer.Option(  # noqa: UP007
        help="DDS domain (default: 1 with --sim, else 0).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Compute and log every command, publish nothing.")] = False,
    start: Annotated[Optional[Literal["operator", "auto"]], typer.Option(  # noqa: UP007
        help="'operator' (Enter or START on the remote) or 'auto' (default with --sim).")] = None,
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        "--out", "-o", help="Output folder (default: the run folder, or deploy_out).")] = None,
    config: ConfigFile = None,
    controller: Annotated[Optional[str], typer.Option(  # noqa: UP007
        callback=_controller, help=f"Tracking controller: one of {', '.join(CONTROLLERS)}.")
    ] = None,
    hands: Annotated[Optional[bool], typer.Option(help=_doc(*_D, "hands"))] = None,  # noqa: UP007
    stale_ms: Annotated[Optional[float], typer.Option(  # noqa: UP007
        help=_doc(*_D, "stale_state_ms"))] = None,
    heartbeat_ms: Annotated[Optional[float], typer.Option(  # noqa: UP007
        help=_doc(*_D, "heartbeat_ms"))] = None,
    ramp: Annotated[Optional[float], typer.Option(help=_doc(*_D, "ramp_s"))] = None,  # noqa: UP007
    input_fps: Annotated[Optional[float], typer.Option(  # noqa: UP007
        min=0.1, help="Rate of a CSV input [Hz].")] = None,
    csv_format: CsvFormat = "beyondmimic",
) -> None:
    """Run a robot motion on a G1 over DDS (or the simulated one), behind the safety layer."""
    from exoactor.deploy.runtime import DeployConfig, Deployment, verified_motion
    from exoactor.formats import load_motion

    data = _override(_read_config(config, "deploy"), interface=interface, simulator=simulator,
                     dry_run=dry_run or None, controller=controller, hands=hands,
                     stale_state_ms=stale_ms, heartbeat_ms=heartbeat_ms, ramp_s=ramp,
                     domain_id=domain_id, start=start)
    interface, simulator = data.get("interface"), data.get("simulator")
    if sim == (interface is not None):
        raise ExoActorError("give exactly one of --sim (the simulated robot on loopback) or "
                            "--interface IFACE (the NIC wired to the G1)")
    if simulator is not None and interface != "lo":
        raise ExoActorError(f"--simulator {simulator} runs on the loopback interface only: add "
                            "--interface lo (unsigned state is never accepted from a network)")
    data.setdefault("domain_id", 1 if sim else 0)  # the simulated robot's domain, or a G1's
    data.setdefault("start", "auto" if sim else "operator")
    cfg = DeployConfig.model_validate({**data, "sim": sim})
    logging.getLogger("exoactor.deploy").setLevel(logging.INFO)
    if motion.is_dir():
        motion = verified_motion(motion)
        out = out or motion.parent
        _console().print(f"deploying {motion} (the motion this run verified)")
        if (motion.parent / artefacts.SCENE).is_file():
            from exoactor.formats.scene import load_scene, preflight_notes

            for line in preflight_notes(load_scene(motion.parent / artefacts.SCENE)) or [
                    "scene.json: no objects (the robot touches only the floor)"]:
                _console().print(f"pre-flight: {line}")
    m = load_motion(motion, fps=input_fps, csv_format=csv_format)
    res = Deployment(m, cfg, out_dir=out or Path("deploy_out")).run()
    d = res.metrics
    low = d["low_level_loop"]
    color = {"completed": "green", "interrupted": "yellow"}.get(res.status, "red")
    line = f"[{color}]{res.status}[/]" + (f" ({res.reason})" if res.reason else "")
    if "mean_joint_error_rad" in d:
        line += (f"  mean joint error {d['mean_joint_error_rad']:.3f} rad, key bodies "
                 f"{d['key_body_error_mm']:.0f} mm")
    line += (f"\n  command loop {low['achieved_hz']:.1f} Hz of {low['target_hz']:.0f} "
             f"(p99 jitter {low['jitter_p99_ms']:.2f} ms, {low['overruns']} overruns); "
             f"{d['commands_published']} commands published")
    _console().print(line, highlight=False)
    for name, path in res.files.items():
        _console().print(f"  {name}: {path}")
    if res.exit_code:
        raise typer.Exit(code=res.exit_code)


# ----------------------------------------------------------------------------- option checks
def _click():  # noqa: ANN202
    """The click that typer runs on (typer >= 0.2x vendors its own as ``typer._click``)."""
    try:
        from typer import _click as click
    except ImportError:  # pragma: no cover - older typer on plain click
        import click
    return click


def _model_class(name: str):  # noqa: ANN202
    """The pydantic model class called ``name`` (a ValidationError carries only its title)."""
    from pydantic import BaseModel

    todo = list(BaseModel.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__name__ == name:
            return cls
        todo.extend(cls.__subclasses__())
    return None


def _allowed(model_name: str, loc: tuple) -> str:
    """The bounds of field ``loc`` of model ``model_name`` as text, e.g. '> 5 and < 170'."""
    import typing

    from pydantic import BaseModel

    cls = _model_class(model_name)
    info = None
    for part in loc:
        if cls is None or not isinstance(part, str) or part not in cls.model_fields:
            return ""
        info = cls.model_fields[part]
        nested = [a for a in (info.annotation, *typing.get_args(info.annotation))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        cls = nested[0] if nested else None
    ops = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    bounds = [f"{ops[k]} {getattr(m, k):g}" for m in (info.metadata if info else ())
              for k in ops if getattr(m, k, None) is not None]
    return " and ".join(bounds)


def _option_for(field: str, value: object) -> str:
    """The CLI option of the running command that set config field ``field`` to ``value``."""
    from importlib import import_module

    ctx = import_module(f"{_click().__name__}.globals").get_current_context(silent=True)
    if ctx is None:
        return field
    opts = [p for p in ctx.command.params if getattr(p, "param_type_name", "") == "option"]
    named = [p for p in opts if field == p.name or field.startswith(f"{p.name}_")
             or field.endswith(f"_{p.name}")]
    valued = [p for p in opts if value is not None and ctx.params.get(p.name) == value
              and isinstance(ctx.params.get(p.name), bool) == isinstance(value, bool)]
    pick = [p for p in named if p in valued] or valued or named
    return max(pick[0].opts, key=len) if pick else field


def _bad_option(exc) -> Exception:  # noqa: ANN001
    """A pydantic ValidationError of a command's config as a click usage error (exit 2)."""
    err = exc.errors()[0]
    loc = tuple(err.get("loc", ()))
    field = next((p for p in reversed(loc) if isinstance(p, str)), "?")
    value = err.get("input")
    opt = _option_for(field, value)
    allowed = _allowed(exc.title, loc)
    msg = f"{value!r} is invalid: {err.get('msg', 'bad value').lower()}"
    if allowed:
        msg += f" (allowed: {allowed})"
    return typer.BadParameter(msg, param_hint=f"'{opt}'")


def _checked(fn):  # noqa: ANN001, ANN202
    """Wrap a command so that its config's validation errors are usage errors naming the option."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):  # noqa: ANN202
        from pydantic import ValidationError

        try:
            return fn(*args, **kwargs)
        except ValidationError as exc:
            raise _bad_option(exc) from None

    return wrapper


for _info in (*app.registered_commands, *assets_app.registered_commands):
    _info.callback = _checked(_info.callback)


def _name_the_value(exc, argv: list[str]) -> None:  # noqa: ANN001
    """Put the offending value into a bad-option message that lacks it (click's range and type
    checks say only what was expected)."""
    param = getattr(exc, "param", None)
    if param is None or not getattr(param, "opts", None) or " is invalid: " in exc.message:
        return
    for i, arg in enumerate(argv):
        for opt in param.opts:
            if arg.startswith(f"{opt}=") or (arg == opt and i + 1 < len(argv)):
                value = arg.split("=", 1)[1] if "=" in arg else argv[i + 1]
                exc.message = f"{value} is invalid: {exc.message[:1].lower()}{exc.message[1:]}"
                return


def main() -> None:
    """Console entry point: runs the app and turns package errors and bad options into one
    clear line (exit 1 for a failure, 2 for a bad command line), never a traceback."""
    exc_ = _click().exceptions
    try:
        code = app(standalone_mode=False)
    except ExoActorError as exc:
        _console().print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except exc_.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        sys.exit(0)
    except exc_.UsageError as exc:
        _name_the_value(exc, sys.argv[1:])
        cmd = exc.ctx.command_path if exc.ctx is not None else "exoactor"
        _console().print(f"[red]error:[/] {exc.format_message()} (see `{cmd} --help`)",
                         highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except exc_.ClickException as exc:
        _console().print(f"[red]error:[/] {exc.format_message()}", highlight=False,
                         soft_wrap=True)
        sys.exit(exc.exit_code)
    except (getattr(exc_, "Abort", typer.Abort), KeyboardInterrupt):  # vendored click: no Abort
        _console().print("[yellow]aborted[/]")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
