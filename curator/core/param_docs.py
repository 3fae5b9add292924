"""``curator params``: each parameter's type, default, allowed values and the comment the recipe gives it.

Recipes document every field with a trailing comment (``k: int = 4  # samples per problem``);
those comments are read from the source with ``tokenize``, so the listing cannot drift from
the file the build runs.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import tokenize
import types
import typing
from dataclasses import dataclass
from typing import Any


@dataclass
class ParamDoc:
    name: str
    type: str  # e.g. "int", "str | None", "Literal"
    default: str  # repr of the default
    choices: tuple[str, ...]  # allowed values of a Literal, else ()
    comment: str  # the field's trailing comment in the recipe (or the base class it comes from)


def field_comments(cls: type) -> dict[str, str]:
    """``{field: comment}`` from the trailing ``# ...`` of each annotated line, base classes first."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        first_name: dict[int, str] = {}
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(inspect.cleandoc("\n" + source) + "\n").readline))
        except (tokenize.TokenError, IndentationError):
            continue
        own = {f.name for f in dataclasses.fields(klass)}
        for tok in tokens:
            line = tok.start[0]
            if tok.type == tokenize.NAME and line not in first_name:
                first_name[line] = tok.string
            elif tok.type == tokenize.COMMENT and first_name.get(line) in own:
                out[first_name[line]] = tok.string.lstrip("#").strip()
    return out


def _type_name(tp: Any) -> tuple[str, tuple[str, ...]]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return "Literal", tuple(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args]
        choices = tuple(c for _, cs in names for c in cs)
        return " | ".join(n if n != "NoneType" else "None" for n, _ in names), choices
    if origin is not None:
        inner = ", ".join(_type_name(a)[0] if a is not Ellipsis else "..." for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]", ()
    return getattr(tp, "__name__", str(tp)), ()


def param_docs(params_cls: type) -> list[ParamDoc]:
    """One ``ParamDoc`` per field of a recipe's ``Params`` dataclass, in declaration order."""
    hints = typing.get_type_hints(params_cls)
    comments = field_comments(params_cls)
    out = []
    for f in dataclasses.fields(params_cls):
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = repr(f.default_factory())
        else:
            default = "(required)"
        tname, choices = _type_name(hints[f.name])
        out.append(ParamDoc(f.name, tname, default, choices, comments.get(f.name, "")))
    return out
