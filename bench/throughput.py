"""Throughput of mix_batch for every two-input method next to timm, torchvision and Kornia.

    python bench/throughput.py [--batch 64] [--size 224] [--repeats 15] [--device cpu]

Prints medians in ms and ratios; asserts nothing. Ours is timed twice: returning a fresh tensor
(like the peers) and writing into a reused `out=` buffer (the mode a training loop can use).
All calls mix images and build the soft targets of 1000 classes; every peer draws one λ per batch
except Kornia, which, like ours, draws per sample.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch


def timed(fn, repeats: int, device: torch.device) -> float:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(3):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def peers(x, y, classes):
    found = {}
    try:
        from timm.data import Mixup

        mixup = Mixup(mixup_alpha=1.0, cutmix_alpha=0.0, label_smoothing=0.0, num_classes=classes)
        cutmix = Mixup(mixup_alpha=0.0, cutmix_alpha=1.0, label_smoothing=0.0, num_classes=classes)
        found["timm Mixup"] = ("mixup", lambda: mixup(x, y))  # timm mixes x in place
        found["timm CutMix"] = ("cutmix", lambda: cutmix(x, y))
    except ImportError:
        pass
    try:
        from torchvision.transforms import v2

        tv_mixup, tv_cutmix = v2.MixUp(alpha=1.0, num_classes=classes), v2.CutMix(alpha=1.0, num_classes=classes)
        found["torchvision v2.MixUp"] = ("mixup", lambda: tv_mixup(x, y))
        found["torchvision v2.CutMix"] = ("cutmix", lambda: tv_cutmix(x, y))
    except ImportError:
        pass
    try:
        import kornia.augmentation as K

        k_mixup, k_cutmix = K.RandomMixUpV2(p=1.0, data_keys=["input", "class"]), K.RandomCutMixV2(
            p=1.0, data_keys=["input", "class"])
        found["Kornia RandomMixUpV2"] = ("mixup", lambda: k_mixup(x, y))
        found["Kornia RandomCutMixV2"] = ("cutmix", lambda: k_cutmix(x, y))
    except ImportError:
        pass
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default=None)
    parser.add_argument("--methods", nargs="*", default=None)
    args = parser.parse_args(argv)

    import mixviz

    torch.set_num_threads(args.threads)
    device = mixviz.pick_device(args.device)
    classes = 1000
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.rand(args.batch, 3, args.size, args.size, generator=gen, device=device)
    y = torch.randint(0, classes, (args.batch,), generator=gen, device=device)
    out = torch.empty_like(x)
    print(f"batch {args.batch}x3x{args.size}x{args.size}, {classes} classes, device {device}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}, median of {args.repeats}")

    rows = []
    for name, (kind, fn) in peers(x.clone(), y, classes).items():
        rows.append((name, kind, timed(fn, args.repeats, device), None))
    names = args.methods or [n for n, s in mixviz.METHODS.items() if s.n_inputs == 2 and s.needs == "none"]
    for name in names:
        fresh = timed(lambda: mixviz.mix_batch(name, x, y, num_classes=classes, generator=gen), args.repeats, device)
        reused = timed(lambda: mixviz.mix_batch(name, x, y, num_classes=classes, generator=gen, out=out),
                       args.repeats, device)
        rows.append((f"mixviz {name}", name, fresh, reused))

    best_peer = {}
    for _, kind, t, reused in rows:
        if reused is None:
            best_peer[kind] = min(t, best_peer.get(kind, float("inf")))
    ours = {kind: (t, r) for _, kind, t, r in rows if r is not None}
    print()
    print("| method | fresh output (ms) | `out=` buffer (ms) | fastest peer / ours (fresh, out=) | ours / our mixup (fresh, out=) |")
    print("|---|---:|---:|---:|---:|")
    for label, kind, t, r in rows:
        if r is None:
            print(f"| {label} | {t:.1f} | | | |")
            continue
        vs_peer = ""
        if kind in best_peer:
            vs_peer = f"{best_peer[kind] / t:.1f}x, {best_peer[kind] / r:.1f}x"
        vs_mixup = ""
        if "mixup" in ours:
            vs_mixup = f"{t / ours['mixup'][0]:.2f}, {r / ours['mixup'][1]:.2f}"
        print(f"| {label} | {t:.1f} | {r:.1f} | {vs_peer} | {vs_mixup} |")


if __name__ == "__main__":
    main()
