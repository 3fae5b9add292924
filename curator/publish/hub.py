"""Publishing a build to the Hugging Face Hub: every config and split with ``datasets``,
then the card and its plots with ``huggingface_hub`` in one commit.

The token comes from ``HF_TOKEN`` or the standard ``hf auth login`` file, resolved by
``huggingface_hub`` itself; this module never reads, prints or logs its value. Offline
(``HF_HUB_OFFLINE=1``) or without a network, a push stops before uploading anything with
one line saying so. ``plan_push`` (``--dry-run``) lists exactly the files a push writes.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from curator.publish.build_output import Build
from curator.publish.card import CARD_NAME, PLOTS_DIR, hub_data_dir, render_card, render_plots

#: ``datasets``' default shard size for ``push_to_hub`` (its ``config.MAX_SHARD_SIZE``)
MAX_SHARD_BYTES = 500 * 1024 * 1024
_SPLIT_RE = re.compile(r"^\w+(\.\w+)*$")  # what ``datasets`` accepts as a split name
OFFLINE_MESSAGE = ("cannot push to the Hugging Face Hub: offline mode is on (HF_HUB_OFFLINE=1); nothing was "
                   "uploaded. Unset HF_HUB_OFFLINE and check the network, or add --dry-run to list what "
                   "would be uploaded.")


class HubError(RuntimeError):
    """A push that cannot happen or did not finish; the message is one line for people."""


@dataclass
class Upload:
    kind: str  # data | card | plot
    remote: str  # path in the repository
    local: str  # what it is made from (relative to the output directory, or how it is made)
    rows: int | None = None
    config: str | None = None
    split: str | None = None
    size: int | None = None


@dataclass
class PushPlan:
    repo_id: str
    private: bool
    revision: str | None
    uploads: list[Upload] = field(default_factory=list)
    card_text: str = ""
    plots_dir: Path | None = None
    skipped: list[str] = field(default_factory=list)  # "config/split (why)" left out of the push

    def lines(self) -> list[str]:
        """One line per file the push writes (full paths, never truncated), after a header."""
        where = self.repo_id + (f" (branch {self.revision})" if self.revision else "")
        head = (f"would upload {len(self.uploads)} files to {where}, a {'private' if self.private else 'public'} "
                f"dataset; token from {token_source()}")
        width = max((len(u.remote) for u in self.uploads), default=0)
        body = [f"{u.kind:<5} {u.remote:<{width}}  <- {u.local}" + (f" ({u.rows:,} rows)" if u.rows is not None else "")
                for u in self.uploads]
        return [head, *body, *(f"skip  {why}" for why in self.skipped)]


def token_source() -> str:
    """Where the token will come from, never its value."""
    if os.environ.get("HF_TOKEN"):
        return "HF_TOKEN"
    from huggingface_hub import get_token

    return "the saved `hf auth login` token" if get_token() else "none found (set HF_TOKEN or run `hf auth login`)"


def _read(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    if path.suffix in (".jsonl", ".ndjson"):
        return pl.read_ndjson(path, infer_schema_length=None)
    raise HubError(f"{path}: cannot push a {path.suffix} file; outputs must be .parquet or .jsonl")


def num_shards(table: Any) -> int:
    """Shards ``push_to_hub`` would write (its own formula), fixed so the plan names them exactly."""
    return int(table.nbytes / MAX_SHARD_BYTES) + 1


def plan_push(out_dir: str | Path, repo_id: str, *, private: bool = False, revision: str | None = None,
              plots_into: Path | None = None) -> PushPlan:
    """Every file a push writes, in order. Plots are rendered into ``plots_into`` (``push`` and
    ``dry_run`` give a temporary folder, so neither changes the build)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if repo_id.count("/") != 1:
        raise HubError(f"repository {repo_id!r}: write ORG/NAME (e.g. my-lab/cold-start-r1)")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise HubError(f"repository {repo_id!r} is not a valid Hub name: {err}") from None
    build = Build.load(out_dir)
    if not build.outputs:
        raise HubError(f"{build.out_dir}: outputs.json lists no files; nothing to push")
    if all(f.get("rows") == 0 for f in build.outputs):
        raise HubError(f"{build.out_dir}: every split has 0 rows (see funnel.json for where they went); "
                       "nothing to push")
    plan = PushPlan(repo_id, private, revision)
    for config, files in build.configs().items():
        if config == "data":
            raise HubError(f"config name 'data' is reserved by `datasets`; rename the output's config in {out_dir}")
        for f in files:
            split = str(f["split"])
            if f.get("rows") == 0:
                plan.skipped.append(f"{config}/{split} (0 rows: `datasets` cannot load an empty split)")
                continue
            if not _SPLIT_RE.match(split):
                raise HubError(f"split {split!r} of config {config!r}: the Hub accepts letters, digits and _ "
                               "(and dots between words); rename it in the pipeline's outputs")
            path = build.out_dir / f["path"]
            if not path.is_file():
                raise HubError(f"{path} is listed in outputs.json but missing; rebuild the dataset")
            n = num_shards(_read(path).to_arrow())
            data_dir = hub_data_dir(config)  # the card's file table names the same paths
            for i in range(n):
                plan.uploads.append(Upload("data", f"{data_dir}/{split}-{i:05d}-of-{n:05d}.parquet", f["path"],
                                           f.get("rows") if n == 1 else None, config, split))
    target = plots_into if plots_into is not None else build.out_dir
    plots = render_plots(build, target)
    card = render_card(build.out_dir, into=target, repo_id=repo_id, hub_layout=True, write=False)
    plan.card_text, plan.plots_dir = card.text, target
    plan.uploads.append(Upload("card", CARD_NAME, f"{CARD_NAME} rendered for {repo_id}", size=len(card.text)))
    for rel in plots.values():
        plan.uploads.append(Upload("plot", rel, rel, size=(target / rel).stat().st_size))
    return plan


def dry_run(out_dir: str | Path, repo_id: str, *, private: bool = False, revision: str | None = None) -> list[str]:
    """What ``curator push --dry-run`` prints: the plan, with no network call and no file changed."""
    with tempfile.TemporaryDirectory(prefix="curator-push-") as tmp:
        return plan_push(out_dir, repo_id, private=private, revision=revision, plots_into=Path(tmp)).lines()


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


#: transport failures by class name, whichever HTTP stack huggingface_hub / datasets use (httpx, requests, ...)
_NETWORK_ERROR_NAMES = {"ConnectError", "ConnectTimeout", "ReadTimeout", "TimeoutException", "NetworkError",
                        "TransportError", "RemoteProtocolError", "ProxyError", "SSLError", "ConnectionError"}


def is_network_error(err: BaseException) -> bool:
    """Offline mode, refused or timed-out connections, DNS failures: "the Hub is not reachable"."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    if isinstance(err, (OfflineModeIsEnabled, ConnectionError, TimeoutError)):
        return True
    return any(cls.__name__ in _NETWORK_ERROR_NAMES for cls in type(err).__mro__)


def _describe(err: BaseException) -> str:
    from huggingface_hub.errors import OfflineModeIsEnabled

    if isinstance(err, OfflineModeIsEnabled):
        return "offline mode is on (HF_HUB_OFFLINE=1)"
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}" + (f": {text[:160]}" if text else "")


def push(out_dir: str | Path, repo_id: str, *, private: bool = False, revision: str | None = None,
         console: Any = None) -> str:
    """Upload the build to ``repo_id``; returns the repository URL. Raises ``HubError`` with one line."""
    if _offline():
        raise HubError(OFFLINE_MESSAGE)
    with tempfile.TemporaryDirectory(prefix="curator-push-") as tmp:
        plan = plan_push(out_dir, repo_id, private=private, revision=revision, plots_into=Path(tmp))
        done: list[str] = []
        try:
            return _upload(plan, Path(out_dir), done, console)
        except Exception as err:
            from huggingface_hub import constants
            from huggingface_hub.errors import HfHubHTTPError

            if is_network_error(err):
                stage = ("nothing was uploaded" if not done else
                         f"uploaded {len(done)} of {len(plan.uploads)} files before it failed; rerun to finish")
                raise HubError(f"cannot push to the Hugging Face Hub at {constants.ENDPOINT}: {_describe(err)}; "
                               f"{stage}. Check the network (and HF_HUB_OFFLINE), or add --dry-run to list what "
                               "would be uploaded.") from None
            if isinstance(err, HfHubHTTPError):
                status = getattr(getattr(err, "response", None), "status_code", None)
                hint = ("log in with `hf auth login` or set HF_TOKEN to a token with write access"
                        if status in (401, 403) else "see the Hub's message above")
                raise HubError(f"the Hub refused the push to {repo_id} (HTTP {status}): {_describe(err)}; {hint}.") from None
            raise


def _upload(plan: PushPlan, out_dir: Path, done: list[str], console: Any) -> str:
    import datasets
    from huggingface_hub import CommitOperationAdd, HfApi

    api = HfApi()  # token: HF_TOKEN or the saved login, resolved by huggingface_hub
    url = api.create_repo(plan.repo_id, repo_type="dataset", private=plan.private, exist_ok=True)
    if plan.revision:
        api.create_branch(plan.repo_id, repo_type="dataset", branch=plan.revision, exist_ok=True)
    pushed: set[tuple[str, str]] = set()
    for u in plan.uploads:
        if u.kind != "data" or (u.config, u.split) in pushed:
            continue
        assert u.config is not None and u.split is not None
        frame = _read(out_dir / u.local)
        shards = [x for x in plan.uploads if (x.config, x.split) == (u.config, u.split)]
        if console is not None:
            console.print(f"pushing {u.config}/{u.split} ({frame.height:,} rows) with datasets")
        datasets.Dataset.from_polars(frame).push_to_hub(
            plan.repo_id, config_name=u.config, split=u.split, private=plan.private, revision=plan.revision,
            num_shards=len(shards), commit_message=f"curator: {u.config}/{u.split}")
        pushed.add((u.config, u.split))
        done += [x.remote for x in shards]
    assert plan.plots_dir is not None
    ops = [CommitOperationAdd(path_in_repo=CARD_NAME, path_or_fileobj=plan.card_text.encode())]
    ops += [CommitOperationAdd(path_in_repo=u.remote, path_or_fileobj=str(plan.plots_dir / u.remote))
            for u in plan.uploads if u.kind == "plot" and u.remote.startswith(PLOTS_DIR + "/")]
    api.create_commit(plan.repo_id, repo_type="dataset", operations=ops, revision=plan.revision,
                      commit_message="curator: data card and plots")
    done += [op.path_in_repo for op in ops]
    return str(url)
