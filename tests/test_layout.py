"""The layout's one rule that import-linter cannot state: no import loop between modules.

The only loop allowed is a feature's tasks and services reaching each other through imports inside
functions (a service enqueues its task after commit, the task calls the service). Every other import,
at module level or inside a function, points one way. The layer contracts themselves (pure core,
budgets under kpi, selectors without services) are import-linter's: see .importlinter, run by ./dev test.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("budgets", "kpi", "config")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an import names (a name imported from a package may be a submodule)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_edges() -> set[tuple[str, str, bool]]:
    """(importer, imported, inside_a_function) for every import between project modules."""
    modules = _modules()
    edges = set()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        function_nodes = {
            id(inner) for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                imported = _resolve(target, modules)
                if imported and imported != name and not name.startswith(imported + "."):
                    edges.add((name, imported, id(node) in function_nodes))
    return edges


def _allowed(edge: tuple[str, str, bool]) -> bool:
    importer, imported, inside_function = edge
    kinds = {importer.rpartition(".")[2], imported.rpartition(".")[2]}
    return inside_function and kinds == {"tasks", "services"}


def import_cycles(edges) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {}
    for importer, imported, _ in edges:
        graph.setdefault(importer, set()).add(imported)
        graph.setdefault(imported, set())
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_no_import_loop_but_tasks_and_services_inside_functions():
    edges = {edge for edge in import_edges() if not _allowed(edge)}
    assert import_cycles(edges) == []


def test_the_checker_finds_a_loop():
    edges = {("kpi.a", "kpi.b", False), ("kpi.b", "kpi.c", True), ("kpi.c", "kpi.a", False), ("kpi.c", "kpi.d", False)}
    assert import_cycles(edges) == [["kpi.a", "kpi.b", "kpi.c"]]
    assert _allowed(("kpi.x.services", "kpi.x.tasks", True))
    assert not _allowed(("kpi.x.services", "kpi.x.tasks", False))
    assert not _allowed(("kpi.x.services", "kpi.x.selectors", True))


def test_budgets_imports_nothing_from_kpi_even_inside_functions():
    assert sorted((a, b) for a, b, _ in import_edges() if a.startswith("budgets") and b.startswith("kpi")) == []
