"""Speed of the maps and of a guided re-roll, on the models the app uses.

    python bench/maps.py [--repeats 7] [--threads 2]

Prints medians in ms; asserts nothing. Targets of the app: a new image's CAM within 1.3x of one
forward pass; a guided re-roll on cached maps within 100 ms at 299 px; Puzzle Mix on a new pair,
its gradient saliency included, within 1 s. Xception is timed with random weights (its speed does
not depend on them) when its real weights are not on this machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import timm
import torch


def timed(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)

    import mixviz
    from mixviz.maps import models as M
    from mixviz.maps.cam import cam
    from mixviz.imaging import fit_within, load_image, to_batch
    from mixviz.maps.guide_maps import puzzle_saliency
    from mixviz.samples import samples
    from mixviz.maps.saliency import static_saliency

    lite0 = M.load_model("efficientnet_lite0", device="cpu")
    xception = M.Model("xception", "Xception (random weights)", timm.create_model("legacy_xception").eval(),
                       M.RECIPES["xception"], M.imagenet_classes(), "random")
    photo = fit_within(load_image(samples()["dog"].path), 512)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, photo {photo.size[0]}x{photo.size[1]}")
    print()
    print("| model | forward (ms) | CAM of a new image (ms) | CAM / forward |")
    print("|---|---:|---:|---:|")
    for model in (xception, lite0):
        x = model.preprocess(photo)

        def forward():
            with torch.inference_mode():
                model.net(x)

        f = timed(forward, args.repeats)
        c = timed(lambda: cam(model, photo), args.repeats)
        print(f"| {model.title} | {f:.0f} | {c:.0f} | {c / f:.2f} |")

    inputs = to_batch([load_image(samples()[n].path) for n in ("cat", "dog")], size=(299, 299))
    cached = {
        "saliencymix": torch.stack([static_saliency(img) for img in inputs]),
        "attentivemix": torch.stack([torch.rand(299, 299) for _ in inputs]),
        "snapmix": torch.stack([torch.rand(299, 299) for _ in inputs]),
        "tdattenmix": torch.stack([torch.rand(299, 299) for _ in inputs]),
        "puzzlemix": puzzle_saliency(inputs, lite0),
    }
    print()
    print("| guided method, 299 px, maps cached | re-roll (ms) |")
    print("|---|---:|")
    for name, maps in cached.items():
        for params in ({"blocks": g} for g in (2, 4, 8, 16)) if name == "puzzlemix" else ({},):
            seeds = iter(range(10**6))
            ms = timed(lambda: mixviz.mix(name, inputs, seed=next(seeds), maps=maps, device="cpu", **params),
                       args.repeats)
            print(f"| {' '.join([name] + [f'{k}={v}' for k, v in params.items()])} | {ms:.1f} |")

    print()
    print("| Puzzle Mix on a new pair, 299 px, blocks=16 | saliency + mix (ms) |")
    print("|---|---:|")
    for model in (xception, lite0):
        seeds = iter(range(10**6))
        ms = timed(lambda: mixviz.mix("puzzlemix", inputs, seed=next(seeds), maps=puzzle_saliency(inputs, model),
                                      blocks=16, device="cpu"), args.repeats)
        print(f"| {model.title} | {ms:.0f} |")


if __name__ == "__main__":
    main()
