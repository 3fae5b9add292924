"""Pipeline files and their parameters.

A pipeline file is ordinary Python that defines a ``Params`` dataclass (typed fields with
defaults that say where they come from) and ``build(params) -> Pipeline``. ``--param k=v``
overrides a field; values are parsed by the field's type.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

from curator.core.pipeline import Pipeline


class ParamError(ValueError):
    """A ``--param`` that does not fit the pipeline's Params."""


def load_pipeline_module(path: str | Path) -> types.ModuleType:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such pipeline file")
    # named by content, not location: stages defined in the file keep their cache keys when the
    # checkout moves, and an edited file loads as a new module
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    name = f"pipelines_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if not hasattr(module, "build"):
        raise AttributeError(f"{path}: a pipeline file must define build(params) -> Pipeline")
    return module


def _parse_value(raw: str, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if raw.lower() in ("none", "null", ""):
            return None
        return _parse_value(raw, non_none[0], key) if len(non_none) == 1 else raw
    if tp is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ParamError(f"--param {key}={raw}: expected true or false")
    if tp in (int, float):
        try:
            return tp(raw)
        except ValueError:
            raise ParamError(f"--param {key}={raw}: expected {tp.__name__}") from None
    if origin in (list, tuple) or tp in (list, tuple):
        items = json.loads(raw) if raw.startswith("[") else [s.strip() for s in raw.split(",") if s.strip()]
        inner = args[0] if args else str
        parsed = [_parse_value(str(i), inner, key) if not isinstance(i, inner if isinstance(inner, type) else object)
                  else i for i in items]
        return tuple(parsed) if (origin is tuple or tp is tuple) else parsed
    if origin is dict or tp is dict:
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise ParamError(f"--param {key}={raw}: expected a JSON object") from None
    return raw


def apply_overrides(params: Any, overrides: dict[str, str] | list[str]) -> Any:
    """Return a copy of ``params`` with ``key=value`` overrides applied (typed by the fields)."""
    if isinstance(overrides, list):
        pairs: dict[str, str] = {}
        for item in overrides:
            if "=" not in item:
                raise ParamError(f"--param {item!r}: write key=value")
            k, v = item.split("=", 1)
            pairs[k.strip()] = v
        overrides = pairs
    hints = typing.get_type_hints(type(params))
    names = {f.name for f in dataclasses.fields(params)}
    changes: dict[str, Any] = {}
    for key, raw in overrides.items():
        if key not in names:
            raise ParamError(f"unknown --param {key!r}; this pipeline takes: {', '.join(sorted(names))}")
        changes[key] = raw if not isinstance(raw, str) else _parse_value(raw, hints[key], key)
    return dataclasses.replace(params, **changes)


def load_pipeline(path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> Pipeline:
    """Build the pipeline a file describes, with parameters overridden (for notebooks and the CLI)."""
    module = load_pipeline_module(path)
    params_cls = getattr(module, "Params", None)
    if params_cls is None:
        return module.build()
    params = apply_overrides(params_cls(), overrides or {})
    pipeline = module.build(params)
    pipeline.params = params
    if not pipeline.description and module.__doc__:  # the data card's "what it is for"
        pipeline.description = module.__doc__.strip()
    return pipeline


def describe_params(path: str | Path) -> list[tuple[str, str, str]]:
    """(name, type, default) of a pipeline file's parameters, for ``--help`` style listings."""
    module = load_pipeline_module(path)
    params_cls = getattr(module, "Params", None)
    if params_cls is None:
        return []
    hints = typing.get_type_hints(params_cls)
    out = []
    for f in dataclasses.fields(params_cls):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else "")
        out.append((f.name, getattr(hints[f.name], "__name__", str(hints[f.name])), repr(default)))
    return out


def param_values(params: Any) -> dict[str, Any] | None:
    """A recipe's parameters as a plain JSON mapping (numbers stay numbers) for run.json and the card;
    fields whose names look secret are left out."""
    from curator.core.fingerprint import is_secret

    if params is None or not dataclasses.is_dataclass(params):
        return None

    def plain(v: Any) -> Any:
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items() if not is_secret(str(k))}
        return str(v)

    return {f.name: plain(getattr(params, f.name)) for f in dataclasses.fields(params) if not is_secret(f.name)}
