"""The benchmark still runs (tiny sizes, in-process): it must not rot between releases."""
import argparse
import importlib.util
from pathlib import Path

import mixviz

spec = importlib.util.spec_from_file_location("throughput", Path(__file__).resolve().parent.parent / "bench" / "throughput.py")
throughput = importlib.util.module_from_spec(spec)
spec.loader.exec_module(throughput)


def test_measure_ours_and_every_peer():
    args = argparse.Namespace(batch=4, size=32, repeats=1, threads=1, device="cpu")
    ours = throughput.measure("cutmix", args)
    assert ours["fresh"] > 0 and ours["out"] > 0
    import torch

    names = throughput.peers(torch.rand(2, 3, 8, 8), torch.zeros(2, dtype=torch.long), 10)
    assert {"timm Mixup", "torchvision v2.CutMix", "Kornia RandomCutMixV2"} <= set(names)
    for name in names:
        assert throughput.measure(f"peer:{name}", args)["fresh"] > 0


def test_maps_benchmark_runs(capsys):
    spec = importlib.util.spec_from_file_location("maps", Path(__file__).resolve().parent.parent / "bench" / "maps.py")
    maps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maps)
    maps.main(["--repeats", "1", "--threads", "1"])
    out = capsys.readouterr().out
    assert "CAM / forward" in out and "| snapmix |" in out


def test_app_speed_benchmark_runs(capsys):
    spec = importlib.util.spec_from_file_location("app_speed", Path(__file__).resolve().parent.parent / "bench" /
                                                  "app_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    key, values = bench.slider_of("gridmask")  # no λ: its first numeric parameter moves, within its range
    spec = mixviz.METHODS["gridmask"].param("d_min")
    assert key == "lab_gridmask_d_min" and all(spec.min <= v <= spec.max for v in values) and len(set(values)) > 5
    bench.main(["--repeats", "1", "--threads", "1", "--methods", "mixup", "saliencymix"])
    out = capsys.readouterr().out
    assert "| mixup |" in out and "| saliencymix |" in out and "First picture from a cold start" in out

