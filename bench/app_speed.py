"""Speed of the app as a user feels it, measured with streamlit's AppTest.

    python bench/app_speed.py [--repeats 9] [--threads 2]

Prints, in ms, the median time of a Mixing Lab rerun after the λ slider (or, for a method without
λ, its first numeric parameter) moves, for model-free
methods and for guided ones once their maps are cached, and the time to the first picture from a
cold start (a new process: imports, the model, the first page). Every rerun starts from app.py, so
the shared sidebar is included. Targets of the app: reruns within 100 ms, first picture within 10 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
MODEL_FREE = ("mixup", "cutmix", "fmix", "gridmask", "random_pixels", "ricap")
GUIDED = ("saliencymix", "attentivemix", "snapmix", "tdattenmix", "puzzlemix")
COLD = """
import time
start = time.perf_counter()
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({app!r}, default_timeout=300).run()
assert not at.exception and at.main.image, "no picture"
print(time.perf_counter() - start)
"""


def slider_of(method: str):
    """The slider a user moves: λ, or the first numeric parameter of a method without λ, and its values."""
    import mixviz

    spec = mixviz.METHODS[method]
    if spec.uses_lam:
        return "lab_lam", [round(0.3 + 0.03 * i, 2) for i in range(10)]
    p = next(p for p in spec.params if p.kind in ("int", "float"))
    steps = [p.min + (p.max - p.min) * i / 9 for i in range(10)]
    return f"lab_{method}_{p.name}", [int(v) if p.kind == "int" else round(v / p.step) * p.step for v in steps]


def rerun_times(at, method: str, family: str, repeats: int) -> list[float]:
    at.selectbox(key="lab_family").select(family).run()
    at.selectbox(key="lab_method").select(method).run()  # computes and caches the maps of a guided method
    key, values = slider_of(method)
    times = []
    for i in range(repeats + 1):
        at.slider(key=key).set_value(values[i % len(values)])
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, [e.value for e in at.exception]
    return times[1:]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--methods", nargs="*", help="only these methods (default: a model-free set and every guided one)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from streamlit.testing.v1 import AppTest

    import mixviz

    torch.set_num_threads(args.threads)
    cold = float(subprocess.run([sys.executable, "-c", COLD.format(app=APP)], cwd=ROOT, capture_output=True, text=True,
                                check=True).stdout.split()[-1])
    at = AppTest.from_file(APP, default_timeout=300).run()
    model = mixviz.load_model()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CAM model {model.title}")
    print()
    print("| Mixing Lab, slider moved | median rerun (ms) | slowest (ms) |")
    print("|---|---:|---:|")
    for method in args.methods or MODEL_FREE + GUIDED:
        times = rerun_times(at, method, mixviz.METHODS[method].family, args.repeats)
        print(f"| {method} | {statistics.median(times) * 1e3:.0f} | {max(times) * 1e3:.0f} |")
    print()
    print(f"First picture from a cold start (new process, AppTest): {cold:.1f} s")


if __name__ == "__main__":
    main()
