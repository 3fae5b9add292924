"""The exploration notebook executes headless, end to end, against a fresh sample build."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore.ipynb"


@pytest.mark.slow
def test_explore_notebook_runs_headless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel is this interpreter's own ipykernel: jupyter_client maps the "python3" spec's
    # `python` to sys.executable, so the name resolves in any fresh virtualenv with ipykernel
    monkeypatch.setenv("CURATOR_EXPLORE_OUT", str(tmp_path / "cold_start"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent), prepend=":")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert (tmp_path / "cold_start" / "README.md").is_file()
    assert re.search(r"kept \d+ of \d+ problems", outputs), outputs
    assert "plots:" in outputs
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the difficulty-vs-length plot was not drawn"
