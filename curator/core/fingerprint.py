"""Content fingerprints for caching: a stage's code, parameters, backend and upstream.

Keys are built from content, never from file paths or object ids, so an unchanged pipeline
hits the cache on any machine, and a change anywhere upstream reruns what follows.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
import inspect
import json
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

#: Parameter names whose values are secrets: never hashed into keys, never written anywhere.
SECRET_NAMES = ("api_key", "token", "password", "secret", "authorization")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def module_source_hash(module: ModuleType | str) -> str:
    """Hash of a module's source, read afresh: a file edited in a notebook hashes anew.

    Empty for modules without source (builtins, extension modules).
    """
    if isinstance(module, str):
        module = sys.modules.get(module) or importlib.import_module(module)
    path = getattr(module, "__file__", None)
    if path and path.endswith(".py") and Path(path).is_file():
        return file_hash(path)
    try:
        return sha256_text(inspect.getsource(module))
    except (OSError, TypeError):
        return ""


def callable_identity(fn: Any) -> dict[str, Any]:
    """A function's identity by its code: editing the function body changes it."""
    target = getattr(fn, "__func__", fn)
    try:
        src = inspect.getsource(target)
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        src = repr(code.co_code) + repr(code.co_consts) if code else repr(target)
    return {"callable": getattr(target, "__qualname__", type(target).__name__), "code": sha256_text(src)}


def is_secret(name: str) -> bool:
    """``api_key``, ``hf_token``, ``password`` are secrets; ``max_tokens`` is not (it is a parameter).

    >>> [is_secret(n) for n in ("api_key", "HF_TOKEN", "auth_token", "max_tokens", "completion_tokens")]
    [True, True, True, False, False]
    """
    lowered = name.lower()
    words = set(lowered.replace("-", "_").split("_"))
    return any(s in lowered if "_" in s else s in words for s in SECRET_NAMES)


def canonical(value: Any) -> Any:
    """A JSON-able, stable view of a parameter value (secrets removed)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        p = value
        return {"file_sha256": file_hash(p)} if p.is_file() else str(p)
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0])) if not is_secret(str(k))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [canonical(v) for v in value]
        return sorted(items, key=json.dumps) if isinstance(value, (set, frozenset)) else items
    identity = getattr(value, "identity", None)
    if callable(identity):
        return {"type": type(value).__qualname__, "identity": canonical(identity())}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if not is_secret(f.name)}
        return {"type": type(value).__qualname__, "fields": canonical(params)}
    if callable(value):
        return callable_identity(value)
    raise TypeError(
        f"cannot fingerprint parameter of type {type(value).__name__}; give it an identity() method "
        "returning plain data, or make it a dataclass"
    )


#: files up to this size are hashed on every call; larger ones (benchmark sets) are memoised
MEMO_MIN_BYTES = 1 << 20


@lru_cache(maxsize=1024)
def _file_hash_cached(path: str, size: int, mtime_ns: int, ctime_ns: int, inode: int) -> str:
    return _read_hash(path)


def _read_hash(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_hash(path: str | Path) -> str:
    """sha256 of a file's bytes.

    Small files (source, rules, prompts) are read every time, so the key is their content;
    large ones are memoised per path, size, inode and change times (any write changes those).
    """
    resolved = Path(path).resolve()
    st = resolved.stat()
    if st.st_size < MEMO_MIN_BYTES:
        return _read_hash(str(resolved))
    return _file_hash_cached(str(resolved), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def module_of(code: ModuleType | Any) -> ModuleType:
    """The module itself, or the module that defines a function or class (``code_modules`` entries)."""
    if isinstance(code, ModuleType):
        return code
    if isinstance(code, str):  # a dotted module name: accepted, but pass the module or a function of it
        return sys.modules.get(code) or importlib.import_module(code)
    name = getattr(code, "__module__", None)
    if name is None:
        raise TypeError(f"code_modules entry {code!r} is neither a module nor a function or class of one")
    return sys.modules.get(name) or importlib.import_module(name)


def stage_code_hash(stage: Any) -> str:
    """The code a stage runs: its class's module(s), its declared ``code_modules``, its callables."""
    modules = {type(stage).__module__: sys.modules.get(type(stage).__module__)}
    for code in getattr(stage, "code_modules", ()):
        module = module_of(code)
        modules[module.__name__] = module
    for cls in type(stage).__mro__:
        mod = cls.__module__
        if mod.startswith(("curator.", "filters.", "pipelines.")) and mod not in ("curator.core.stage",):
            modules[mod] = sys.modules.get(mod)
    parts = {name: module_source_hash(module or name) for name, module in sorted(modules.items())}
    return sha256_text(json.dumps(parts, sort_keys=True))


def stage_fingerprint(stage: Any, upstream: str) -> str:
    """Key of a stage's output: upstream key + stage type + code + parameters (incl. backend)."""
    payload = {
        "upstream": upstream,
        "stage": f"{type(stage).__module__}.{type(stage).__qualname__}",
        "code": stage_code_hash(stage),
        "params": canonical(stage.params()),
    }
    return sha256_text(json.dumps(payload, sort_keys=True))
