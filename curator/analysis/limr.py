"""LIMR: select RL prompts whose reward curve tracks the average learning curve.

LIMR (Li et al. 2025, "LIMR: Less is More for RL Scaling") trains once on the full pool,
records each problem's reward per epoch, and keeps the problems whose curve follows the
model's overall learning trajectory. With ``r_k`` a problem's mean reward at epoch k and
``rbar_k`` the mean over all problems at epoch k, the learning-impact score is

    s = 1 - sum_k (r_k - rbar_k)^2 / sum_k (1 - rbar_k)^2

and a problem is kept when ``s > 0.6`` (LIMR's threshold). The rewards come from a training
run's rollout logs: verl's ``trainer.rollout_data_dir`` (one ``<step>.jsonl`` per step, each
line with ``input``, ``output``, ``score``, ``step``; a problem is identified by its prompt
text, or by an ``id`` / ``index`` field when the reward function logged one), or any table
with ``step``, ``id`` and ``reward`` columns. A problem's k-th appearance in the log is its
epoch k (each epoch shows every prompt once), so no steps-per-epoch setting is needed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl

#: LIMR's selection threshold on the learning-impact score
LIMR_THRESHOLD = 0.6


def _prompt_id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_rollouts(path: str | Path) -> pl.DataFrame:
    """``step``, ``id``, ``reward`` rows from a verl rollout dir, a JSONL / Parquet / CSV table.

    A bad line names its file and line. Rewards are verl's ``score`` (or ``reward`` / ``acc``).
    """
    p = Path(path)
    if p.is_dir():
        files = sorted((f for f in p.glob("*.jsonl")), key=lambda f: (len(f.stem), f.stem))
        if not files:
            raise FileNotFoundError(f"{p}: no <step>.jsonl rollout files (verl trainer.rollout_data_dir)")
        rows = []
        for f in files:
            for lineno, line in enumerate(f.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    step = int(rec.get("step", f.stem))
                    ident = rec.get("id", rec.get("index"))
                    ident = str(ident) if ident is not None else _prompt_id(str(rec["input"]))
                    reward = float(next(rec[k] for k in ("score", "reward", "acc") if k in rec))
                except (ValueError, KeyError, StopIteration, TypeError) as err:
                    raise ValueError(f"{f}:{lineno}: not a rollout record with input/id, step and score "
                                     f"({type(err).__name__}: {err})") from None
                rows.append((step, ident, reward, rec.get("input")))
        return pl.DataFrame(rows, schema={"step": pl.Int64, "id": pl.String, "reward": pl.Float64,
                                          "prompt": pl.String}, orient="row")
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such rollout log (a verl rollout_data_dir or a step,id,reward table)")
    suffix = p.suffix.lower()
    df = (pl.read_parquet(p) if suffix == ".parquet" else pl.read_csv(p) if suffix in (".csv", ".tsv")
          else pl.read_ndjson(p))
    missing = {"step", "id", "reward"} - set(df.columns)
    if missing:
        raise ValueError(f"{p}: a rollout table needs columns step, id, reward; missing {sorted(missing)} "
                         f"(has {df.columns})")
    return df.select(pl.col("step").cast(pl.Int64), pl.col("id").cast(pl.String), pl.col("reward").cast(pl.Float64))


def epoch_curves(rollouts: pl.DataFrame) -> tuple[list[str], np.ndarray]:
    """Per problem, its mean reward at each epoch (its k-th step seen = epoch k); NaN past its log."""
    per_step = (rollouts.group_by("id", "step").agg(pl.col("reward").mean())
                .sort("id", "step")
                .with_columns(pl.col("step").rank("dense").over("id").cast(pl.Int64).alias("epoch")))
    ids = per_step["id"].unique(maintain_order=True).to_list()
    epochs = int(per_step["epoch"].max() or 0)
    pos = {i: r for r, i in enumerate(ids)}
    curves = np.full((len(ids), epochs), np.nan)
    rows = np.array([pos[i] for i in per_step["id"].to_list()], dtype=np.int64)
    curves[rows, per_step["epoch"].to_numpy() - 1] = per_step["reward"].to_numpy()
    return ids, curves


def limr_scores(curves: np.ndarray) -> np.ndarray:
    """LIMR's learning-impact score per problem (rows) from per-epoch rewards (columns).

    Epochs a problem was not seen in are left out of its sums. ``rbar_k`` is the mean over
    the problems seen at epoch k.

    >>> limr_scores(np.array([[0.0, 0.5, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 1.0]])).round(3).tolist()
    [0.918, 0.49, 0.735]
    """
    curves = np.asarray(curves, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(curves, axis=0)
    seen = ~np.isnan(curves)
    num = np.where(seen, (curves - mean) ** 2, 0.0).sum(axis=1)
    den = np.where(seen, (1.0 - mean) ** 2, 0.0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 1.0 - num / den
    return np.where(den > 0, score, np.nan)


def limr_select(rollouts: pl.DataFrame, threshold: float = LIMR_THRESHOLD) -> pl.DataFrame:
    """``id``, ``epochs``, ``limr_score`` and ``keep`` (score above ``threshold``) per problem."""
    ids, curves = epoch_curves(rollouts)
    scores = limr_scores(curves)
    out = pl.DataFrame({
        "id": ids,
        "epochs": (~np.isnan(curves)).sum(axis=1).astype(np.int64),
        "limr_score": scores,
    }).with_columns((pl.col("limr_score").fill_nan(None) > threshold).fill_null(False).alias("keep"))
    if "prompt" in rollouts.columns:  # verl logs: the prompt text tells the reader which problem it is
        prompts = rollouts.group_by("id").agg(pl.col("prompt").drop_nulls().first())
        out = out.join(prompts, on="id", how="left")
    return out
