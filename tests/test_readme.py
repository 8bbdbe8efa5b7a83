"""The README's library example runs as written and says what it shows."""
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_readme_library_examples_run(monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    scope: dict = {}
    for code in blocks:
        exec(compile(code, "README.md", "exec"), scope)
    assert scope["p"].output.tolist() == [[10, 10], [6, 3]] and scope["c"].low.dim() == 2
    r = scope["r"]
    assert r.label["cat"] == pytest.approx(float(r.weights[0])) and 0.58 <= r.label["cat"] < 0.59
    assert scope["xm"] is scope["buf"] and scope["ym"].shape == (64, 1000)


def test_readme_gives_the_two_commands_and_ci_runs_the_second():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash run.sh app" in text and "bash run.sh test" in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash run.sh test" in ci and os.access(ROOT / ".ci" / "run", os.X_OK)


def test_the_method_table_lists_every_registered_method_with_its_inputs():
    """The README's method table against METHODS: every name once, no name that is not registered, and
    the number of inputs each takes."""
    import mixviz

    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Methods", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `")]
    listed = {}
    for name_cell, _title, inputs, _paper in rows:
        for name in re.findall(r"`([a-z0-9_]+)`", name_cell):
            assert name not in listed, f"{name} is listed twice"
            listed[name] = int(inputs)
    assert set(listed) == set(mixviz.METHODS), (set(listed) ^ set(mixviz.METHODS))
    assert {n: mixviz.METHODS[n].n_inputs for n in listed} == listed
