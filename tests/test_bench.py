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


def test_label_truth_table_runs_and_mixviz_labels_equal_the_pixels(capsys):
    spec = importlib.util.spec_from_file_location("label_truth", Path(__file__).resolve().parent.parent / "bench" /
                                                  "label_truth.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    import torch

    threads = torch.get_num_threads()
    try:
        results = bench.main(["--batches", "6"])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "| library | call |" in out and "kornia 0." in out and "timm 1." in out
    assert '| mixviz | `mix_batch("cutmix")` |' in out and "| Kornia | `RandomCutMixV2()` |" in out
    ours = {r["method"]: r for r in results if r["library"] == "mixviz"}
    assert set(ours) == {"mixup", "cutmix"}
    for r in ours.values():
        assert r["err"] < 1e-6 and r["per_sample"] and r["partner"] == "x[i−1]"
        assert r["votes"]["sample"] > 0 and r["votes"]["partner"] == 0
    assert ours["cutmix"]["clipped"] > 0 and ours["cutmix"]["clip_vs_pixels"] < 1e-6

    # The check can fail: a label that keeps the drawn λ after clipping is caught and named.
    eye = torch.eye(bench.BATCH, dtype=torch.float64)
    state = {}

    def seed(s):
        state["g"] = torch.Generator().manual_seed(s)
        state["lam"] = torch.rand(bench.BATCH, generator=torch.Generator().manual_seed(s), dtype=torch.float64)

    def uncorrected(x, y):
        lam = state["lam"]
        xm, _ = mixviz.mix_batch("cutmix", x, y, num_classes=bench.BATCH, generator=state["g"], lam=lam)
        return xm, lam[:, None] * eye[y] + (1 - lam[:, None]) * eye[y.roll(1)], lam

    wrong = bench.Entry("test", "uncorrected", "cutmix", "", uncorrected, seed)
    r = bench.measure(wrong, bench.Decoder(bench.colours()), 6, 0, 24, 32)
    assert r["err"] > 0.05 and r["clipped"] > 0 and r["clip_vs_lam"] < 1e-6
    assert bench._after_clip({"method": "cutmix", **r}) == "the drawn λ"


def test_live_benchmark_runs(capsys):
    """bench/live.py --quick: the server's sweep table and, with a browser, the drag and release tables and
    bench/floor.py's."""
    import os

    from serve import chromium

    spec = importlib.util.spec_from_file_location("live_bench", Path(__file__).resolve().parent.parent / "bench" /
                                                  "live.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    try:
        browser = not os.environ.get("MIXVIZ_SKIP_BROWSER") and bool(chromium())
    except RuntimeError:  # no Chromium here: the server side still runs
        browser = False
    results = bench.main(["--quick"] + ([] if browser else ["--no-browser"]))
    out = capsys.readouterr().out
    assert "Machine: " in out and "| mixup | lam | 51 | " in out and [r["method"] for r in results["server"]] == ["mixup"]
    if browser:
        assert "event → painted p50 / p95" in out and "| mixup | mouse up after a drag | 1 | " in out
        assert "| mixup | key step, λ released before | " in out
        row = results["browser"]["methods"][0]
        assert row["events"] > 10 and all(r["run"] for r in row["drag"] + row["keys"])
        assert not results["browser"]["page_errors"] and not results["browser"]["tracebacks"]
        releases = row["drag"] + row["keys"]  # the split adds up; each release's run costs CPU (ticks of 10 ms)
        assert all(abs(r["script_s"] + r["rest_s"] - r["cpu_s"]) < 1e-9 and r["rest_s"] >= 0 for r in releases)
        assert sum(r["script_s"] for r in releases) > 0
        floor = results["browser"]["floor"]  # bench/floor.py's bare page: one message more per line under its slider
        assert "Streamlit's own cost of a fragment rerun" in out and [r["elements"] for r in floor] == [0, 16, 32]
        assert [r["messages"] - floor[0]["messages"] for r in floor] == [0, 16, 32] and all(r["cpu_ms"] > 0 for r in floor)
