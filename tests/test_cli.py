"""`python -m mixviz render`: one method, the gallery, and clear errors."""
import subprocess
import sys

import numpy as np
from PIL import Image

from mixviz.viz.cli import main


def test_render_one_method_writes_a_figure(tmp_path):
    out = tmp_path / "cutmix.png"
    assert main(["render", "cutmix", "cat", "dog", "-o", str(out), "--seed", "2", "--lam", "0.6", "--dpi", "60"]) == 0
    img = np.asarray(Image.open(out))
    assert img.shape[0] > 200 and img.shape[1] > 300 and img.std() > 10


def test_render_with_params_and_a_file(tmp_path):
    src = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8)).save(src)
    out = tmp_path / "g.png"
    assert main(["render", "gridmask", str(src), "-o", str(out), "--param", "rotate=0", "--param", "mode=0",
                 "--dpi", "50"]) == 0
    assert out.stat().st_size > 1000


def test_render_all_gallery(tmp_path):
    out = tmp_path / "all.png"
    assert main(["render", "--all", "cat", "dog", "-o", str(out), "--dpi", "40", "--max-side", "96"]) == 0
    assert Image.open(out).size[0] > 300


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["render", "cutmix", "cat", "-o", str(tmp_path / "x.png")]) == 2
    assert "mixes 2 images" in capsys.readouterr().err
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a picture")
    assert main(["render", "cutout", str(bad), "-o", str(tmp_path / "y.png")]) == 2
    assert "not an image" in capsys.readouterr().err
    assert main(["render", "nope", "cat", "dog", "-o", str(tmp_path / "z.png")]) == 2


def test_module_entry_point_lists_methods():
    done = subprocess.run([sys.executable, "-m", "mixviz", "methods"], capture_output=True, text=True, check=True)
    assert "cutmix" in done.stdout and "ricap" in done.stdout


def test_formula_lines_split_every_formula_into_balanced_clauses():
    import mixviz
    from mixviz.viz.slides import formula_lines

    for spec in mixviz.METHODS.values():
        lines = formula_lines(spec.formula)
        assert lines.startswith(r"\begin{gathered}") and lines.endswith(r"\end{gathered}")
        body = lines[len(r"\begin{gathered}"):-len(r"\end{gathered}")]
        for clause in body.split(r" \\ "):
            assert clause and clause.count("{") == clause.count("}"), (spec.name, clause)
            assert clause.count(r"\Big(") == clause.count(r"\Big)"), (spec.name, clause)
        assert r"\quad" not in lines
