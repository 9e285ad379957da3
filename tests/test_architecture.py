"""The house rules of the code base, checked on every run instead of remembered.

``docs/architecture.md`` draws the picture; these tests hold the tree to it: what a runtime
package may import, which way the arrows inside a service point, that no two modules of a package
import each other in a circle, that a service module stays readable in one sitting, and that the
category vocabulary is defined in one place.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
SERVICES = sorted(p for p in (REPO / "services").iterdir() if (p / "src").is_dir())
RUNTIME_ROOTS = [REPO / "shared" / "src", *(s / "src" for s in SERVICES)]

#: Development and test tooling no runtime module may depend on.
NOT_AT_RUNTIME = {
    "bench",
    "trainops_cli",
    "trainops_devtools",
    "pytest",
    "_pytest",
    "testcontainers",
}
#: What the pure domain layer of a service may not touch: frameworks, storage, network, templates.
NOT_IN_DOMAIN = {
    "litestar",
    "sqlalchemy",
    "faststream",
    "nats",
    "httpx",
    "jinja2",
    "aiosqlite",
    "asyncpg",
    "structlog",
}
MAX_SERVICE_MODULE_LINES = 450


@dataclass(frozen=True, slots=True)
class Import:
    module: str
    top_level: bool
    """Imported when the module loads (not inside a function or an ``if TYPE_CHECKING`` block)."""


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, package: str) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

    def visit(node: ast.AST, top: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(alias.name, top)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.rsplit(".", child.level - 1)[0] if child.level > 1 else package
                    target = f"{base}.{child.module}" if child.module else base
                else:
                    target = child.module or ""
                yield Import(target, top)
                # ``from pkg import submodule`` imports the submodule too.
                for alias in child.names:
                    yield Import(f"{target}.{alias.name}", top)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) or (
                isinstance(child, ast.If) and _is_type_checking(child.test)
            ):
                yield from visit(child, False)
            else:
                yield from visit(child, top)

    yield from visit(tree, True)


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def package_of(path: Path, root: Path) -> str:
    name = module_name(path, root)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def test_runtime_packages_import_no_tooling() -> None:
    offenders = [
        f"{path.relative_to(REPO)} imports {imp.module}"
        for root in RUNTIME_ROOTS
        for path in python_files(root)
        for imp in imports_of(path, package_of(path, root))
        if imp.module.split(".")[0] in NOT_AT_RUNTIME
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_arrows_inside_a_service_point_down(service: Path) -> None:
    """api → handlers → domain; adapters serve handlers; api never reaches into adapters."""
    root = service / "src"
    (package,) = (p.name for p in root.iterdir() if p.name.startswith("trainops_"))
    offenders = []
    for path in python_files(root / package):
        layer = path.relative_to(root / package).parts[0]
        for imp in imports_of(path, package_of(path, root)):
            target = imp.module.split(".")
            if target[0] != package:
                if layer == "domain" and target[0] in NOT_IN_DOMAIN:
                    offenders.append(f"{path.relative_to(REPO)}: domain imports {imp.module}")
                continue
            into = target[1] if len(target) > 1 else ""
            if layer == "api" and into == "adapters":
                offenders.append(f"{path.relative_to(REPO)}: api imports {imp.module}")
            if layer == "domain" and into in {"api", "handlers", "adapters"}:
                offenders.append(f"{path.relative_to(REPO)}: domain imports {imp.module}")
            if layer == "adapters" and into in {"api", "handlers"}:
                offenders.append(f"{path.relative_to(REPO)}: adapters import {imp.module}")
            if layer == "handlers" and into == "api":
                offenders.append(f"{path.relative_to(REPO)}: handlers import {imp.module}")
    assert offenders == []


@pytest.mark.parametrize(
    "root", [*RUNTIME_ROOTS, REPO / "devtools" / "src"], ids=lambda r: r.parent.name
)
def test_no_import_circles(root: Path) -> None:
    modules = {module_name(p, root): p for p in python_files(root)}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imp in imports_of(path, package_of(path, root)):
            # A package's __init__ re-exporting its own submodules is not a circle.
            own_submodule = imp.module.startswith(f"{name}.")
            if imp.top_level and imp.module in modules and imp.module != name and not own_submodule:
                graph[name].add(imp.module)
    assert _cycles(graph) == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def connect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
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
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_service_modules_stay_readable() -> None:
    long = {
        str(path.relative_to(REPO)): n
        for service in SERVICES
        for path in python_files(service)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_SERVICE_MODULE_LINES
    }
    assert long == {}


VOCABULARY_LITERAL = re.compile(r"""Literal\[\s*["'](media|female|18-24|kk)["']""")


def test_the_category_vocabulary_is_defined_once() -> None:
    """Adding a sector is one edit: only the event vocabulary spells the categories out."""
    home = REPO / "shared" / "src" / "trainops_shared" / "events" / "vocabulary.py"
    roots = [*RUNTIME_ROOTS, REPO / "devtools" / "src", REPO / "cli", REPO / "bench"]
    offenders = [
        str(path.relative_to(REPO))
        for root in roots
        for path in python_files(root)
        if path != home and VOCABULARY_LITERAL.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
