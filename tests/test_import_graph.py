"""No import cycles between any two of our modules, package ``__init__`` modules included.

``lint-imports``' ``acyclic_siblings`` contract (pyproject.toml) checks cycles between the
children of each package; a cycle through a package's own ``__init__`` (``transcribe.models``
importing ``transcribe``, which imports ``transcribe.models``) is not a sibling cycle, so this
test checks the whole module graph. TYPE_CHECKING and function-level imports count.
"""

from __future__ import annotations

import grimp

PACKAGES = ("qa", "transcribe", "classify", "review_ui")


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of two or more modules that import each other, directly or in a ring (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_strongly_connected_finds_rings_not_chains():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_no_import_cycles():
    built = grimp.build_graph(*PACKAGES, cache_dir=None)
    graph = {m: built.find_modules_directly_imported_by(m) for m in built.modules}
    cycles = strongly_connected(graph)
    lines = []
    for group in cycles:
        lines.append("cycle: " + ", ".join(group))
        for importer in group:
            for imported in sorted(graph[importer] & set(group)):
                for detail in built.get_import_details(importer=importer, imported=imported):
                    lines.append(
                        f"  {importer} -> {imported} (l.{detail['line_number']}: "
                        f"{detail['line_contents']})"
                    )
    assert not cycles, "import cycles:\n" + "\n".join(lines)
