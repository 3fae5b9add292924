"""The data card: a Hugging Face dataset card rendered from what a build left behind.

Everything in it is read from the output directory (``funnel.json``, ``run.json``,
``outputs.json``, the output tables and the rejects), so the card cannot drift from the
data. The facts are gathered here (``curator.publish.card_facts`` computes the statistics), the
words live in a jinja2 template (``data_cards/template.md.j2`` in a checkout, the
packaged copy otherwise), the plots in ``curator.publish.plots``. Publishing is ``curator.publish.hub``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from curator.analysis.boundary import BoundaryReport
from curator.publish import card_curves, card_fusion
from curator.publish import card_facts as facts
from curator.publish.build_output import Build, CardError, datasets_resource, fmt_num

PACKAGED_TEMPLATE = Path(__file__).parents[1] / "templates" / "dataset_card.md.j2"
CHECKOUT_TEMPLATE = Path("data_cards") / "template.md.j2"
HUB_LICENSES_FILE = Path(__file__).parents[1] / "data" / "hub_licenses.txt"
PLOTS_DIR = "plots"
CARD_NAME = "README.md"

#: The Hub's dataset size buckets (``size_categories``), upper bounds exclusive.
SIZE_CATEGORIES: tuple[tuple[int, str], ...] = (
    (1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
)


def find_template(explicit: str | Path | None = None) -> Path:
    """The template to render: an explicit path, else ``data_cards/template.md.j2`` of the
    current directory or of the checkout this package lives in, else the packaged copy."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise CardError(f"template {path} does not exist; pass an existing .md.j2 file or leave it out")
        return path
    checkout = Path(__file__).resolve().parents[2] / CHECKOUT_TEMPLATE
    for candidate in (Path.cwd() / CHECKOUT_TEMPLATE, checkout):
        if candidate.is_file():
            return candidate
    return PACKAGED_TEMPLATE


def hub_licenses() -> set[str]:
    """License identifiers the Hub accepts (bundled list)."""
    lines = HUB_LICENSES_FILE.read_text().splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}


def size_category(rows: int) -> str:
    for bound, name in SIZE_CATEGORIES:
        if rows < bound:
            return name
    return "n>1T" if rows > 10**12 else "1B<n<10B"


_LICENSE_ALIASES = {"apache 2.0": "apache-2.0", "apache-2": "apache-2.0", "apache license 2.0": "apache-2.0",
                    "cc by 4.0": "cc-by-4.0", "cc-by": "cc-by-4.0", "cc by-sa 4.0": "cc-by-sa-4.0",
                    "cc0": "cc0-1.0", "public domain": "cc0-1.0", "gplv3": "gpl-3.0", "gpl3": "gpl-3.0"}


def normalise_license(raw: str) -> str:
    """``Apache-2.0`` -> ``apache-2.0``; unknown spellings are returned lower-cased."""
    key = re.sub(r"\s+", " ", raw.strip().lower())
    return _LICENSE_ALIASES.get(key, key.replace(" ", "-"))


def license_metadata(declared: list[str], explicit: str | None) -> dict[str, Any]:
    """YAML license fields: Hub ids kept, anything else declared as ``other`` with its name,
    ``unknown`` when no source declared one (never a guessed license)."""
    values = [explicit] if explicit else declared
    ids = sorted({normalise_license(v) for v in values if v and v.strip()})
    if not ids:
        return {"license": "unknown"}
    known = hub_licenses()
    hub = [i for i in ids if i in known]
    other = [i for i in ids if i not in known]
    meta: dict[str, Any] = {}
    if other:
        hub = sorted(set(hub) | {"other"})
        meta["license_name"] = ", ".join(other)
    meta["license"] = hub[0] if len(hub) == 1 else hub
    return meta


def _hub_data_path(config: str, split: str) -> str:
    """Where ``datasets.Dataset.push_to_hub`` puts a split's shards (its default ``data_dir``)."""
    data_dir = "data" if config == "default" else config
    return f"{data_dir}/{split}-*"


def front_matter(build: Build, license_value: str | None = None, hub_layout: bool = False) -> dict[str, Any]:
    """The card's YAML metadata, accepted by ``huggingface_hub.DatasetCardData``."""
    meta: dict[str, Any] = {"pretty_name": build.pretty_name}
    meta.update(license_metadata(facts.declared_licenses(build.table), license_value or build.param("license")))
    langs = facts.language_codes(build.table)
    if langs:
        meta["language"] = langs
    tasks = ["text-generation"]
    if build.table is not None and "answer" in build.table.columns and build.table["answer"].null_count() < build.table.height:
        tasks.append("question-answering")
    meta["task_categories"] = tasks
    tags = ["reasoning", "reasoning-curator"]
    if build.n_samples:
        tags.append("synthetic")
    meta["tags"] = tags
    meta["size_categories"] = [size_category(build.rows)]
    configs = []
    # `datasets` refuses a split with no rows ('Instruction "train" corresponds to no data!'), so
    # empty splits are left out of `configs` (the card's tables still show them with 0 rows)
    loadable = loadable_configs(build)
    for i, (config, files) in enumerate(loadable.items()):
        entry: dict[str, Any] = {"config_name": config}
        if config == "default" or (i == 0 and "default" not in loadable):
            entry["default"] = True
        entry["data_files"] = [{"split": f["split"], "path": _hub_data_path(config, f["split"]) if hub_layout
                                else f["path"]} for f in files]
        configs.append(entry)
    if configs:
        meta["configs"] = configs
    return meta


def loadable_configs(build: Build) -> dict[str, list[dict[str, Any]]]:
    """The configs' output files that ``datasets`` can load: it refuses a split with no rows."""
    loadable = {c: [f for f in files if f.get("rows") != 0] for c, files in build.configs().items()}
    return {c: files for c, files in loadable.items() if files}


@dataclass
class RenderedCard:
    text: str
    path: Path | None
    template: Path
    plots: dict[str, str]


def card_context(build: Build, plots: dict[str, str], repo_id: str | None = None,
                 license_value: str | None = None, hub_layout: bool = False,
                 curves: BoundaryReport | None = None) -> dict[str, Any]:
    """Everything the template may use; each section is ``None`` when the data lacks it."""
    meta = front_matter(build, license_value, hub_layout)
    loadable = loadable_configs(build)
    first_config = next(iter(loadable), "default")
    first_split = (loadable.get(first_config) or [{"split": "train"}])[0]["split"]
    config_arg = "" if first_config == "default" else f'"{first_config}", '
    name = repo_id or "ORG/NAME"
    return {
        "front_matter": yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000),
        "meta": meta,
        "name": build.name,
        "pretty_name": build.pretty_name,
        "description": build.description,
        "repo_id": repo_id,
        "load_line": f'load_dataset("{name}", {config_arg}split="{first_split}")',
        "local_load_line": f'load_dataset("path/to/this/folder", {config_arg}split="{first_split}")',
        "rows": build.rows,
        "n_samples": build.n_samples,
        "outputs": build.outputs,
        "licenses": facts.license_report(build.table, meta),
        "funnel": facts.funnel_rows(build.funnel),
        "funnel_totals": facts.funnel_totals(build.funnel),
        "models": facts.models(build),
        "difficulty": facts.difficulty(build.table),
        "curriculum": facts.curriculum(build.table),
        "passk": facts.pass_at_k(build),
        "curves": card_curves.context(curves),
        "fusion": card_fusion.fusion(build),
        "languages": facts.languages(build),
        "decontamination": facts.stage_reports(build, "decontamination"),
        "dedup": facts.dedup(build),
        "reasoning": facts.reasoning_lengths(build.table),
        "columns": facts.columns(build.table),
        "example": facts.example(build.table),
        "other_reports": facts.other_reports(build),
        "command": facts.display_text(build.run.get("command") or ""),
        "params_yaml": yaml.safe_dump(facts.display_value(build.run.get("params")), sort_keys=True,
                                      allow_unicode=True, width=1000) if build.run.get("params") else None,
        "stage_params": facts.stage_params(build),
        "run": {k: build.run.get(k) for k in ("started", "seconds", "python", "versions")},
        "fingerprints": facts.fingerprints(build),
        "plots": plots,
    }


def _cell(value: object) -> str:
    """Text safe inside a markdown table cell."""
    return str(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def render_plots(build: Build, into: Path) -> dict[str, str]:
    """Write the card's PNGs under ``into/plots``; returns {name: path relative to ``into``}."""
    from curator.publish import plots as P
    out = into / PLOTS_DIR
    written: dict[str, str] = {}
    diff = facts.difficulty_by_split(build.table)
    lengths, unit = facts.lengths_by_split(build.table)
    langs = facts.language_counts(build.table)
    jobs = {
        "funnel": lambda p: P.funnel_bars(build.funnel, p),
        "difficulty": lambda p: P.difficulty_histogram(diff, p) if diff else None,
        "reasoning_length": lambda p: P.reasoning_length(lengths, unit, p) if lengths else None,
        "languages": lambda p: P.language_mix(langs, p) if langs else None,
    }
    for name, job in jobs.items():
        target = out / f"{name}.png"
        if job(target) is not None:
            written[name] = f"{PLOTS_DIR}/{name}.png"
        elif target.exists():
            target.unlink()  # a plot the data no longer supports must not linger next to the card
    return written


def render_card(out_dir: str | Path, *, into: str | Path | None = None, template: str | Path | None = None,
                repo_id: str | None = None, license_value: str | None = None, hub_layout: bool = False,
                write: bool = True) -> RenderedCard:
    """Render ``README.md`` and its plots for the build in ``out_dir`` (into ``into``, default
    the build itself). ``hub_layout`` points ``configs`` at where ``curator push`` uploads the data."""
    import jinja2

    build = Build.load(out_dir)
    target = Path(into) if into is not None else build.out_dir
    tpl_path = find_template(template)
    curves = card_curves.report(build)
    plots = render_plots(build, target) if write else {
        n: f"{PLOTS_DIR}/{n}.png" for n in ("funnel", "difficulty", "reasoning_length", "languages",
                                            *card_curves.PLOT_NAMES.values())
        if (target / PLOTS_DIR / f"{n}.png").exists()}
    if write:
        plots.update(card_curves.plots(curves, target, PLOTS_DIR))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tpl_path.parent)), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.filters["num"] = fmt_num
    env.filters["cell"] = _cell
    try:
        text = env.get_template(tpl_path.name).render(**card_context(build, plots, repo_id, license_value, hub_layout,
                                                                     curves))
    except jinja2.TemplateError as err:
        where = f"{tpl_path}, line {getattr(err, 'lineno', '?')}"
        raise CardError(f"card template {where}: {type(err).__name__}: {err}") from None
    text = re.sub(r"\n{3,}", "\n\n", text)
    path = None
    if write:
        target.mkdir(parents=True, exist_ok=True)
        path = target / CARD_NAME
        path.write_text(text)
    return RenderedCard(text, path, tpl_path, plots)


def write_card(out_dir: str | Path) -> Path | None:
    """The default finisher of every build: the card and its plots next to the data."""
    return render_card(out_dir).path


def validate_card(text: str) -> list[str]:
    """Problems the Hub would reject in a card's metadata, checked offline ([] = valid).

    ``DatasetCard.validate`` needs the network; this checks the same fields against the
    lists ``datasets`` and this package ship, and the ``configs`` with ``datasets`` itself."""
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard, DatasetCardData

    problems: list[str] = []
    card = DatasetCard(text, ignore_metadata_errors=False)
    data = DatasetCardData(**card.data.to_dict(), ignore_metadata_errors=False)
    sizes = set(datasets_resource("size_categories.json"))
    languages = set(datasets_resource("languages.json"))
    licenses = data.license if isinstance(data.license, list) else [data.license]
    problems += [f"license {x!r} is not a Hub license id" for x in licenses if x not in hub_licenses()]
    if "other" in licenses and not getattr(data, "license_name", None):
        problems.append("license 'other' needs a license_name")
    problems += [f"size category {s!r} is not a Hub bucket" for s in (data.size_categories or []) if s not in sizes]
    problems += [f"language {x!r} is not an ISO 639 code" for x in (data.language or []) if x not in languages]
    try:
        MetadataConfigs.from_dataset_card_data(data)
    except (ValueError, TypeError) as err:
        problems.append(f"configs: {err}")
    if not getattr(data, "configs", None):
        problems.append("no configs: the Hub would not know which files hold which split")
    return problems
