"""A card built from hostile model text renders, the CommonMark way the Hub does, with exactly the
template's headings and sections; its Reproduce section publishes no local path or endpoint."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from curator import Pipeline, TableOutput
from curator.core.stage import map_stage
from curator.publish import card_markdown as md
from curator.publish.card import render_card

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "data_cards" / "template.md.j2"

HOSTILE = """```
# Injected heading
## Another one
<img src=x onerror=alert(1)>
<script>alert("x")</script>
[click](http://evil.example/steal) ![pic](http://evil.example/p.png)
````` ~~~ `` ` `
| a | b |
|---|---|
$x^2$ &amp; &#60;b&#62; **bold** _it_
<!-- the rest of the card would be a comment
"""


def renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def headings(html: str) -> list[str]:
    return re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", html, flags=re.S)


def template_headings() -> set[str]:
    """Headings the template writes itself (``## Funnel`` ...); the title is the pretty name."""
    return {m.group(1).strip() for m in re.finditer(r"^#{1,6} (.+)$", TEMPLATE.read_text(), flags=re.M)}


def keep(df: pl.DataFrame) -> pl.DataFrame:
    return df


def build_dir(tmp_path: Path, text: str, name: str) -> Path:
    sample = {"text": text, "reasoning": text, "final": text, "extracted": text, "correct": True,
              "finish_reason": "stop", "prompt_tokens": 3, "completion_tokens": 30, "model": f"m{text[:40]}",
              "seed": 0, "status": "ok", "error": None}
    df = pl.DataFrame({"problem": [text, "What is 1 + 1?"], "answer": [text, "2"], "source": [text[:30], "s"],
                       "domain": ["math", "math"], "language": ["en", "en"],
                       "samples": [[sample], [sample]]})
    out = tmp_path / name
    Pipeline("hostile", df, [map_stage(keep, name="keep")], outputs=[TableOutput()]).run(out, quiet=True)
    return out


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    tmp = tmp_path_factory.mktemp("cards")
    plain = render_card(build_dir(tmp, "A plain chain of thought about 1 + 1.", "plain")).text
    hostile = render_card(build_dir(tmp, HOSTILE, "hostile")).text
    return plain, hostile


def test_hostile_text_adds_no_heading_and_hides_no_section(cards: tuple[str, str]) -> None:
    plain, hostile = cards
    body = lambda text: text.split("---", 2)[2]  # noqa: E731 - the markdown after the YAML front matter
    html_plain, html_hostile = renderer().render(body(plain)), renderer().render(body(hostile))
    allowed = template_headings()
    assert headings(html_hostile)[1:] == headings(html_plain)[1:]
    assert all(h in allowed for h in headings(html_hostile)[1:]), headings(html_hostile)
    assert "Injected heading" not in " ".join(headings(html_hostile))
    assert "License" in headings(html_hostile) and "Reproduce" in headings(html_hostile)
    for live in ("<script", "<img src=x", "<!--", 'href="http://evil', 'src="http://evil'):
        assert live not in html_hostile, live
    assert "&lt;script&gt;" in html_hostile  # shown as text, escaped


def test_reproduce_publishes_no_local_path_or_endpoint(tmp_path: Path) -> None:
    from curator.publish.reproduce import reproduce

    out = tmp_path / "out" / "cs"
    run = {"command": f"curator build {ROOT}/pipelines/cold_start.py --param input=/home/alice/data/x.jsonl "
                      "--param endpoints=http://10.0.0.5:8000/v1 --param api_key=sk-123 --out /scratch/alice/out "
                      "--work-dir s3://bucket/run --seed 3",
           "versions": {"reasoning-curator": "0.1.0"}}
    params = {"backend": "openai", "model": "deepseek-ai/DeepSeek-R1", "endpoints": "http://10.0.0.5:8000/v1",
              "input": "/home/alice/data/x.jsonl", "temperature": 1.0, "k": 4}
    again = reproduce(run, params, out)
    text = " ".join([again.install, again.get_recipe or "", again.command, *again.notes, str(again.params)])
    for private in ("10.0.0.5", "/home/alice", "/scratch", "s3://bucket", "sk-123", str(ROOT)):
        assert private not in text, private
    assert again.get_recipe == "curator recipe cold_start" and "build cold_start.py" in again.command
    assert "deepseek-ai/DeepSeek-R1" in again.command and "--seed 3" in again.command
    assert again.params["temperature"] == 1.0 and again.params["k"] == 4  # plain values, not '1.0'
    shown = reproduce(run, params, out, show_endpoints=True)
    assert "http://10.0.0.5:8000/v1" in shown.command


def test_card_parameters_are_a_plain_mapping_and_links_resolve(cards: tuple[str, str]) -> None:
    _, hostile = cards
    assert "type: Params" not in hostile and "fields:" not in hostile
    assert "RECIPES.md" not in hostile
    html = renderer().render(hostile.split("---", 2)[2])
    links = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert links and all(x.startswith(("https://github.com/", "plots/")) for x in links), links


def test_hub_card_lists_the_files_a_push_uploads(tmp_path: Path) -> None:
    from curator.publish.hub import plan_push

    out = build_dir(tmp_path, "A plain chain.", "b")
    plan = plan_push(out, "org/name", plots_into=tmp_path / "plots")
    listed = re.findall(r"\| `([^`]+\.parquet)` \|", plan.card_text)
    uploads = [u.remote for u in plan.uploads if u.kind == "data"]
    assert uploads and listed
    assert all(any(fnmatch.fnmatch(u, pattern) for pattern in listed) for u in uploads), (listed, uploads)


def test_pyproject_names_the_repository_the_card_links_to() -> None:
    from curator.publish.links import REPOSITORY_URL

    assert f'Repository = "{REPOSITORY_URL}"' in (ROOT / "pyproject.toml").read_text()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("`~#<>!-*_[]()|$&\\ \nab")), max_size=60))
def test_a_fence_holds_any_text(text: str) -> None:
    tokens = renderer().parse(md.fence(text) + "\n\nafter\n")
    blocks = [t for t in tokens if t.type == "fence"]
    assert len(blocks) == 1
    want = text.replace("\r\n", "\n").replace("\r", "\n")
    assert blocks[0].content == (want if want.endswith("\n") or not want else want + "\n")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("`~#<>!-*_[]()|$&\\:/w. \nab")), max_size=60))
def test_inline_text_renders_as_its_own_characters(text: str) -> None:
    html = renderer().renderInline(md.text(text))
    assert "<" not in html.replace("&lt;", "")  # no tag of any kind
    folded = re.sub(r"[\r\n\t]+", " ", text)
    unescaped = html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    assert unescaped == folded.strip() or unescaped == folded
