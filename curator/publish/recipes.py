"""The bundled recipes (``pipelines/*.py``), reachable after ``pip install`` for ``curator recipe NAME``.

The recipe files ship in the wheel as the ``pipelines`` package; in a checkout they are the
files next to ``curator/``. Either way the text written out is the file the card's
"Reproduce" section names, so a card's command works on a machine without the checkout.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


class RecipeError(LookupError):
    """No bundled recipe of that name."""


def recipes_dir() -> Path:
    """Where the recipe files are: the installed ``pipelines`` package, else the checkout's folder."""
    checkout = Path(__file__).resolve().parents[2] / "pipelines"
    if checkout.is_dir() and any(checkout.glob("*.py")):
        return checkout
    spec = importlib.util.find_spec("pipelines")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    raise RecipeError("the bundled recipes are missing from this install; reinstall reasoning-curator")


def list_recipes() -> list[tuple[str, str]]:
    """(name, first docstring line) of every bundled recipe."""
    import ast

    out = []
    for path in sorted(recipes_dir().glob("*.py")):
        if path.name.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        out.append((path.stem, doc.strip().splitlines()[0] if doc.strip() else ""))
    return out


def recipe_source(name: str) -> str:
    """The text of recipe ``name`` (``cold_start`` or ``cold_start.py``)."""
    stem = Path(name).stem
    path = recipes_dir() / f"{stem}.py"
    if stem.startswith("_") or not path.is_file():
        names = ", ".join(n for n, _ in list_recipes())
        raise RecipeError(f"no bundled recipe {name!r}; the recipes are: {names}")
    return path.read_text(encoding="utf-8")
