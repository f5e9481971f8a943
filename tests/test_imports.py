"""No import circle in helsesim: every import between its modules, at the top of a module or
inside a function (a circle hidden in a function is still a circle), forms a graph without
cycles, so the modules can be read and tested from the bottom up.

The graph is read from the source with ``ast``: ``import a.b.c`` and ``from a.b import c``
depend on ``a.b.c`` and on the packages ``a.b`` and ``a`` whose ``__init__`` Python runs first
(except a module's own parent packages, which are running already). Imports under
``if TYPE_CHECKING:`` are not made at run time and do not count. A package that exports names
lazily (PEP 562: imports inside its module-level ``__getattr__``) does not depend on what
``__getattr__`` imports; whoever imports such a name from it does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def module_files(src: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``src`` by dotted name (a package by its own name)."""
    out = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of a module that runs at run time (not under TYPE_CHECKING),
    not counting those of a module-level ``__getattr__``."""
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    visit(other)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            else:
                visit(child)

    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name == "__getattr__"):
            visit(ast.Module(body=[node], type_ignores=[]))
    return found


def _lazy_names(tree: ast.Module, name: str, is_package: bool) -> dict[str, str]:
    """The names a package exports through its module-level ``__getattr__``, and the module
    each comes from."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom):
                    base = _absolute(inner, name, is_package)
                    for alias in inner.names:
                        out[alias.name] = base
    return out


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = name.split(".") if is_package else name.split(".")[:-1]
    package = package[:len(package) - node.level + 1]
    return ".".join([*package, *([node.module] if node.module else [])])


def import_graph(src: Path, package: str) -> nx.DiGraph:
    """Module -> the modules it imports (see the module's docstring)."""
    files = module_files(src, package)
    trees = {m: ast.parse(p.read_text(encoding="utf-8")) for m, p in files.items()}
    packages = {m for m, p in files.items() if p.name == "__init__.py"}
    lazy = {m: _lazy_names(trees[m], m, True) for m in packages}
    graph = nx.DiGraph()
    for module, tree in trees.items():
        graph.add_node(module)
        own = module.split(".")
        parents = {".".join(own[:i]) for i in range(1, len(own) + (module in packages))}
        targets = []
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
                continue
            base = _absolute(node, module, module in packages)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in files:
                    targets.append(full)  # a submodule
                else:
                    targets.append(lazy.get(base, {}).get(alias.name, base))
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):  # the module and the packages Python runs first
                dep = ".".join(parts[:i])
                if dep in files and dep not in parents and dep != module:
                    graph.add_edge(module, dep)
    return graph


def test_helsesim_has_no_import_circle():
    graph = import_graph(SRC, "helsesim")
    assert len(graph) > 40  # the walk found the package's modules
    assert graph.has_edge("helsesim.runner.job", "helsesim.report")  # it sees what it must
    cycles = sorted(nx.simple_cycles(graph), key=len)
    assert not cycles, "import circles (shortest first): " + "; ".join(
        " -> ".join([*c, c[0]]) for c in cycles[:5])


def test_the_report_and_the_runners_job_do_not_import_each_other():
    """The job draws the report as its last step; the report reads only the runner's storage
    modules, never the job (which once imported the report back inside a function)."""
    graph = import_graph(SRC, "helsesim")
    below_report = nx.descendants(graph, "helsesim.report")
    assert "helsesim.runner.job" not in below_report
    assert "helsesim.runner" in below_report  # the package is imported, but lazily empty
    assert not (nx.descendants(graph, "helsesim.runner") - {"helsesim"})


@pytest.mark.parametrize("code, circle", [
    ({"a.py": "from pkg import b\n", "b.py": "def f():\n    from pkg.a import x\n"}, True),
    ({"a.py": "from pkg.sub import c\n", "sub/__init__.py": "from pkg.sub.c import y\n",
      "sub/c.py": "import pkg.a\n"}, True),
    ({"a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n",
      "b.py": "import pkg.a\n"}, False),
    ({"__init__.py": "def __getattr__(name):\n    from pkg.a import thing as value\n"
                     "    return value\n",
      "a.py": "from pkg import b\n", "b.py": "x = 1\n"}, False),
    ({"__init__.py": "def __getattr__(name):\n    from pkg.a import thing as value\n"
                     "    return value\n",
      "a.py": "thing = 1\nfrom pkg import b\n", "b.py": "from pkg import thing\n"}, True),
])
def test_the_check_finds_a_circle_where_there_is_one(tmp_path, code, circle):
    """The walk finds circles through a function, a package's __init__ and a lazy name, and
    none through TYPE_CHECKING imports or a lazy package that nothing asks a name of."""
    for rel, text in {"__init__.py": "", **code}.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
        path.write_text(text)
    graph = import_graph(tmp_path, "pkg")
    assert bool(list(nx.simple_cycles(graph))) is circle


def _environment_reads(tree: ast.AST) -> list[str]:
    """The names of environment variables a module reads (``os.environ[...]``,
    ``os.environ.get(...)``, ``os.getenv(...)`` with a literal name)."""
    names = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            key = node.slice
        elif isinstance(node, ast.Call) and node.args and ast.unparse(node.func) in (
                "os.environ.get", "os.getenv", "os.environ.pop"):
            key = node.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.append(key.value)
    return names


def test_the_product_reads_no_test_hooks_from_the_environment():
    """Fault injection (failed runs, kills at a step) is passed in by the tests
    (tests/faults.py: a ``before_run`` hook, monkeypatching), never read by helsesim from
    variables such as the former HELSESIM_TEST_FAIL_RUNS."""
    reads = {m: _environment_reads(ast.parse(p.read_text(encoding="utf-8")))
             for m, p in module_files(SRC, "helsesim").items()}
    ours = {m: [n for n in names if n.upper().startswith("HELSESIM")]
            for m, names in reads.items()}
    assert not {m: n for m, n in ours.items() if n}
    assert _environment_reads(ast.parse('import os\nos.environ.get("HELSESIM_TEST_X")\n'
                                        'os.environ["B"]\nos.getenv("C")\n')) == [
        "HELSESIM_TEST_X", "B", "C"]  # the walk sees each way of reading one
