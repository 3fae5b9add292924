"""What may be recorded about a backend, a command line or a server's error: an allow-list.

Everything this project writes (``run.json``, stage caches, cards, logs, samples' ``error``)
is built from named fields known to be harmless. A value is kept only when its name is on a
list here (or is a declared, non-secret pipeline parameter); anything else is replaced by
``<redacted>``. Strings that are kept still pass through ``scrub`` (URL credentials, query
tokens, ``sk-...`` keys, ``Bearer ...`` headers), because a harmless name can still hold a URL
with a password in it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "<redacted>"

#: Name fragments that mark a secret, however spelled (``api-key``, ``apiKey``, ``X-Auth``).
SECRET_WORDS = ("apikey", "api_key", "key", "token", "password", "passwd", "secret", "auth", "bearer",
                "credential", "cookie", "session", "signature", "private")

#: Query parameters of an endpoint URL that are not secret (Azure OpenAI's ``api-version``).
SAFE_QUERY = frozenset({"api-version", "api_version", "model", "format"})

#: Keys of a backend's ``extra_body`` / ``extra_params`` that are sampling settings
#: (vLLM SamplingParams, SGLang, OpenAI chat parameters). Others are redacted everywhere.
SAFE_EXTRA = frozenset({
    "top_k", "min_p", "typical_p", "repetition_penalty", "presence_penalty", "frequency_penalty",
    "length_penalty", "min_tokens", "max_completion_tokens", "stop", "stop_token_ids", "ignore_eos",
    "skip_special_tokens", "spaces_between_special_tokens", "include_stop_str_in_output",
    "chat_template_kwargs", "enable_thinking", "reasoning_effort", "response_format", "logprobs",
    "top_logprobs", "guided_json", "guided_regex", "guided_choice", "guided_grammar", "use_beam_search",
    "best_of", "truncate_prompt_tokens", "add_generation_prompt", "continue_final_message",
    "temperature", "top_p", "seed", "n", "max_tokens", "thinking", "no_stop_trim", "regex", "json_schema",
})

#: ``curator build`` options whose values are recorded (paths and numbers, never secrets).
SAFE_OPTIONS = frozenset({
    "--out", "-o", "--work-dir", "--from-stage", "--executor", "--tasks", "--workers", "--cpus-per-task",
    "--mem-per-cpu-gb", "--gpus-per-task", "--partition", "--time", "--venv", "--seed", "--on-bad-rows",
    "--request-cache", "--address", "--push-to-hub", "--revision",
})

#: ``curator build`` flags that take no value.
SAFE_FLAGS = frozenset({"--quiet", "-q", "--dry-run", "--traceback", "--submit", "--no-submit", "--private",
                        "--fail-on-empty", "--log-json", "--help"})

# a token after a secret-looking name: api_key=..., "api-key": "...", Authorization: ...
_NAMED = re.compile(
    r"""(?ix)
    (["']?(?<![\w-])(?:[\w-]*(?:api[-_]?key|secret|passw(?:or)?d|credential|token(?!s))[\w-]*|authorization|auth|key)
     (?![\w-])["']?\s*[:=]\s*)
    (?:bearer\s+|basic\s+)?
    (["'][^"']*["']|[^\s,;}&"']+)
    """)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_SK = re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-*]{16,}|\bhf_[A-Za-z0-9]{30,}|\bgh[pousr]_[A-Za-z0-9]{30,}"
                 r"|\bxox[abp]-[A-Za-z0-9-]{10,}|\bAKIA[A-Z0-9]{16}\b")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
# long runs that look like keys: 32+ hex, or 24+ base64-ish chars with both digits and letters
_HEX = re.compile(r"\b[0-9a-fA-F]{32,}\b")
_B64 = re.compile(r"(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_=-]*\d)(?=[A-Za-z0-9+/_=-]*[A-Za-z])[A-Za-z0-9+/_=-]{24,}")


def is_secret_name(name: str) -> bool:
    """``api-key``, ``apiKey``, ``X-Auth-Token``, ``hf_token`` are secrets; ``max_tokens`` is not.

    >>> [is_secret_name(n) for n in ("api-key", "apiKey", "access_key", "auth", "max_tokens", "top_k")]
    [True, True, True, True, False, False]
    """
    flat = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower().replace("-", "_")
    words = set(flat.split("_"))
    if flat.endswith("tokens") and "token" not in words:  # max_tokens, completion_tokens: counts
        words.discard("tokens")
    joined = flat.replace("tokens", "").replace("_", "")
    return any(w in words or (len(w) > 4 and w in joined) for w in SECRET_WORDS)


def redact_url(url: str) -> str:
    """An endpoint URL without ``user:pass@`` and with query values other than SAFE_QUERY redacted.

    >>> redact_url("https://bob:hunter2@host:8000/v1?key=abc&api-version=2024-06-01")
    'https://<redacted>@host:8000/v1?key=%3Credacted%3E&api-version=2024-06-01'
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return REDACTED
    netloc = (f"{REDACTED}@" if parts.username or parts.password else "") + host + (f":{port}" if port else "")
    query = urlencode([(k, v if k.lower() in SAFE_QUERY else REDACTED)
                       for k, v in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def scrub(text: str, *, tokens: bool = False) -> str:
    """Text with anything that looks like a credential replaced by ``<redacted>``.

    ``tokens=True`` also removes long hex/base64 runs (for server error bodies; not for
    records, whose sha256 fingerprints are long hex by design).

    >>> scrub("Incorrect API key provided: sk-proj-abc123XYZ789q. Authorization: Bearer abcdef123456")
    'Incorrect API key provided: <redacted>. Authorization: <redacted>'
    """
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    text = _BEARER.sub(REDACTED, text)
    text = _SK.sub(REDACTED, text)
    text = _NAMED.sub(lambda m: m.group(1) + REDACTED, text)
    if tokens:
        text = _HEX.sub(REDACTED, text)
        text = _B64.sub(REDACTED, text)
    return text


def scrub_error(text: str | None) -> str | None:
    """A server's error message, safe to store in a sample (keys, bearer tokens, long tokens removed)."""
    return None if text is None else scrub(text, tokens=True)


def redact_value(value: Any) -> Any:
    """A JSON-able record with secret-named keys redacted and every string scrubbed."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_name(str(k)) else redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def allowed_extra(extra: dict[str, Any] | None) -> dict[str, Any]:
    """A backend's extra request fields as they may be recorded: SAFE_EXTRA keys kept, others redacted.

    >>> allowed_extra({"top_k": 20, "api-key": "abc"})
    {'api-key': '<redacted>', 'top_k': 20}
    """
    return {k: redact_value(v) if k in SAFE_EXTRA else REDACTED for k, v in sorted((extra or {}).items())}


def redact_command(command: str | Iterable[str], params: Iterable[str] = ()) -> str:
    """A command line as it may be recorded: known options and declared, non-secret
    ``--param NAME=VALUE`` kept (values scrubbed); every other value replaced by ``<redacted>``.

    >>> redact_command("curator build p.py --param k=4 --param api_key=sk-x1 --param foo=bar --token abc", {"k", "api_key"})
    'curator build p.py --param k=4 --param api_key=<redacted> --param foo=<redacted> --token <redacted>'
    """
    allowed = {p for p in params if not is_secret_name(p)}
    try:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
    except ValueError:
        return REDACTED
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, inline = arg.partition("=")
        if arg in ("--param", "-p") and i + 1 < len(argv):
            key, _, val = argv[i + 1].partition("=")
            out += [arg, f"{key}={scrub(val) if key in allowed else REDACTED}"]
            i += 2
            continue
        if arg.startswith("-"):
            if eq:
                out.append(f"{name}={scrub(inline) if name in SAFE_OPTIONS else REDACTED}")
            elif arg not in SAFE_FLAGS and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                # an option with a value, or a flag followed by a positional: unknown options are redacted
                out += [arg, scrub(argv[i + 1]) if arg in SAFE_OPTIONS else REDACTED]
                i += 2
                continue
            else:
                out.append(arg)
        else:
            out.append(scrub(arg))
        i += 1
    return " ".join(a if REDACTED in a else shlex.quote(a) for a in out)
