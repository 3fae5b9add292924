"""One stage contract for every stage in curator/ and filters/: how a stage is named, declares
its columns, reports, says what it is for, and keeps its runtime state out of its fingerprint."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, fields
from types import ModuleType
from typing import Any, ClassVar

import polars as pl
import pytest

import curator
import filters
from curator import Pipeline, SampleFilter, Stage, StageOutput
from curator.core.fingerprint import module_source_hash, stage_code_hash, stage_fingerprint
from curator.core.run_options import RunOptions
from curator.core.stage import Filter, FunctionFilter, FunctionMap, Map, SampleMap, runtime

BASES = (Stage, Filter, Map, SampleMap, SampleFilter, FunctionFilter, FunctionMap)


def _all_stage_classes() -> list[type[Stage]]:
    found: dict[str, type[Stage]] = {}
    for pkg in (curator, filters):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if info.name.startswith("curator.data"):
                continue
            try:
                module = importlib.import_module(info.name)
            except ImportError:  # an optional extra (vllm, ray) is not installed
                continue
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, Stage) and obj not in BASES and obj.__module__ == module.__name__:
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


STAGES = _all_stage_classes()


def test_the_scan_finds_the_stages():
    names = {c.__name__ for c in STAGES}
    assert {"Generate", "Verify", "Dedup", "Decontaminate", "LanguageConsistency", "Rewards", "Curriculum"} <= names
    assert len(STAGES) >= 20


@pytest.mark.parametrize("cls", STAGES, ids=lambda c: c.__name__)
def test_every_stage_takes_label_as_a_keyword_and_nothing_else_declares_it(cls):
    label = next(f for f in fields(cls) if f.name == "label")
    assert label.kw_only and label.default is None
    own = cls.__dict__.get("__annotations__", {})
    assert "label" not in own, f"{cls.__name__} redeclares label; the base class has it"
    assert "label" not in cls(**{}).params() if _constructible(cls) else True


@pytest.mark.parametrize("cls", STAGES, ids=lambda c: c.__name__)
def test_columns_are_declared_one_way(cls):
    for name in ("needs_", "adds_"):
        assert not isinstance(inspect.getattr_static(cls, name, None), property), (
            f"{cls.__name__}.{name}: override columns_needed()/columns_added() instead")
    assert isinstance(cls.needs, tuple) and isinstance(cls.adds, tuple)


@pytest.mark.parametrize("cls", [c for c in STAGES if issubclass(c, (Filter, Map, SampleMap, SampleFilter))],
                         ids=lambda c: c.__name__)
def test_row_stages_use_the_hooks_instead_of_overriding_apply(cls):
    base = next(b for b in (SampleFilter, SampleMap, Filter, Map) if issubclass(cls, b))
    assert cls.apply is base.apply, f"{cls.__name__} overrides apply(); use prepare() / report() / its method"


@pytest.mark.parametrize("cls", STAGES, ids=lambda c: c.__name__)
def test_code_modules_are_modules_not_names(cls):
    declared = inspect.getattr_static(cls, "code_modules")
    if isinstance(declared, property):
        return  # parameter-dependent (ProblemQuality): checked on an instance below
    assert all(isinstance(m, ModuleType) or callable(m) for m in declared), (cls.__name__, declared)


def test_parameter_dependent_code_modules_are_modules():
    from filters.quality import ProblemQuality

    assert all(isinstance(m, ModuleType) for m in ProblemQuality().code_modules)


def test_the_card_recognises_stages_by_their_declared_role():
    from curator.answers.judge import Judge
    from curator.answers.verify import Verify
    from curator.generation import Generate
    from curator.selection.consensus import Consensus
    from curator.selection.probe import Probe
    from filters.decontaminate import Decontaminate
    from filters.dedup import Dedup
    from filters.language import LanguageConsistency

    roles = {Generate: "teacher", Probe: "probe", Consensus: "reference", Judge: "judge", Dedup: "dedup",
             Decontaminate: "decontamination", LanguageConsistency: "language", Verify: ""}
    assert {c: c.role for c in roles} == roles


def _constructible(cls: type) -> bool:
    try:
        cls()
    except Exception:
        return False
    return True


# -- the contract at work, on a stage written the way the docs show -------------------------------

@dataclass
class Shout(SampleFilter):
    """Drops samples written in capitals; marks each problem's length first; reports its threshold."""

    max_caps: float = 0.5
    calls: int = runtime(0)  # state: how often it ran; never part of the fingerprint

    needs: ClassVar[tuple[str, ...]] = ("problem", "samples")
    adds: ClassVar[tuple[str, ...]] = ("problem_chars", "samples.caps")
    role: ClassVar[str] = "quality"

    def prepare(self, df: pl.DataFrame) -> pl.DataFrame:
        self.calls += 1
        return df.with_columns(pl.col("problem").str.len_chars().alias("problem_chars"))

    def sample_columns(self, samples: pl.DataFrame) -> dict[str, pl.Series]:
        text = samples["text"].fill_null("")
        caps = text.str.count_matches(r"[A-Z]") / text.str.len_chars().clip(1)
        return {"caps": caps}

    def sample_reasons(self, samples: pl.DataFrame) -> pl.Series:
        caps = self.sample_columns(samples)["caps"]
        return pl.Series([("shouting" if c > self.max_caps else None) for c in caps], dtype=pl.String)

    def report(self, out: StageOutput) -> dict[str, Any]:
        return {"max_caps": self.max_caps}


def _table() -> pl.DataFrame:
    samples = [[{"text": "calm answer 4"}, {"text": "LOUD ANSWER 4"}], [{"text": "ok 5"}]]
    return pl.DataFrame({"problem": ["2+2?", "2+3?"], "answer": ["4", "5"], "samples": samples})


def test_hooks_add_columns_and_info_and_runtime_state_stays_out_of_the_fingerprint(tmp_path):
    stage = Shout(label="shout")
    out = stage.apply(_table())
    assert out.kept["problem_chars"].to_list() == [4, 4]
    assert [len(s) for s in out.kept["samples"].to_list()] == [1, 1]
    assert out.sample_rejects["reason"].to_list() == ["shouting"]
    assert out.info == {"max_caps": 0.5}
    assert stage.params() == {"max_caps": 0.5}  # no label, no runtime state
    before = stage_fingerprint(stage, "up")
    stage.calls = 99
    assert stage_fingerprint(stage, "up") == before
    assert stage_fingerprint(Shout(max_caps=0.6), "up") != before
    df = Pipeline("contract", _table(), [stage]).run(tmp_path / "out", quiet=True)
    assert df.height == 2 and stage.name == "shout"


def test_labels_tell_two_stages_of_one_class_apart(tmp_path):
    twice = [Shout(label="shout_a"), Shout(label="shout_b", max_caps=0.9)]
    Pipeline("two", _table(), twice).run(tmp_path / "out", quiet=True)
    with pytest.raises(ValueError, match="give one a label"):
        Pipeline("same", _table(), [Shout(), Shout()]).plan()


def test_a_source_edit_changes_the_code_hash_without_a_reload(tmp_path, monkeypatch):
    mod = tmp_path / "edited_stage_mod.py"
    mod.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("edited_stage_mod")
    first = module_source_hash(module)
    mod.write_text("X = 2  # edited in a notebook\n")
    assert module_source_hash(module) != first
    assert stage_code_hash(Shout()) == stage_code_hash(Shout(max_caps=0.1))  # parameters are not code


def test_run_options_travel_as_one_value(tmp_path):
    opts = RunOptions(out_dir=tmp_path / "a", quiet=True, seed=3)
    df = Pipeline("opts", _table(), [Shout()]).run(options=opts)
    assert df.height == 2 and (tmp_path / "a" / "funnel.json").is_file()
    with pytest.raises(TypeError, match="unexpected keyword argument 'qiet'"):
        Pipeline("opts", _table(), [Shout()]).run(tmp_path / "b", qiet=True)
