"""A recipe's output is the same content after an engine change: rows, columns, values, counts.

The digests in tests/data/recipe_digests.json were taken before the engine's seams were
reworked (RunOptions, the accounting module, the stage contract's hooks); the builds here must
match them value for value (timing and fingerprints left out). A change that is meant to
change what a recipe produces rewrites them: ``python -m tests.recipe_digest``.
"""

from __future__ import annotations

import json

import pytest

from tests.recipe_digest import DIGESTS, RECIPES, current_digests


@pytest.fixture(scope="module")
def digests(tmp_path_factory):
    return current_digests(tmp_path_factory.mktemp("recipes"))


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_output_is_unchanged(name, digests):
    stored = json.loads(DIGESTS.read_text())[name]
    now = digests[name]
    assert now["funnel"] == stored["funnel"], f"{name}: the funnel's counts changed"
    changed = sorted(f for f in stored["files"].keys() | now["files"].keys()
                     if stored["files"].get(f) != now["files"].get(f))
    assert not changed, (f"{name}: these files' content changed: {changed}. If that is intended, rewrite the "
                         "digests with `python -m tests.recipe_digest` and say why in the commit")
