"""The ``curator`` command line."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="curator",
    help="Build reasoning training data: long-CoT SFT sets, rejection-sampled sets and RL prompt pools.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

PIPELINE_ARG = typer.Argument(..., help="A pipeline file, e.g. pipelines/cold_start.py", exists=False)


def _fail(message: str, code: int = 1) -> None:
    from rich.markup import escape

    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    raise typer.Exit(code)


@app.command()
def build(
    pipeline: Annotated[Path, PIPELINE_ARG],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Override a parameter: key=value (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output directory [default: out/<pipeline>].")] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Cache directory [default: <out>/.work].")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and missing columns; run nothing.")] = False,
    from_stage: Annotated[str | None, typer.Option("--from", help="Rerun from this stage even if cached.")] = None,
    executor: Annotated[str, typer.Option(help="local (default), ray or slurm.")] = "local",
    on_bad_rows: Annotated[str | None, typer.Option(help="error (default) or quarantine: set bad input rows aside with their reason.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for every random choice in the run.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or funnel output.")] = False,
    traceback: Annotated[bool, typer.Option("--traceback", help="Show the full traceback on errors.")] = False,
) -> None:
    """Run a pipeline file: load, run every stage (cached), write the dataset, the funnel and the card."""
    from curator.io import InputError
    from curator.params import ParamError, load_pipeline

    overrides = list(param or [])
    if on_bad_rows:
        overrides.append(f"on_bad_rows={on_bad_rows}")
    try:
        pipe = load_pipeline(pipeline, overrides)
        if dry_run:
            plan = pipe.plan()
            console.print(plan.render())
            if plan.missing:
                for stage, col in plan.missing:
                    console.print(f"[bold red]missing:[/] stage {stage!r} needs column {col!r}, which nothing before it provides")
                raise typer.Exit(2)
            console.print("[green]plan ok[/]: every column a stage needs is provided; nothing was run")
            return
        command = "curator " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        pipe.run(out, work_dir=work_dir, from_stage=from_stage, executor=executor, seed=seed,
                 console=console, quiet=quiet, command=command)
    except typer.Exit:
        raise
    except (InputError, ParamError, FileNotFoundError, ValueError) as err:
        if traceback:
            raise
        _fail(str(err))
    except Exception as err:  # an error for people: one line, and how to see more
        if traceback:
            raise
        _fail(f"{type(err).__name__}: {err}\n(rerun with --traceback for the full trace)")


@app.command()
def params(pipeline: Annotated[Path, PIPELINE_ARG]) -> None:
    """List a pipeline's parameters, their types and defaults."""
    from rich.table import Table

    from curator.params import describe_params, load_pipeline_module

    module = load_pipeline_module(pipeline)
    table = Table(title=f"{pipeline} parameters (override with --param key=value)")
    for c in ("name", "type", "default"):
        table.add_column(c)
    for row in describe_params(pipeline):
        table.add_row(*row)
    if module.__doc__:
        Console().print(module.__doc__.strip().splitlines()[0])
    Console().print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
