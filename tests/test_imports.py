"""What `import mixviz` costs and changes (issue 10): a training loop that mixes batches loads none of the
optional heavy packages, and drawing a figure never touches matplotlib's global state (its backend, pyplot),
so a notebook keeps its inline figures. Each check runs in a fresh interpreter: this one has imported
everything already."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("cv2", "gco", "timm", "h5py", "plotly", "matplotlib")


def run_python(code: str, **env: str) -> dict:
    """Run `code` in a new interpreter at the repository root; it prints one JSON object last."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1", **env})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_mixing_a_batch_loads_no_optional_heavy_package():
    seen = run_python(f"""
        import json, sys
        import torch
        import mixviz

        x, y = torch.rand(4, 3, 32, 32), torch.arange(4)
        xm, ym = mixviz.mix_batch("mixup", x, y, num_classes=10)
        r = mixviz.mix("cutmix", torch.rand(2, 3, 32, 32), seed=0)
        assert xm.shape == x.shape and ym.shape == (4, 10) and r.image.shape == (3, 32, 32)
        after_mix = [m for m in {HEAVY!r} if m in sys.modules]
        public = [n for n in ("mix", "mix_batch", "METHODS", "load_image", "load_model", "cam", "saliency",
                              "pooling", "MixError", "ImageError") if not hasattr(mixviz, n)]
        # the modules that draw are importable without what they draw with, too
        import mixviz.maps.cam, mixviz.maps.network, mixviz.theory
        import mixviz.viz.animation, mixviz.viz.charts, mixviz.viz.cli, mixviz.viz.map_figures, mixviz.viz.slides
        import mixviz.viz.theory
        after_figure_modules = [m for m in {HEAVY!r} if m in sys.modules]
        print(json.dumps(dict(after_mix=after_mix, public_missing=public, after_figure_modules=after_figure_modules)))
        """)
    assert seen["public_missing"] == []
    assert seen["after_mix"] == [], f"import mixviz + mix_batch('mixup') + mix('cutmix') loaded {seen['after_mix']}"
    assert seen["after_figure_modules"] == [], f"importing the figure modules loaded {seen['after_figure_modules']}"


def test_drawing_figures_leaves_matplotlib_backend_and_pyplot_alone(tmp_path):
    """A notebook's backend is, say, inline; here "svg" stands for any backend that is not Agg."""
    seen = run_python(f"""
        import json, sys
        import matplotlib
        import torch

        before = matplotlib.get_backend()
        import mixviz
        import mixviz.viz.charts, mixviz.viz.map_figures, mixviz.viz.slides, mixviz.viz.theory, mixviz.theory
        after_import = matplotlib.get_backend()

        from matplotlib.figure import Figure
        from mixviz.viz.slides import gallery_figure, method_figure
        x = torch.rand(2, 3, 40, 48)
        r = mixviz.mix("cutmix", x, seed=0)
        one = method_figure(r, x, ["a", "b"])
        many = gallery_figure(x, ["a", "b"], methods=["mixup", "cutmix", "cutout"], columns=2)
        one.savefig({str(tmp_path / "one.png")!r})
        many.savefig({str(tmp_path / "many.pdf")!r})
        mixviz.viz.charts.label_chart(r.label)
        mixviz.viz.theory.beta_figure(1.0)
        print(json.dumps(dict(before=before, after_import=after_import, after_drawing=matplotlib.get_backend(),
                              figures=all(isinstance(f, Figure) for f in (one, many)),
                              pyplot="matplotlib.pyplot" in sys.modules)))
        """, MPLBACKEND="svg")
    assert seen["before"] == "svg"
    assert seen["after_import"] == "svg", "importing mixviz's figure modules switched matplotlib's backend"
    assert seen["after_drawing"] == "svg", "drawing a figure switched matplotlib's backend"
    assert seen["figures"], "figures should be matplotlib.figure.Figure objects"
    assert not seen["pyplot"], "library code should not import matplotlib.pyplot (it holds global figure state)"
    assert (tmp_path / "one.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "many.pdf").read_bytes()[:4] == b"%PDF"
