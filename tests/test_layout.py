"""The layout's rules, checked on the source: public seams between modules, no utils module.

A module may use its own underscored names; another module's are private to it. Reaching
into them (``from m import _helper``, ``m._helper``) couples two files silently: the owner
renames a helper and a far-away path (a Ray or Slurm run) breaks. Make the name public, or
move the shared code to a module of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("curator", "filters", "pipelines")


def _first_party(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attribute accesses on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def private_uses(source: str, module: str) -> list[str]:
    """Underscored names of this project's other modules that ``source`` (the module ``module``)
    imports or reads. The standard library's documented ``os._exit`` / ``sys._getframe`` are not ours.

    >>> private_uses("from curator.core import pipeline as p\\nx = p._helper", "curator.cli")
    ['line 2: p._helper']
    >>> private_uses("from filters.x import _y\\nfrom .z import _w\\nimport os\\nos._exit(0)", "curator.a")
    ['line 1: from filters.x import _y', 'line 2: from .z import _w']
    >>> private_uses("class A:\\n    def f(self):\\n        return self._x", "curator.a")
    []
    """
    tree = ast.parse(source)
    found = []
    modules: set[str] = set()  # local names bound to this project's modules (or to names from them)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            ours = node.level > 0 or _first_party(node.module or "")
            for alias in node.names:
                if ours and _private(alias.name) and (node.module or "") != module:
                    dots = "." * node.level
                    found.append(f"line {node.lineno}: from {dots}{node.module or ''} import {alias.name}")
                if ours:
                    modules.add(alias.asname or alias.name)  # a module or a class: either way not ours
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _first_party(alias.name):
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = _dotted(node.value)
            if base is not None and base.split(".")[0] in modules:
                found.append(f"line {node.lineno}: {base}.{node.attr}")
    return sorted(set(found), key=lambda s: int(s.split(":")[0].split()[1]))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_uses_another_modules_private_names(path: Path) -> None:
    uses = private_uses(path.read_text(encoding="utf-8"), _module_name(path))
    assert not uses, (f"{path.relative_to(ROOT)} uses private names of other modules: {uses}. "
                      "Make the name public (no leading underscore) in the module that owns it.")


def test_no_utils_module() -> None:
    """One concern per module, named for it: a ``utils`` grows into everything's dependency."""
    found = [str(p.relative_to(ROOT)) for p in _modules() if p.stem in ("utils", "util", "helpers", "misc")]
    found += [str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*")
              if p.is_dir() and p.name in ("utils", "util", "helpers")]
    assert not found, f"modules without a concern: {found}; name each module for what it holds"
