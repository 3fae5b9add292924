"""Difficulty probes: a probe model's answers decide what is too easy, then step aside.

s1K drops questions that its probe models (7B, 32B) solve; LIMO drops what a 7B math model
solves. The probe's own answers measure difficulty only - they are not training data - so
they are set aside (with a reason) before the teacher's chains are generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from curator.core.stage import Filter, SampleFilter, Stage
from curator.generation.stage import Generate


@dataclass
class Probe(Generate):
    """Generation by the probe model: its answers measure difficulty (the card lists it as a probe)."""

    role: ClassVar[str] = "probe"


@dataclass
class SolvedByProbe(Filter):
    """s1 / LIMO: a problem the probe answers correctly is too easy."""

    needs: ClassVar[tuple[str, ...]] = ("n_correct",)

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        solved = df["n_correct"].fill_null(0) > 0
        return pl.Series("reason", ["solved by probe model" if s else None for s in solved], dtype=pl.String)


@dataclass
class SetAsideProbe(SampleFilter):
    """The probe's answers measured difficulty; the training chains come from the teacher."""

    def sample_reasons(self, samples: pl.DataFrame) -> pl.Series:
        return pl.Series("reason", ["probe answer (difficulty only)"] * samples.height, dtype=pl.String)


def probe_stages(backend: Any, *, max_tokens: int, template: str | None = None, seed: int = 1000,
                 k: int = 1) -> list[Stage]:
    """Greedy probe answers -> graded -> solved problems dropped -> probe answers set aside."""
    from curator.answers.verify import Verify

    return [
        Probe(backend=backend, k=k, temperature=0.0, max_tokens=max_tokens, template=template, seed=seed,
                 label="probe"),
        Verify(label="probe_verify"),
        SolvedByProbe(),
        SetAsideProbe(),
    ]


def probe_from_params(p: Any) -> list[Stage]:
    """The s1K / LIMO recipes' probe from their ``--param``s (none when ``p.probe`` is off).

    ``probe_model`` (else the reasoner's ``model``) on the same ``backend`` and ``endpoints``,
    ``probe_max_tokens``, ``template``; seeded apart from the main draw so it is independent of it.
    """
    if not p.probe:
        return []
    from curator.generation import backend_from_params

    probe = backend_from_params(p.backend, p.probe_model or p.model, p.endpoints)
    return probe_stages(probe, max_tokens=p.probe_max_tokens, template=p.template or None, seed=p.seed + 1000)
