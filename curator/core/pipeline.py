"""A pipeline: a source, stages in order, outputs. Runs in a notebook or from ``curator build``.

``Pipeline.run`` checks the plan and hands one ``RunOptions`` value to the local runner
(``curator.core.runner``) or to a scale-out executor (``curator.executors``); both count
with ``curator.core.accounting``, so they write the same files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from curator.core.outputs import Output, TableOutput
from curator.core.run_options import RunOptions
from curator.core.runner import Runner
from curator.core.sources import ReadProblems
from curator.core.stage import Stage, StageError
from curator.core.table import PROBLEM_SCHEMA

__all__ = ["DEFAULT_FINISHERS", "Pipeline", "Plan", "PlanStep", "RunOptions", "StageError", "write_card"]


@dataclass
class PlanStep:
    index: int
    name: str
    scope: str
    needs: tuple[str, ...]
    adds: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass
class Plan:
    steps: list[PlanStep]

    @property
    def missing(self) -> list[tuple[str, str]]:
        return [(s.name, c) for s in self.steps for c in s.missing]

    def render(self) -> Any:
        from rich.table import Table

        table = Table(title="Plan")
        for c in ("#", "stage", "scope", "needs", "adds", "missing"):
            table.add_column(c)
        for s in self.steps:
            table.add_row(str(s.index), s.name, s.scope, ", ".join(s.needs) or "-", ", ".join(s.adds) or "-",
                          "[bold red]" + ", ".join(s.missing) + "[/]" if s.missing else "")
        return table


def write_card(out_dir: Path) -> Any:
    """Default finisher: the data card and its plots next to the data (``curator.publish.card``)."""
    from curator.publish.card import write_card as render  # matplotlib / jinja2 load only when a build ends

    return render(out_dir)


#: run at the end of every build; pass ``finishers=(*DEFAULT_FINISHERS, mine)`` to add one, ``()`` for none
DEFAULT_FINISHERS: tuple[Callable[[Path], Any], ...] = (write_card,)


@dataclass
class Pipeline:
    """Stages composed in order. ``run()`` returns the final table (a polars DataFrame)."""

    name: str
    source: ReadProblems | pl.DataFrame
    stages: Sequence[Stage]
    outputs: Sequence[Output] = field(default_factory=lambda: [TableOutput()])
    description: str = ""
    params: Any = None  # the pipeline file's Params, recorded in run.json and the card
    finishers: Sequence[Callable[[Path], Any]] = DEFAULT_FINISHERS

    def _source_columns(self) -> set[str]:
        if isinstance(self.source, pl.DataFrame):
            cols = set(self.source.columns) | set(PROBLEM_SCHEMA) | {"samples"}
            if "samples" in self.source.columns:
                dtype = self.source.schema["samples"]
                inner = getattr(dtype, "inner", None)
                cols |= {f"samples.{f.name}" for f in getattr(inner, "fields", [])}
            return cols
        return self.source.columns_provided()

    def plan(self) -> Plan:
        """Which columns each stage needs and whether an earlier stage provides them."""
        available = self._source_columns()
        steps = [PlanStep(0, "load", "source", (), tuple(sorted(available)), ())]
        names: set[str] = set()
        for i, stage in enumerate(self.stages, start=1):
            if stage.name in names:
                raise ValueError(f"two stages are named {stage.name!r}; give one a label=... so --from and "
                                 "the funnel can tell them apart")
            names.add(stage.name)
            needs, adds = stage.columns_needed(), stage.columns_added()
            missing = tuple(c for c in needs if c not in available)
            steps.append(PlanStep(i, stage.name, stage.scope, needs, adds, missing))
            available |= set(adds)
        return Plan(steps)

    def stage_names(self) -> list[str]:
        return ["load"] + [s.name for s in self.stages]

    def run(
        self,
        out_dir: str | Path | None = None,
        *,
        options: RunOptions | None = None,
        **kwargs: Any,
    ) -> pl.DataFrame:
        """Run every stage (from the cache where nothing changed), write outputs, return the table.

        Keyword arguments are the fields of :class:`~curator.core.run_options.RunOptions` (``work_dir``,
        ``from_stage``, ``executor``, ``seed``, ``console``, ``quiet``, ``command``, ``request_cache``);
        ``work_dir`` may be an fsspec URL such as ``s3://bucket/run``.
        """
        options = replace(options or RunOptions(), **kwargs) if kwargs else (options or RunOptions())
        if out_dir is not None:
            options = replace(options, out_dir=out_dir)
        if options.executor != "local":
            from curator.executors import run_with_executor  # scale-out engines are optional

            return run_with_executor(self, options)
        return Runner(self, options).run()
