"""curator.rewards.columns: R1-Zero accuracy and format rewards."""

from __future__ import annotations

import polars as pl
import pytest

from curator.core.table import SAMPLES_DTYPE, conform
from curator.rewards.columns import REWARD_SPEC, Rewards, accuracy_reward, format_reward


@pytest.mark.parametrize("text,reasoning,expected", [
    ("<think>2+2=4</think> The answer is \\boxed{4}.", None, 1.0),
    ("<think>2+2=4</think>\nSo \\fbox{4}", None, 1.0),
    ("2+2=4</think> The answer is \\boxed{4}.", None, 1.0),  # the template opened <think>
    ("<think>2+2=4 and then \\boxed{4}", None, 0.0),  # never closed: truncated
    ("<think>\\boxed{4}</think> The answer is 4.", None, 0.0),  # box only inside the reasoning
    ("<think></think> \\boxed{4}", None, 0.0),  # no reasoning at all
    ("<think>a</think><think>b</think> \\boxed{4}", None, 0.0),
    ("The answer is \\boxed{4}.", None, 0.0),  # no think block
    ("<think>a</think> \\boxed{}", None, 0.0),  # empty box
    ("Intro <think>a</think> \\boxed{1}", None, 0.0),
    ("The answer is \\boxed{4}.", "provider reasoning", 1.0),  # reasoning in a separate field
    ("", None, 0.0),
    (None, None, 0.0),
])
def test_format_reward(text, reasoning, expected):
    assert format_reward(text, reasoning) == expected


def test_accuracy_reward():
    assert accuracy_reward("<think>a</think> \\boxed{\\frac12}", "0.5") == 1.0
    assert accuracy_reward("\\boxed{3}", "0.5") == 0.0
    assert accuracy_reward("\\boxed{3}", None) is None


def test_rewards_stage_adds_sample_columns():
    df = conform(pl.DataFrame({"problem": ["p"], "answer": ["4"]}))
    blank = dict.fromkeys(SAMPLES_DTYPE.inner.to_schema())
    samples = [[{**blank, "text": "<think>x</think> \\boxed{4}", "correct": True},
                {**blank, "text": "\\boxed{5}", "correct": False},
                {**blank, "text": "<think>x</think> \\boxed{4}", "correct": None}]]
    df = df.with_columns(pl.Series("samples", samples, dtype=SAMPLES_DTYPE))
    out = Rewards().apply(df)
    got = out.kept["samples"][0].to_list()
    assert [s["reward_accuracy"] for s in got] == [1.0, 0.0, None]
    assert [s["reward_format"] for s in got] == [1.0, 0.0, 1.0]
    assert out.info["rewards"] == REWARD_SPEC
