"""Every example notebook runs top to bottom in quick mode (``make test-notebooks``; CI runs it).

Each notebook is executed with nbclient in a fresh kernel, with its example folder as the working
directory, ``DOMAINFT_QUICK=1`` and its output directory under pytest's temporary folder.
"""

from __future__ import annotations

import os

import pytest

from tests.examples import EXAMPLES

NOTEBOOKS = sorted(EXAMPLES.glob("*/*.ipynb"))


def test_every_domain_recipe_has_a_notebook():
    folders = {p.parent.name for p in EXAMPLES.glob("*/run.py")}
    assert folders and folders <= {p.parent.name for p in NOTEBOOKS}


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    output = tmp_path / "out"
    monkeypatch.setenv("DOMAINFT_QUICK", "1")
    monkeypatch.setenv("DOMAINFT_EXAMPLE_OUTPUT", str(output))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        f"{path.name}: commit notebooks with their outputs cleared"
    )
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute(env=dict(os.environ))
    errors = [
        out
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    reports = list(output.rglob("metrics.json"))
    assert reports, "the notebook must write its evaluation report(s) under DOMAINFT_EXAMPLE_OUTPUT"
