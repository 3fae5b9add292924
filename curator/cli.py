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
    work_dir: Annotated[str | None, typer.Option(help="Cache directory, a path or an fsspec URL such as s3://bucket/run [default: <out>/.work].")] = None,
    request_cache: Annotated[Path | None, typer.Option(help="Local SQLite file of LLM responses [default: <work-dir>/requests.sqlite; <out>/.requests.sqlite for a URL work dir].")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and missing columns; run nothing.")] = False,
    from_stage: Annotated[str | None, typer.Option("--from", help="Rerun from this stage even if cached.")] = None,
    executor: Annotated[str, typer.Option(help="local (default); processes, ray or slurm run row stages as datatrove tasks over shards.")] = "local",
    tasks: Annotated[int | None, typer.Option(help="Shards per run of row stages (processes, ray, slurm) [default: 4].")] = None,
    workers: Annotated[int | None, typer.Option(help="Shards running at once [default: all].")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster to join, e.g. auto [default: start a local one].")] = None,
    partition: Annotated[str | None, typer.Option(help="Slurm partition.")] = None,
    slurm_time: Annotated[str | None, typer.Option(help="Slurm time limit per job [default: 24:00:00].")] = None,
    cpus_per_task: Annotated[int | None, typer.Option(help="CPUs per shard task (ray, slurm).")] = None,
    mem_per_cpu_gb: Annotated[int | None, typer.Option(help="Memory per CPU in GB (ray, slurm).")] = None,
    gpus_per_task: Annotated[int | None, typer.Option(help="GPUs per shard task (ray, slurm).")] = None,
    venv: Annotated[str | None, typer.Option(help="Slurm: virtualenv activate script each job sources.")] = None,
    submit: Annotated[bool, typer.Option(help="Slurm: submit the jobs (--no-submit writes the sbatch scripts only).")] = True,
    on_bad_rows: Annotated[str | None, typer.Option(help="error (default) or quarantine: set bad input rows aside with their reason.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for every random choice in the run.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or funnel output.")] = False,
    traceback: Annotated[bool, typer.Option("--traceback", help="Show the full traceback on errors.")] = False,
    push_to_hub: Annotated[str | None, typer.Option("--push-to-hub", help="After the build, push it to ORG/NAME (see `curator push`).")] = None,
    private: Annotated[bool, typer.Option("--private", help="With --push-to-hub: create the repository private.")] = False,
    revision: Annotated[str | None, typer.Option("--revision", help="With --push-to-hub: push to this branch.")] = None,
) -> None:
    """Run a pipeline file: load, run every stage (cached), write the dataset, the funnel and the card."""
    from curator.core.io import InputError
    from curator.core.params import ParamError, load_pipeline

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
        engine: object = executor
        if executor != "local":
            from curator.executors import executor_config

            options = {"tasks": tasks, "workers": workers, "cpus_per_task": cpus_per_task,
                       "mem_per_cpu_gb": mem_per_cpu_gb, "gpus_per_task": gpus_per_task}
            if executor == "ray":
                options["address"] = address
            elif executor == "slurm":
                options.update(partition=partition, time=slurm_time, venv_path=venv, submit=submit)
            else:
                options = {"tasks": tasks, "workers": workers}
            engine = executor_config(executor, **options)
        pipe.run(out, work_dir=work_dir, from_stage=from_stage, executor=engine, seed=seed,  # type: ignore[arg-type]
                 console=console, quiet=quiet, command=command, request_cache=request_cache)
        if push_to_hub:
            _push(out or Path("out") / pipe.name, push_to_hub, private, revision, dry_run=False)
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

    from curator.core.params import describe_params, load_pipeline_module

    module = load_pipeline_module(pipeline)
    table = Table(title=f"{pipeline} parameters (override with --param key=value)")
    for c in ("name", "type", "default"):
        table.add_column(c)
    for row in describe_params(pipeline):
        table.add_row(*row)
    if module.__doc__:
        Console().print(module.__doc__.strip().splitlines()[0])
    Console().print(table)


OUT_DIR_ARG = typer.Argument(..., help="A build's output directory (where funnel.json is).")


def _push(out_dir: Path, repo_id: str, private: bool, revision: str | None, dry_run: bool) -> None:
    from curator.publish.card import CardError
    from curator.publish.hub import HubError
    from curator.publish.hub import dry_run as plan_lines
    from curator.publish.hub import push as push_build

    try:
        if dry_run:
            lines = plan_lines(out_dir, repo_id, private=private, revision=revision)
            console.print(lines[0], highlight=False, soft_wrap=True)
            for line in lines[1:]:
                print(line)
            return
        url = push_build(out_dir, repo_id, private=private, revision=revision, console=console)
        console.print(f"[green]pushed[/] {out_dir} -> {url}" + (f" (branch {revision})" if revision else ""))
    except (HubError, CardError) as err:
        _fail(str(err))


@app.command()
def push(
    out_dir: Annotated[Path, OUT_DIR_ARG],
    repo_id: Annotated[str, typer.Argument(help="ORG/NAME of the dataset repository on the Hub.")],
    private: Annotated[bool, typer.Option("--private", help="Create the repository private.")] = False,
    revision: Annotated[str | None, typer.Option("--revision", help="Push to this branch (created if missing).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List every file that would be uploaded; upload nothing.")] = False,
) -> None:
    """Push a build to the Hugging Face Hub: every config and split, then the card and plots.

    The token comes from HF_TOKEN or `hf auth login`. With HF_HUB_OFFLINE=1 or no network it stops
    with one line before uploading anything."""
    _push(out_dir, repo_id, private, revision, dry_run)


@app.command()
def inspect(
    out_dir: Annotated[Path, OUT_DIR_ARG],
    samples: Annotated[int, typer.Option("--samples", "-n", help="How many rows to show with their first sample.")] = 3,
) -> None:
    """Show a build in the terminal: funnel, outputs, column summary, rejects by reason, a few samples."""
    from curator.publish.card import CardError
    from curator.publish.inspect import inspect_build

    try:
        inspect_build(out_dir, Console(), samples=samples)
    except CardError as err:
        _fail(str(err))


@app.command()
def card(
    out_dir: Annotated[Path, OUT_DIR_ARG],
    into: Annotated[Path | None, typer.Option("--into", help="Write README.md and plots/ here [default: OUT_DIR].")] = None,
    template: Annotated[Path | None, typer.Option("--template", help="A jinja2 card template [default: data_cards/template.md.j2 in a checkout, else the packaged one].")] = None,
    license: Annotated[str | None, typer.Option("--license", help="Declare the license (a Hub id, e.g. apache-2.0) instead of inheriting it from the sources.")] = None,
) -> None:
    """(Re)generate the data card and its plots from a build, e.g. after editing the template."""
    from curator.publish.card import CardError, render_card, validate_card

    try:
        result = render_card(out_dir, into=into, template=template, license_value=license)
    except CardError as err:
        _fail(str(err))
        return
    console.print(f"[green]wrote[/] {result.path} ({len(result.plots)} plots) from template {result.template}",
                  highlight=False)
    for problem in validate_card(result.text):
        console.print(f"[yellow]warning:[/] card metadata: {problem}", highlight=False)


@app.command()
def compare(
    builds: Annotated[list[Path], typer.Argument(help="Build output directories (each holds one or more models' samples).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder (README.md, plots/, tables).")] = Path("out/compare"),
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="A name per one-model build, in order (repeatable).")] = None,
    kind: Annotated[str, typer.Option(help="Answer kind for rows whose meta names none: math, choice or text.")] = "math",
    draws: Annotated[int, typer.Option(help="Random vote orders per problem for maj@k.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the vote orders and the bootstrap.")] = 0,
) -> None:
    """Compare models across builds: pass@k and maj@k curves, crossovers and boundary sets."""
    from curator.publish.boundary_report import compare_builds
    from curator.publish.build_output import CardError

    try:
        report = compare_builds(builds, out, label or None, kind=kind, draws=draws, seed=seed)
    except (CardError, ValueError) as err:
        _fail(str(err))
        return
    console.print(f"[green]wrote[/] {out / 'README.md'}: {len(report.models)} model(s) on {report.problems:,} shared "
                  "problems", highlight=False)


@app.command()
def limr(
    rollouts: Annotated[Path, typer.Argument(help="verl's trainer.rollout_data_dir, or a table with step, id, reward.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write id, epochs, limr_score, keep (.parquet, .csv or .jsonl).")] = Path("out/limr.parquet"),
    threshold: Annotated[float, typer.Option(help="Keep problems scoring above this (LIMR: 0.6).")] = 0.6,
) -> None:
    """LIMR: score each problem's reward curve against the average learning curve, select by threshold."""
    from curator.analysis.limr import limr_select, read_rollouts

    try:
        table = limr_select(read_rollouts(rollouts), threshold)
    except (OSError, ValueError) as err:
        _fail(str(err))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        table.write_csv(out)
    elif suffix == ".jsonl":
        table.write_ndjson(out)
    else:
        table.write_parquet(out)
    kept = int(table["keep"].sum())
    console.print(f"[green]wrote[/] {out}: {kept:,} of {table.height:,} problems score above {threshold}",
                  highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
