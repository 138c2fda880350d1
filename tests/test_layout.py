"""The shape of the code: no import cycles between modules, and imports inside functions only
where they defer a heavy or optional dependency (each says why)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "modelsplit"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of imports under ``if TYPE_CHECKING:`` (never run)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids |= {id(n) for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return ids


def _targets(node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in modules}
    assert node.level == 0, "modelsplit imports itself by absolute names"
    found = set()
    for alias in node.names:
        sub = f"{node.module}.{alias.name}"
        if sub in modules:
            found.add(sub)
        elif node.module in modules:
            found.add(node.module)
    return found


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    """Module -> modules it imports (at run time); and imports inside functions: (module, line,
    the line's text)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    inner = []
    for name, path in modules.items():
        text = path.read_text()
        tree = ast.parse(text)
        skip = _type_checking_only(tree)
        in_functions = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(f)
            if isinstance(n, (ast.Import, ast.ImportFrom))
        }
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in skip:
                continue
            if id(node) in in_functions:
                inner.append((name, node.lineno, text.splitlines()[node.lineno - 1]))
            if isinstance(node, ast.ImportFrom) and node.level:
                raise AssertionError(f"{path}:{node.lineno}: a relative import")
            graph[name] |= _targets(node, modules) - {name}
    return graph, inner


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
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
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
    return found


def test_the_module_import_graph_has_no_cycle():
    graph, _ = import_graph()
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_the_cycle_check_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(map(sorted, strongly_connected(graph))) == [["a", "b", "c"], ["d"]]


def test_every_public_name_resolves_and_is_documented():
    import modelsplit

    library = (PACKAGE.parent / "docs" / "library.md").read_text()
    for name in modelsplit.__all__:
        assert getattr(modelsplit, name) is not None, name
        assert f"`{name}" in library, f"docs/library.md (Library use) does not describe {name}"
    assert set(dir(modelsplit)) >= set(modelsplit.__all__)


def test_a_solver_process_does_not_load_the_library():
    """fzn-cpsat runs once per part, a part server once per worker: importing their modules must
    not import the whole library."""
    import subprocess
    import sys

    for module in ("modelsplit.workers.cpsat.cli", "modelsplit.workers.cpsat.server"):
        code = f"import sys, {module}; print('modelsplit.api' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False", module


def test_all_lists_exactly_the_exported_names():
    import modelsplit

    assert set(modelsplit.__all__) == set(modelsplit._EXPORTS) | {"__version__"}


def _deferral_noted(lines: list[str], lineno: int) -> bool:
    """An import at ``lineno`` says why it is inside a function: "deferred" in a comment on it,
    or on the comment and import lines just above it."""
    i = lineno - 1
    while i >= 0:
        text = lines[i].strip()
        if "#" in text and "deferred" in text.split("#", 1)[1]:
            return True
        if i < lineno - 1 and not (text.startswith(("#", "import ", "from ")) and text):
            return False
        i -= 1
    return False


def test_imports_inside_functions_only_defer_heavy_dependencies():
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for imp in ast.walk(node):
                if isinstance(imp, (ast.Import, ast.ImportFrom)):
                    where = f"{path.relative_to(PACKAGE.parent)}:{imp.lineno}"
                    assert _deferral_noted(lines, imp.lineno), f"{where}: an import inside a function says no reason"


def test_no_class_over_250_lines_and_no_function_over_60():
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            size = getattr(node, "end_lineno", 0) - getattr(node, "lineno", 0) + 1
            where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ClassDef) and size > 250:
                long.append(f"{where} class {node.name}: {size} lines")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and size > 60:
                long.append(f"{where} {node.name}: {size} lines")
    assert not long, long
