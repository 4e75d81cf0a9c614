"""The import graph of ``src/exoactor``, read with ``ast`` (nothing is imported): stages import
only shared code and themselves, shared code imports no stage, and nothing imports in a circle.

Every ``import`` counts, also those inside functions (a lazy import is still a dependency);
imports under ``if TYPE_CHECKING:`` do not (they never run). ``python tests/test_import_graph.py``
prints the graph's figures and every offending edge.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "exoactor"

STAGES = frozenset({"perceive", "retarget", "scene", "control", "report", "imagine", "deploy"})
"""Packages of the pipeline's stages: each may import shared code, itself and the stages
named in :data:`ALLOWED_STAGE_EDGES`, never an orchestrator."""
ORCHESTRATORS = frozenset({"cli", "__main__", "runner", "pipeline", "batch"})
"""Modules and packages that wire stages together: they may import anything."""
# Every other top-level module or package (formats, robots, rotations, signals, media, metrics,
# skeleton, fileio, errors, registry, assets, ui, ...) is shared code: it imports shared code only.

ALLOWED_STAGE_EDGES: dict[tuple[str, str], str] = {
    ("deploy", "exoactor.control"):
        "the real robot runs control's one tracking loop, controller, reference streamer and "
        "safety layer: the code that was verified in simulation is the code that moves the robot",
    ("scene", "exoactor.control"):
        "scene scoring simulates the tracking controller with the inferred objects in place",
    ("imagine", "exoactor.perceive.detect"):
        "the clip checks count people with perceive's person detector (one detector, not two)",
    ("imagine", "exoactor.perceive.camera"):
        "the clip checks measure camera motion with perceive's background shift",
    ("perceive", "exoactor.retarget.scaling"):
        "the known-truth checks (perceive.truth.robot_scale) carry a rendered body's true joints "
        "to the robot's scale with the retargeter's own map, so a perceived size error stays in "
        "what they measure",
}
"""Stage-to-stage imports required by design: ``(importing stage, imported module prefix)``
and the reason. They form no cycle between stages (checked below)."""

ALLOWED_ORCHESTRATOR_IMPORTS: dict[tuple[str, str], str] = {
    ("exoactor.imagine.run", "exoactor.pipeline"):
        "imagine's stage writes its run directory through pipeline.RunDir",
    ("exoactor.imagine.run", "exoactor.runner"):
        "imagine_and_run chains imagine into the runner (issue 19: it moves into runner.py)",
}
"""Stage modules that still import an orchestrator, and why."""


@dataclass(frozen=True)
class Edge:
    src: str
    """Importing module (dotted)."""
    dst: str
    """Imported module (dotted; the deepest module of the package that exists)."""
    line: int
    """Line of the import in ``src``."""

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} (line {self.line})"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def _imports(path: Path, modules: set[str]) -> Iterator[Edge]:
    name = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _type_checking_lines(tree)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from pkg import mod`` imports the module ``pkg.mod`` when there is one
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module
                       for a in node.names]
        for target in targets:
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != name:
                    yield Edge(name, target, node.lineno)


def import_edges() -> list[Edge]:
    files = sorted((SRC / PACKAGE).rglob("*.py"))
    modules = {_module_name(p) for p in files}
    return sorted({e for p in files for e in _imports(p, modules)}, key=str)


def top(module: str) -> str:
    """The top-level unit of a module: ``exoactor.control.sim`` -> ``control``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _allowed(allowances: dict[tuple[str, str], str], key: str, dst: str) -> bool:
    return any(key == a and (dst == p or dst.startswith(p + ".")) for a, p in allowances)


def cross_stage_edges(edges: list[Edge]) -> tuple[list[Edge], list[Edge]]:
    """Imports from one stage into another: ``(forbidden, allowed by design)``."""
    bad, ok = [], []
    for e in edges:
        a, b = top(e.src), top(e.dst)
        if a in STAGES and b in STAGES and a != b:
            (ok if _allowed(ALLOWED_STAGE_EDGES, a, e.dst) else bad).append(e)
    return bad, ok


def layer_violations(edges: list[Edge]) -> list[Edge]:
    """Shared code importing a stage or an orchestrator; a stage importing an orchestrator."""
    bad = []
    for e in edges:
        a, b = top(e.src), top(e.dst)
        if a == b or a in ORCHESTRATORS or b == "":
            continue
        shared_up = a not in STAGES and (b in STAGES or b in ORCHESTRATORS)
        stage_up = a in STAGES and b in ORCHESTRATORS
        if shared_up or (stage_up and not _allowed(ALLOWED_ORCHESTRATOR_IMPORTS, e.src, e.dst)):
            bad.append(e)
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    nodes = sorted(set(graph) | {w for ws in graph.values() for w in ws})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def module_graph(edges: list[Edge]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.src, set()).add(e.dst)
    return graph


def unit_graph(edges: list[Edge]) -> dict[str, set[str]]:
    """Top-level units (``formats``, ``control``, ``cli``, ...) and their imports (less the
    stage-to-orchestrator imports of :data:`ALLOWED_ORCHESTRATOR_IMPORTS`)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if _allowed(ALLOWED_ORCHESTRATOR_IMPORTS, e.src, e.dst):
            continue
        a, b = top(e.src), top(e.dst)
        if a and b and a != b:
            graph.setdefault(a, set()).add(b)
    return graph


# ----------------------------------------------------------------------------- tests

def test_the_graph_is_read() -> None:
    edges = import_edges()
    assert len(edges) > 300
    assert any(e.src == "exoactor.cli" and top(e.dst) == "runner" for e in edges)
    assert all(e.dst.startswith("exoactor") for e in edges)


def test_no_import_between_stages() -> None:
    bad, _ = cross_stage_edges(import_edges())
    assert not bad, "stage imports another stage (move the shared code to a neutral module, " \
        "or let the runner/CLI call both):\n" + "\n".join(map(str, bad))


def test_shared_code_imports_no_stage_and_stages_no_orchestrator() -> None:
    bad = layer_violations(import_edges())
    assert not bad, "\n".join(map(str, bad))


def test_no_import_cycle_between_modules() -> None:
    found = cycles(module_graph(import_edges()))
    assert not found, "modules that import each other: " + "; ".join(map(" <-> ".join, found))


def test_no_import_cycle_between_packages() -> None:
    found = cycles(unit_graph(import_edges()))
    assert not found, "packages that import each other: " + "; ".join(map(" <-> ".join, found))


def test_the_checks_catch_what_they_look_for() -> None:
    """The checks themselves, on made-up edges: a stage-to-stage import, shared code that
    imports a stage, and a cycle are each found."""
    fake = [Edge("exoactor.control.track", "exoactor.report.render", 1),
            Edge("exoactor.formats.io", "exoactor.robots.kinematics", 2),
            Edge("exoactor.robots.kinematics", "exoactor.formats.io", 3),
            Edge("exoactor.rotations", "exoactor.control.sim", 4),
            Edge("exoactor.deploy.plant", "exoactor.control.loop", 5)]
    bad, ok = cross_stage_edges(fake)
    assert [str(e) for e in bad] == [str(fake[0])] and ok == [fake[4]]
    assert layer_violations(fake) == [fake[3]]
    assert cycles(module_graph(fake)) == [["exoactor.formats.io", "exoactor.robots.kinematics"]]
    assert cycles(unit_graph(fake)) == [["formats", "robots"]]


def test_allowed_stage_edges_form_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for (a, prefix) in ALLOWED_STAGE_EDGES:
        graph.setdefault(a, set()).add(top(prefix))
    assert not cycles(graph)


def summary() -> str:
    edges = import_edges()
    bad, ok = cross_stage_edges(edges)
    lines = [f"{len(edges)} import edges between {len({e.src for e in edges})} modules",
             f"stage -> stage: {len(bad)} forbidden, {len(ok)} allowed by design",
             *[f"  forbidden {e}" for e in bad], *[f"  allowed   {e}" for e in ok]]
    layer = layer_violations(edges)
    lines += [f"layer violations: {len(layer)}", *[f"  {e}" for e in layer]]
    mc, uc = cycles(module_graph(edges)), cycles(unit_graph(edges))
    lines += [f"module cycles: {len(mc)}", *["  " + " <-> ".join(c) for c in mc],
              f"package cycles: {len(uc)}", *["  " + " <-> ".join(c) for c in uc]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(summary() + "\n")
