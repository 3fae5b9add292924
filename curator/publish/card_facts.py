"""The numbers of a data card, computed from a finished build's output directory.

Pure functions over the build's files and tables. Each returns ``None`` (or an empty
value) when the data lacks what it needs, so a card renders for any pipeline: a dataset
without ``difficulty`` simply has no difficulty section. Counts come from ``funnel.json``
verbatim; nothing here re-derives what the runner already counted.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from typing import Any

import polars as pl

from curator.publish.build_output import (
    OUTPUT_SPLIT,
    Build,
    datasets_resource,
    display_text,
    display_value,
    split_column,
)

#: sampling parameters worth showing next to a model (names as stages spell them)
SAMPLING_KEYS = ("k", "n", "n_samples", "temperature", "top_p", "top_k", "min_p", "max_tokens",
                 "repetition_penalty", "seed", "template", "greedy", "tau")


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def describe(values: list[float]) -> dict[str, Any]:
    """n, mean, median, p10, p90, min, max of a list of numbers."""
    if not values:
        return {"n": 0}
    return {"n": len(values), "mean": statistics.fmean(values), "median": _quantile(values, 0.5),
            "p10": _quantile(values, 0.1), "p90": _quantile(values, 0.9), "min": min(values), "max": max(values)}


# -- licenses and languages ----------------------------------------------------------------
def _meta_field(df: pl.DataFrame, name: str) -> pl.Series:
    if name in df.columns:
        return df[name].cast(pl.String)
    if "meta" in df.columns and df.schema["meta"] == pl.String:
        return df["meta"].str.json_path_match(f"$.{name}")
    return pl.Series(name, [None] * df.height, dtype=pl.String)


def declared_licenses(df: pl.DataFrame | None) -> list[str]:
    """Licenses the sources declared (a ``license`` column or ``meta.license``)."""
    if df is None or df.height == 0:
        return []
    return sorted({v for v in _meta_field(df, "license").drop_nulls().to_list() if v.strip()})


def license_report(df: pl.DataFrame | None, meta: dict[str, Any]) -> dict[str, Any]:
    """Rows per (source, declared license), and whether any row lacks a declaration."""
    rows: list[dict[str, Any]] = []
    if df is not None and df.height:
        frame = pl.DataFrame({"source": df["source"] if "source" in df.columns else [None] * df.height,
                              "license": _meta_field(df, "license")})
        for (src, lic), part in frame.group_by("source", "license", maintain_order=True):
            rows.append({"source": src or "-", "license": lic or "not declared", "rows": part.height})
    lic = meta.get("license")
    return {"value": lic if isinstance(lic, str) else ", ".join(lic), "name": meta.get("license_name"),
            "by_source": sorted(rows, key=lambda r: -r["rows"]),
            "undeclared": sum(r["rows"] for r in rows if r["license"] == "not declared")}


def _iso_languages() -> set[str]:
    return set(datasets_resource("languages.json"))


def language_codes(df: pl.DataFrame | None) -> list[str]:
    """ISO 639 codes of the ``language`` column (``zh-CN`` -> ``zh``), for the card's metadata."""
    if df is None or "language" not in df.columns:
        return []
    valid = _iso_languages()
    codes = set()
    for raw in df["language"].drop_nulls().unique().to_list():
        code = str(raw).strip().lower()
        code = code if code in valid else re.split(r"[-_]", code)[0]
        if code in valid:
            codes.add(code)
    return sorted(codes)


def language_counts(df: pl.DataFrame | None) -> dict[str, int]:
    if df is None or "language" not in df.columns or df["language"].null_count() == df.height:
        return {}  # nothing recorded: no section, no plot (rather than "unknown: 100%")
    counts = df.group_by(pl.col("language").fill_null("unknown")).len().sort("len", descending=True)
    return {str(k): int(v) for k, v in counts.iter_rows()}


def _flat_samples(df: pl.DataFrame | None, extra: tuple[str, ...] = ()) -> pl.DataFrame | None:
    if df is None or "samples" not in df.columns or df.height == 0:
        return None
    keep = [c for c in extra if c in df.columns]
    flat = df.select(*keep, "samples").explode("samples").drop_nulls("samples")
    if flat.height == 0:
        return None
    return flat.unnest("samples")


def languages(build: Build) -> dict[str, Any] | None:
    """Rows per language, language-consistency (``lang_ratio``) of the samples, language drops."""
    counts = language_counts(build.table)
    total = sum(counts.values())
    ratio = []
    kept_flat = _flat_samples(build.table)
    dropped = [df for _, df in build.sample_rejects() if "lang_ratio" in df.columns]
    for which, frames in (("kept", [kept_flat] if kept_flat is not None else []), ("dropped", dropped)):
        values = [float(v) for f in frames if "lang_ratio" in f.columns for v in f["lang_ratio"].drop_nulls().to_list()]
        if values:
            ratio.append({"which": which, **describe(values), "below_0_95": sum(v < 0.95 for v in values)})
    drops = []
    for s in build.funnel:
        for kind, reasons in (("rows", s.get("dropped") or {}), ("samples", s.get("samples_dropped") or {})):
            for reason, n in reasons.items():
                if "lang" in reason.lower() or roles(build).get(s["stage"]) == "language":
                    if reason != "row dropped":
                        drops.append({"stage": s["stage"], "kind": kind, "reason": reason, "n": n})
    if not counts and not ratio and not drops:
        return None
    dist = [{"language": k, "rows": v, "share": v / total if total else 0.0} for k, v in counts.items()]
    return {"distribution": dist, "lang_ratio": ratio, "drops": drops, "codes": language_codes(build.table)}


# -- funnel, models, reports ----------------------------------------------------------------
def _reasons(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [{"reason": k, "n": v} for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def funnel_rows(funnel: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per stage, numbers exactly as in funnel.json."""
    rows = []
    for s in funnel:
        dropped = s.get("dropped") or {}
        sdropped = s.get("samples_dropped") or {}
        rows.append({"stage": s["stage"], "scope": s.get("scope", ""), "rows_in": s["rows_in"],
                     "rows_out": s["rows_out"], "rows_dropped": sum(dropped.values()),
                     "reasons": _reasons(dropped), "samples_out": s.get("samples_out", 0),
                     "samples_added": s.get("samples_added", 0), "samples_dropped": sum(sdropped.values()),
                     "sample_reasons": _reasons(sdropped), "seconds": float(s.get("seconds", 0.0)),
                     "cached": bool(s.get("cached"))})
    return rows


def funnel_totals(funnel: list[dict[str, Any]]) -> dict[str, Any]:
    if not funnel:
        return {"rows_in": 0, "rows_out": 0, "samples_generated": 0, "samples_out": 0}
    return {"rows_in": funnel[0]["rows_in"], "rows_out": funnel[-1]["rows_out"],
            "samples_generated": sum(int(s.get("samples_added", 0)) for s in funnel[1:]),
            "samples_out": funnel[-1].get("samples_out", 0)}


def _identities(value: Any) -> list[dict[str, Any]]:
    """Backend identities inside canonical stage params (``{"type": ..., "identity": {...}}``)."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if isinstance(value.get("identity"), dict):
            found.append({"type": value.get("type", ""), **value["identity"]})
        else:
            for v in value.values():
                found += _identities(v)
    elif isinstance(value, list):
        for v in value:
            found += _identities(v)
    return found


def roles(build: Build) -> dict[str, str]:
    """Stage name -> the ``role`` the stage declared (``Stage.role``), from run.json."""
    return {st["name"]: st.get("role") or "" for st in build.run.get("stages") or []}


#: how the card names a declared role of a stage that calls a model
MODEL_ROLES = {"teacher": "teacher", "reference": "reference / judge", "judge": "reference / judge", "probe": "probe"}


def models(build: Build) -> dict[str, Any] | None:
    """Models named by the stages' backend identities, with the stages' sampling parameters,
    and per model the samples kept in the dataset."""
    stages = []
    for st in build.run.get("stages") or []:
        params = st.get("params") or {}
        idents = [i for i in _identities(params) if i.get("model")]  # backends; not e.g. benchmark identities
        if not idents:
            continue
        sampling = {k: params[k] for k in SAMPLING_KEYS if k in params and not isinstance(params[k], (dict, list))}
        for ident in idents:
            model = ident.get("model") or ident.get("model_path") or ident.get("name") or ident.get("type")
            rest = {k: v for k, v in ident.items() if k not in ("model", "type") and not isinstance(v, (dict, list))}
            stages.append({"stage": st["name"], "role": MODEL_ROLES.get(st.get("role") or "", "model"), "model": display_text(str(model)),
                           "backend": ident.get("kind") or ident.get("type", ""), "identity": display_value(rest), "sampling": sampling})
    sample_models = []
    flat = _flat_samples(build.table)
    if flat is not None and "model" in flat.columns:
        aggs = [pl.len().alias("samples")]
        if "correct" in flat.columns:
            aggs.append(pl.col("correct").cast(pl.Float64).mean().alias("accuracy"))
        if "completion_tokens" in flat.columns:
            aggs.append(pl.col("completion_tokens").mean().alias("mean_tokens"))
        for row in flat.group_by(pl.col("model").fill_null("unknown")).agg(aggs).sort("samples", descending=True).to_dicts():
            sample_models.append({"model": display_text(str(row["model"])), "samples": row["samples"],
                                  "accuracy": row.get("accuracy"), "mean_tokens": row.get("mean_tokens")})
    if not stages and not sample_models:
        return None
    return {"stages": stages, "samples": sample_models}


def stage_params(build: Build) -> list[dict[str, Any]]:
    """Each stage's parameters as recorded in run.json (paths made portable)."""
    out = []
    for st in build.run.get("stages") or []:
        params = display_value(st.get("params") or {})
        out.append({"stage": st["name"], "scope": st.get("scope", ""),
                    "params": json.dumps(params, ensure_ascii=False, sort_keys=True)})
    return out


def _flatten(info: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in info.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out |= _flatten(v, key + ".")
        else:
            out[key] = v
    return out


def _info_items(info: dict[str, Any]) -> list[dict[str, str]]:
    """A stage's info as (key, value) lines; nested reports become dotted keys."""
    items = []
    for k, v in _flatten(info).items():
        shown = v if isinstance(v, str) else json.dumps(display_value(v), ensure_ascii=False, sort_keys=True)
        items.append({"key": str(k), "value": display_text(shown)})
    return items


def _benchmark_rows(info: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-benchmark rows of a decontamination report (``benchmarks: {name: {...}}``), and the rest."""
    if len(info) == 1 and isinstance(next(iter(info.values())), dict):
        info = next(iter(info.values()))  # e.g. {"decontamination": {...}}
    benchmarks = info.get("benchmarks")
    if not (isinstance(benchmarks, dict) and benchmarks and all(isinstance(v, dict) for v in benchmarks.values())):
        return [], info
    rows = []
    for name, b in benchmarks.items():
        rule = b.get("by_rule")
        rows.append({"name": name, "size": b.get("items"), "items_matched": b.get("items_matched"),
                     "rows_matched": b.get("rows_matched"),
                     "by_rule": "; ".join(f"{k}: {v}" for k, v in rule.items()) if isinstance(rule, dict) else "-"})
    return rows, {k: v for k, v in info.items() if k != "benchmarks"}


def stage_reports(build: Build, role: str) -> list[dict[str, Any]] | None:
    """Stages that declared ``role``: rows removed (from the funnel) and their info."""
    out = []
    declared = roles(build)
    for s in build.funnel:
        if declared.get(s["stage"]) == role:
            dropped = s.get("dropped") or {}
            benchmarks, rest = _benchmark_rows(s.get("info") or {})
            out.append({"stage": s["stage"], "rows_in": s["rows_in"], "removed": sum(dropped.values()),
                        "reasons": _reasons(dropped), "benchmarks": benchmarks, "info": _info_items(rest)})
    return out or None


_REPORTED = ("decontamination", "dedup")


def other_reports(build: Build) -> list[dict[str, Any]]:
    """Info of the remaining stages (what a stage chose to report, e.g. thresholds it used)."""
    declared = roles(build)
    return [{"stage": s["stage"], "info": _info_items(s["info"])} for s in build.funnel
            if s.get("info") and declared.get(s["stage"]) not in _REPORTED]


def dedup(build: Build) -> dict[str, Any] | None:
    stages = stage_reports(build, "dedup")
    groups = None
    df = build.table
    if df is not None and "dup_group" in df.columns:
        sizes = df.group_by("dup_group").len().filter(pl.col("dup_group").is_not_null())
        multi = sizes.filter(pl.col("len") > 1)
        groups = {"groups": sizes.height, "groups_with_duplicates": multi.height,
                  "rows_in_those": int(multi["len"].sum() or 0)}
    if stages is None and groups is None:
        return None
    return {"stages": stages or [], "groups": groups}


# -- difficulty, curriculum, pass@k ------------------------------------------------------------
def difficulty_by_split(df: pl.DataFrame | None) -> dict[str, list[float]]:
    if df is None or "difficulty" not in df.columns:
        return {}
    col = split_column(df)
    out: dict[str, list[float]] = {}
    for (split,), part in df.group_by(col, maintain_order=True):
        out[str(split)] = [float(v) for v in part["difficulty"].drop_nulls().to_list()]
    return dict(sorted(((k, v) for k, v in out.items() if v), key=lambda kv: statistics.fmean(kv[1])))


def difficulty(df: pl.DataFrame | None, bins: int = 10) -> dict[str, Any] | None:
    """Summary and a 10-bin histogram of ``difficulty`` (0 = always solved)."""
    if df is None or "difficulty" not in df.columns:
        return None
    values = [float(v) for v in df["difficulty"].drop_nulls().to_list()]
    if not values:
        return None
    counts = [0] * bins
    for v in values:
        counts[min(int(v * bins), bins - 1) if v >= 0 else 0] += 1
    hist = [{"range": f"[{i / bins:.1f}, {(i + 1) / bins:.1f}{']' if i == bins - 1 else ')'}", "rows": c}
            for i, c in enumerate(counts)]
    return {"stats": describe(values), "histogram": hist, "missing": df["difficulty"].null_count()}


def curriculum(df: pl.DataFrame | None) -> dict[str, Any] | None:
    """Rows and difficulty range per curriculum split and per difficulty bin, easy to hard."""
    if df is None or not ({"split", "bin"} & set(df.columns)):
        return None
    out: dict[str, Any] = {}
    for col in ("split", "bin"):
        if col not in df.columns:
            continue
        groups = []
        for (value,), part in df.group_by(col, maintain_order=True):
            entry: dict[str, Any] = {"name": str(value), "rows": part.height}
            if "difficulty" in part.columns and part["difficulty"].drop_nulls().len():
                d = part["difficulty"].drop_nulls()
                entry |= {"min": float(d.min()), "mean": float(d.mean()), "max": float(d.max())}
            groups.append(entry)
        if all("mean" in g for g in groups):
            groups.sort(key=lambda g: g["mean"])
        out[col] = groups
    return out


_PASS_AT = re.compile(r"^pass_at_(\d+)$")


def pass_at_k(build: Build) -> dict[str, Any] | None:
    """Mean pass@k / maj@k / pass rate over every probed problem (kept + dropped after probing)
    and over the kept ones: filtering on difficulty changes these, the card shows both."""
    df = build.table
    if df is None:
        return None
    ks = sorted((int(m.group(1)), c) for c in df.columns if (m := _PASS_AT.match(c)))
    metrics = [(f"pass@{k}", c) for k, c in ks]
    if "maj_correct" in df.columns:
        metrics.append(("maj@k", "maj_correct"))
    if "pass_rate" in df.columns:
        metrics.append(("mean pass rate", "pass_rate"))
    if not metrics:
        return None
    cols = [c for _, c in metrics]
    keep_cols = ["id", *cols] + (["n_samples"] if "n_samples" in df.columns else [])
    kept = df.select([c for c in keep_cols if c in df.columns])
    probed = [kept.with_columns(pl.col(c).cast(pl.Float64) for c in cols)]
    for _, rej in build.rejects():
        if all(c in rej.columns for c in cols):
            probed.append(rej.select([c for c in keep_cols if c in rej.columns])
                          .with_columns(pl.col(c).cast(pl.Float64) for c in cols))
    everyone = pl.concat(probed, how="diagonal_relaxed")
    if "id" in everyone.columns:
        everyone = everyone.unique("id", keep="first", maintain_order=True)
    rows = []
    for label, c in metrics:
        rows.append({"metric": label, "column": c,
                     "probed": everyone[c].cast(pl.Float64).mean(), "kept": kept[c].cast(pl.Float64).mean()})
    k = None
    if "n_samples" in kept.columns and kept["n_samples"].drop_nulls().len():
        k = int(kept["n_samples"].drop_nulls().median())
    return {"rows": rows, "n_probed": everyone.height, "n_kept": kept.height, "samples_per_problem": k}


# -- reasoning length, columns, example, fingerprints -----------------------------------------
def lengths_by_split(df: pl.DataFrame | None) -> tuple[dict[str, list[int]], str]:
    """Reasoning length of every kept sample per split: model tokens when every sample has
    ``completion_tokens``, else whitespace words of ``reasoning`` (or ``text``)."""
    col = split_column(df) if df is not None else OUTPUT_SPLIT
    flat = _flat_samples(df, (col,))
    if flat is None:
        return {}, "completion tokens"
    if "completion_tokens" in flat.columns and flat["completion_tokens"].null_count() == 0:
        lengths, unit = flat["completion_tokens"].cast(pl.Int64), "completion tokens"
    else:
        src = "reasoning" if "reasoning" in flat.columns and flat["reasoning"].null_count() < flat.height else "text"
        if src not in flat.columns:
            return {}, "completion tokens"
        lengths, unit = flat[src].fill_null("").str.split(" ").list.eval(
            pl.element().filter(pl.element().str.strip_chars() != "")).list.len().cast(pl.Int64), "whitespace words"
    frame = pl.DataFrame({"split": flat[col].cast(pl.String), "n": lengths})
    out = {str(s): part["n"].to_list() for (s,), part in frame.group_by("split", maintain_order=True)}
    return out, unit


def reasoning_lengths(df: pl.DataFrame | None) -> dict[str, Any] | None:
    per_split, unit = lengths_by_split(df)
    if not per_split:
        return None
    rows = [{"split": s, **describe([float(v) for v in vs])} for s, vs in per_split.items()]
    if len(rows) > 1:
        rows.append({"split": "all", **describe([float(v) for vs in per_split.values() for v in vs])})
    return {"unit": unit, "rows": rows}


def columns(df: pl.DataFrame | None) -> dict[str, Any] | None:
    if df is None:
        return None
    cols = [{"name": c, "dtype": str(df.schema[c]) if c != "samples" else "list[struct]",
             "non_null": df.height - df[c].null_count()} for c in df.columns if not c.startswith("_")]
    sample_fields: list[str] = []
    if "samples" in df.columns:
        inner = getattr(df.schema["samples"], "inner", None)
        sample_fields = [f.name for f in getattr(inner, "fields", [])]
    return {"columns": cols, "sample_fields": sample_fields, "rows": df.height}


def _clip(text: Any, n: int) -> str:
    s = "" if text is None else str(text).strip()
    return s if len(s) <= n else s[:n].rstrip() + " …"


def example(df: pl.DataFrame | None) -> dict[str, Any] | None:
    """The first row, clipped, so the card shows what one record looks like."""
    if df is None or df.height == 0:
        return None
    row = df.row(0, named=True)
    sample = None
    samples = row.get("samples") or []
    if samples:
        s = samples[0]
        sample = {"reasoning": _clip(s.get("reasoning") or s.get("text"), 600), "final": _clip(s.get("final"), 300),
                  "extracted": s.get("extracted"), "correct": s.get("correct")}
    return {"id": row.get("id"), "problem": _clip(row.get("problem"), 500), "answer": _clip(row.get("answer"), 200),
            "sample": sample}


def fingerprints(build: Build) -> dict[str, Any]:
    """Stage fingerprints (the cache keys) and the sha256 of every output file."""
    stages = build.run.get("fingerprints") or {s["stage"]: s.get("fingerprint", "") for s in build.funnel}
    files = []
    for f in build.outputs:
        path = build.out_dir / f["path"]
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            files.append({"path": f["path"], "rows": f.get("rows"), "sha256": digest})
    return {"stages": [{"stage": k, "fingerprint": v} for k, v in stages.items()], "files": files}
