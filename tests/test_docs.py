"""The documentation: the site builds with ``--strict``, every code reference in it exists, and
the README stays a front door whose tour runs."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
#: a path into the repository, as docs write it in backticks
PATH_REF = re.compile(r"`((?:curator|filters|pipelines|tests|benchmarks|data_cards|notebooks)/[\w./-]*\w)`")
#: a dotted name in the package, e.g. `curator.answers.grading` or `curator.core.stage.runtime`
NAME_REF = re.compile(r"`((?:curator|filters)(?:\.\w+)+)`")


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is in the test extra")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(tmp_path / "site")], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "site" / "writing-stages" / "index.html").is_file()


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_code_references_exist(page):
    text = page.read_text(encoding="utf-8")
    missing = [ref for ref in PATH_REF.findall(text) if not (ROOT / ref).exists()]
    assert not missing, f"{page.name} names files that do not exist: {missing}"
    unresolved = [ref for ref in NAME_REF.findall(text) if not _resolves(ref)]
    assert not unresolved, f"{page.name} names modules or objects that do not exist: {unresolved}"


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_readme_is_a_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) <= 10 * 1024, "keep the README short; reference material goes in docs/"
    ci = re.search(r"python3 -m venv .*", (ROOT / ".ci" / "run").read_text())[0]
    assert f"```bash\n{ci}\n```" in text, "the README's second command must be exactly what .ci/run runs"
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"


def test_the_tour_writes_a_filter_and_runs_it(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    tour = text[text.index("## A short tour"):]
    code = re.search(r"```python\n(.*?)```", tour, re.S)[1]
    assert "class MaxWords(Filter)" in code and ".run(" in code
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType("readme_tour")  # as if it were the reader's own file
    monkeypatch.setitem(sys.modules, "readme_tour", module)
    exec(compile(code, "README.md (tour)", "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - our README
    namespace = module.__dict__
    out = tmp_path / "out" / "short_problems"
    assert (out / "funnel.json").is_file() and (out / "README.md").is_file()
    dropped = [p.name for p in (out / "rejects").glob("*.parquet")]
    assert any("max_words" in name for name in dropped)
    assert namespace["table"].height > 0


def test_the_stage_example_in_writing_stages_runs(monkeypatch):
    import polars as pl

    text = (ROOT / "docs" / "writing-stages.md").read_text(encoding="utf-8")
    code = re.search(r"## A complete example\n.*?```python\n(.*?)```", text, re.S)[1]
    module = types.ModuleType("writing_stages_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, "docs/writing-stages.md", "exec", dont_inherit=True), module.__dict__)  # noqa: S102
    stage = module.Shout(label="shout")
    df = pl.DataFrame({"problem": ["2+2?"], "samples": [[{"text": "calm 4"}, {"text": "LOUD 4"}]]})
    out = stage.apply(df)
    assert out.kept["problem_chars"].to_list() == [4] and out.info == {"max_caps": 0.5}
    assert out.sample_rejects["reason"].to_list() == ["shouting"] and stage.params() == {"max_caps": 0.5}
