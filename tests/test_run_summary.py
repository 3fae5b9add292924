"""Failures in plain sight: the owning stage's funnel row, the end-of-run summary, collapse warnings."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from curator.core.funnel import StageStats, render_funnel, stage_flags, write_funnel
from curator.core.run_log import format_duration, progress_line
from curator.publish.run_summary import collapse_warnings, summarize


def generate_stats() -> StageStats:
    return StageStats("generate", "row", "fp", rows_in=3, rows_out=3, samples_out=12, samples_added=12,
                      info={"samples_failed": 2, "samples_truncated": 5})


def test_the_generate_row_shows_its_own_failures() -> None:
    assert stage_flags(generate_stats()) == ["failed requests: 2", "truncated: 5"]
    console = Console(width=400, record=True)
    console.print(render_funnel([generate_stats()]))
    row = next(ln for ln in console.export_text().splitlines() if ln.lstrip("│ ").startswith("generate"))
    assert "failed requests: 2" in row and "truncated: 5" in row


def test_summary_names_failures_and_empty_splits(tmp_path: Path) -> None:
    load = StageStats("load", "source", "fp", rows_in=3, rows_out=3)
    verify = StageStats("verify", "row", "fp", rows_in=3, rows_out=0, dropped={"no correct sample": 3},
                        samples_in=12, samples_out=0, samples_dropped={"wrong": 12})
    write_funnel([load, generate_stats(), verify], tmp_path / "funnel.json")
    (tmp_path / "outputs.json").write_text(json.dumps([{"config": "default", "split": "train",
                                                        "path": "data/train.parquet", "rows": 0}]))
    s = summarize(tmp_path)
    assert s.rows == 0 and s.failed_requests == 2 and s.truncated == 5
    assert s.line() == ("summary: 0 rows; 2 failed requests; 5 truncated samples; empty splits: default/train")
    assert "'verify' dropped 3 rows, most for 'no correct sample': 3" in s.empty_reason()


def test_collapsed_curriculum_balance_and_bins_are_warned() -> None:
    params = {"generate": {"k": 2, "temperature": 1.0},
              "difficulty": {"edges": [0, 0.2, 0.4, 0.6, 0.8, 1]},
              "curriculum": {"n_stages": 5, "hardest_n": None}, "balance": {"size": 2000}}
    stats = [
        StageStats("difficulty", "global", "fp", rows_in=10, rows_out=10, info={
            "binning": {"on": "pass_rate", "labels": ["0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1.0"]},
            "bins": [{"bin": "0.4-0.6", "rows": 6}, {"bin": "unsolved", "rows": 4}]}),
        StageStats("curriculum", "global", "fp", rows_in=10, rows_out=10,
                   info={"stages": [{"split": "stage1", "rows": 10}, {"split": "stage2", "rows": 0}]}),
        StageStats("balance", "global", "fp", rows_in=1040, rows_out=1040,
                   info={"balance": {"target_size": 2000, "selected": 1040, "short_by": 960}}),
    ]
    warnings = collapse_warnings(stats, params)
    assert any("only 1 of 5 difficulty bins" in w and "k=2" in w for w in warnings), warnings
    assert any("asked for 5 curriculum stages, got 1" in w for w in warnings), warnings
    assert any("960 rows short of its target of 2,000" in w for w in warnings), warnings


def test_progress_line_has_samples_rate_errors_and_eta() -> None:
    line = progress_line("generate", 50, 200, elapsed=10.0, tokens=1000, errors=1, hits=0)
    assert line.startswith("generate: 50/200 samples (25%)")
    assert "100.0 tok/s" in line and "errors 1" in line and "ETA 30s" in line
    assert format_duration(95) == "1m35s" and format_duration(4000) == "1h06m"
