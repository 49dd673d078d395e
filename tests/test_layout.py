"""The package's layout: one-way imports and only the public face at the root.

The module import graph is built from the source with ``ast``: every ``import`` and
``from ... import`` at module level or inside a function counts, except those under
``if TYPE_CHECKING:`` (they never run). An edge goes to the module named, or to the
submodule when a ``from`` import names one. Implicit imports of parent packages are not
edges (every module would otherwise import its package's ``__init__``).
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ffnn"

#: The imports that close the circle docs/architecture.md documents: Sequential.save()
#: and fit(resume_from=...) call io, which builds models, so the two functions import io
#: when they run (never at module level). Removing these edges must leave no circle.
DOCUMENTED_EDGES = {("ffnn.training.model", "ffnn.io"), ("ffnn.training.loop", "ffnn.io")}

#: The only private modules allowed at the package root.
ROOT_PRIVATE = {"_registry.py", "_validation.py"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: TYPE_CHECKING blocks are skipped."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom,
             modules: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in modules}
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        stem = ".".join(base + ([node.module] if node.module else []))
    else:
        stem = node.module or ""
    out = set()
    for alias in node.names:
        sub = f"{stem}.{alias.name}"
        if sub in modules:
            out.add(sub)
        elif stem in modules:
            out.add(stem)
    return out


def import_graph(module_level_only: bool = False) -> dict[str, set[str]]:
    """module -> the ffnn modules it imports (see the module docstring)."""
    files = {_module_name(p): p for p in SRC.rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = _imports(tree)
        if module_level_only:
            top = {id(n) for n in _imports(ast.Module(body=[
                n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))],
                type_ignores=[]))}
            nodes = [n for n in nodes if id(n) in top]
        edges: set[str] = set()
        for node in nodes:
            edges |= _targets(name, path.name == "__init__.py", node, modules)
        graph[name] = edges - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_real_imports() -> None:
    """The test below could pass by reading nothing: check known edges are found."""
    graph = import_graph()
    assert "ffnn.autodiff.primitive" in graph["ffnn.autodiff.ops"]
    assert "ffnn.io" in graph["ffnn.training.model"]  # inside Sequential.save
    assert "ffnn.training.model" not in graph["ffnn.training.loop"]  # TYPE_CHECKING only
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_import_circles_but_the_documented_ones() -> None:
    """Guards the one-way imports: a file that imports back into a file that imports
    it (directly or through others) fails here unless docs/architecture.md documents
    the circle and this test lists it."""
    graph = import_graph()
    assert len(circles(graph)) <= 2
    for a, b in DOCUMENTED_EDGES:
        assert b in graph[a], f"{a} no longer imports {b}: update DOCUMENTED_EDGES"
        assert b not in import_graph(module_level_only=True)[a], f"{a} imports {b} at the top"
        graph[a].discard(b)
    unexpected = [sorted(c) for c in circles(graph)]
    assert not unexpected, f"import circles: {unexpected}"


@pytest.mark.parametrize("package", ["autodiff", "nn", "optim"])
def test_lower_floors_never_import_upper_ones(package: str) -> None:
    """autodiff <- nn <- optim <- training <- io, estimators, plot, distributed, cli."""
    order = ["autodiff", "nn", "optim", "training"]
    above = {f"ffnn.{p}" for p in order[order.index(package) + 1:]} | {
        "ffnn.io", "ffnn.estimators", "ffnn.plot", "ffnn.distributed", "ffnn.cli"}
    for module, edges in import_graph().items():
        if module.startswith(f"ffnn.{package}"):
            bad = {e for e in edges if any(e == a or e.startswith(a + ".") for a in above)}
            assert not bad, f"{module} imports {sorted(bad)}"


def test_only_the_public_face_at_the_root() -> None:
    """Guards the layout: private modules belong in their packages, not beside the
    public modules (only the registry and the shared argument checks stay)."""
    private = {p.name for p in SRC.glob("_*.py")} - {"__init__.py", "__main__.py"}
    assert private == ROOT_PRIVATE


def test_every_module_is_importable_by_path() -> None:
    for path in SRC.rglob("*.py"):
        assert importlib.util.find_spec(_module_name(path)) is not None, path
