"""No import circles between the modules of ``connector/`` and ``providers/``.

The module graph is built from the source files with :mod:`ast`. Two checks:

- the imports that run when a module is loaded (module level, outside ``if TYPE_CHECKING:``)
  must form no circle at all: a strongly connected group of modules fails the test, which
  names its modules and one path around it;
- an import deferred into a function or under ``TYPE_CHECKING`` that closes a circle is a
  circle dodged, not broken: the ones that exist today are listed in
  :data:`KNOWN_DEFERRED_CIRCLES`, and a new one fails. A package that imports its own
  submodules lazily (the app factory registering its blueprints) is not a circle of this kind.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("connector", "providers")

#: Deferred imports (importer, imported) that close a circle today. To break in #13 (the
#: provider boundary); do not add to this list: break a new circle.
KNOWN_DEFERRED_CIRCLES: frozenset[tuple[str, str]] = frozenset({
})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module is first imported: the top level and its if/try blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _module_level_imports(node.body)
            found += _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += _module_level_imports(block)
            for handler in node.handlers:
                found += _module_level_imports(handler.body)
    return found


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom,
             modules: dict[str, Path]) -> set[str]:
    """The project modules an import statement loads (a ``from`` name may be a submodule)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in modules}
    base = node.module or ""
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    targets = set()
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:
            targets.add(f"{base}.{alias.name}")
        elif base in modules:
            targets.add(base)
    return targets


def import_graph(*, deferred: bool = False) -> dict[str, set[str]]:
    """Module name -> the project modules it imports at module level; with ``deferred`` also
    those imported inside functions or under ``TYPE_CHECKING``."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        imports: list[ast.Import | ast.ImportFrom] = (
            [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
            if deferred else _module_level_imports(tree.body)
        )
        edges: set[str] = set()
        for node in imports:
            edges |= _targets(module, path, node, modules)
        edges.discard(module)
        graph[module] = edges
    return graph


def deferred_circle_imports() -> set[tuple[str, str]]:
    """Deferred imports (importer, imported) that close a circle, except a package's lazy
    imports of its own submodules."""
    loaded = import_graph()
    everything = import_graph(deferred=True)
    group_of = {module: group for group in circles(everything) for module in group}
    return {
        (importer, imported)
        for importer, targets in everything.items()
        for imported in targets - loaded[importer]
        if importer in group_of and imported in group_of[importer]
        and not imported.startswith(importer + ".")
    }


def circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(frozenset(group))
    return groups


def path_around(graph: dict[str, set[str]], group: frozenset[str]) -> list[str]:
    """One circle through the group's first module, for the failure message."""
    start = min(group)
    previous: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & group):
            if child == start:
                route = [node]
                while route[-1] != start:
                    route.append(previous[route[-1]])
                return [start, *reversed(route[:-1]), start] if node != start else [start, start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return sorted(group)


def test_circle_finder_finds_a_circle_and_its_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [frozenset({"a", "b", "c"})]
    assert path_around(graph, frozenset({"a", "b", "c"})) == ["a", "b", "c", "a"]


def test_no_import_circles_at_load_time() -> None:
    graph = import_graph()
    assert "connector.collection.legal" in graph, "the graph must see the project's modules"
    found = circles(graph)
    assert not found, "import circle(s):\n" + "\n".join(
        " -> ".join(path_around(graph, group)) for group in found
    )


def test_no_new_circles_dodged_by_a_deferred_import() -> None:
    new = deferred_circle_imports() - KNOWN_DEFERRED_CIRCLES
    assert not new, (
        "a deferred import closes a new circle (move what both sides need to its own "
        "module instead): " + ", ".join(f"{a} -> {b}" for a, b in sorted(new))
    )


def test_known_circles_are_still_there() -> None:
    """A circle that was broken comes off :data:`KNOWN_DEFERRED_CIRCLES`, so it stays broken."""
    gone = KNOWN_DEFERRED_CIRCLES - deferred_circle_imports()
    assert not gone, f"these circles are gone, remove them from KNOWN_DEFERRED_CIRCLES: {gone}"
