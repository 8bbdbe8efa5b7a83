"""Throughput of mix_batch for every two-input method next to timm, torchvision and Kornia.

    python bench/throughput.py [--batch 64] [--size 224] [--repeats 15] [--device cpu]

Prints medians in ms and ratios; asserts nothing. Ours is timed twice: returning a fresh tensor
(like the peers) and writing into a reused `out=` buffer (the mode a training loop can use).
Each row runs in its own process, so that no library inherits another's allocator state
(glibc's malloc otherwise starts serving 38 MB blocks without page faults part-way through a run).
All calls mix images and build the soft targets of 1000 classes; every peer draws one λ per batch
except Kornia, which, like ours, draws per sample.

`mixviz.Mixer` rows: two methods drawn per sample ({"mixup": .5, "cutmix": .5}, against timm's `Mixup`
with `switch_prob=0.5` and torchvision's `v2.RandomChoice([MixUp, CutMix])`, which pick one per batch),
CutMix through the Mixer on the float batch (its cost over `mix_batch`), and CutMix on the batch as uint8
(against timm and torchvision CutMix on the same uint8 batch); `out=` there means `reuse_buffer=True`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings

import torch

CLASSES = 1000
# mixviz.Mixer rows: key -> (row name, kind (the peers it is compared with), methods, input dtype)
MIXERS = {
    "two": ('Mixer({"mixup": .5, "cutmix": .5})', "mixup+cutmix", {"mixup": 0.5, "cutmix": 0.5}, "float"),
    "cutmix": ('Mixer("cutmix")', "cutmix", "cutmix", "float"),
    "cutmix-uint8": ('Mixer("cutmix"), uint8', "cutmix uint8", "cutmix", "uint8"),
}


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


def peers(x, y, classes, x8=None):
    """name -> (kind, call); with `x8` (the batch as uint8) also the peers' CutMix on uint8."""
    found = {}
    try:
        from timm.data import Mixup

        mixup = Mixup(mixup_alpha=1.0, cutmix_alpha=0.0, label_smoothing=0.0, num_classes=classes)
        cutmix = Mixup(mixup_alpha=0.0, cutmix_alpha=1.0, label_smoothing=0.0, num_classes=classes)
        either = Mixup(mixup_alpha=1.0, cutmix_alpha=1.0, switch_prob=0.5, label_smoothing=0.0, num_classes=classes)
        found["timm Mixup"] = ("mixup", lambda: mixup(x, y))  # timm mixes x in place
        found["timm CutMix"] = ("cutmix", lambda: cutmix(x, y))
        found["timm Mixup+CutMix, switch_prob 0.5"] = ("mixup+cutmix", lambda: either(x, y))
        if x8 is not None:
            found["timm CutMix, uint8"] = ("cutmix uint8", lambda: cutmix(x8, y))
    except ImportError:
        pass
    try:
        from torchvision.transforms import v2

        tv_mixup, tv_cutmix = v2.MixUp(alpha=1.0, num_classes=classes), v2.CutMix(alpha=1.0, num_classes=classes)
        tv_either = v2.RandomChoice([tv_mixup, tv_cutmix])
        found["torchvision v2.MixUp"] = ("mixup", lambda: tv_mixup(x, y))
        found["torchvision v2.CutMix"] = ("cutmix", lambda: tv_cutmix(x, y))
        found["torchvision v2.RandomChoice([MixUp, CutMix])"] = ("mixup+cutmix", lambda: tv_either(x, y))
        if x8 is not None:
            found["torchvision v2.CutMix, uint8"] = ("cutmix uint8", lambda: tv_cutmix(x8, y))
    except ImportError:
        pass
    try:
        import kornia.augmentation as K

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Kornia's note on its CutMix λ; its default is what users get
            k_mixup = K.RandomMixUpV2(p=1.0, data_keys=["input", "class"])
            k_cutmix = K.RandomCutMixV2(p=1.0, data_keys=["input", "class"])
        found["Kornia RandomMixUpV2"] = ("mixup", lambda: k_mixup(x, y))
        found["Kornia RandomCutMixV2"] = ("cutmix", lambda: k_cutmix(x, y))
    except ImportError:
        pass
    return found


def measure(entry: str, args) -> dict:
    """Time one entry ("peer:NAME" or a mixviz method) in this process."""
    import mixviz

    torch.set_num_threads(args.threads)
    device = mixviz.pick_device(args.device)
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.rand(args.batch, 3, args.size, args.size, generator=gen, device=device)
    y = torch.randint(0, CLASSES, (args.batch,), generator=gen, device=device)
    x8 = (x * 255).round().to(torch.uint8) if "uint8" in entry else None
    if entry.startswith("peer:"):
        kind, fn = peers(x, y, CLASSES, x8)[entry[5:]]
        return {"kind": kind, "fresh": timed(fn, args.repeats, device)}
    if entry.startswith("mixer:"):
        _, kind, methods, inp = MIXERS[entry[6:]]
        batch = x8 if inp == "uint8" else x
        mixers = [mixviz.Mixer(methods, num_classes=CLASSES, generator=gen, reuse_buffer=reuse) for reuse in (False, True)]
        fresh, reused = (timed(lambda: m(batch, y), args.repeats, device) for m in mixers)
        return {"kind": kind, "fresh": fresh, "out": reused, "device": str(device), "torch": torch.__version__}
    out = torch.empty_like(x)
    fresh = timed(lambda: mixviz.mix_batch(entry, x, y, num_classes=CLASSES, generator=gen), args.repeats, device)
    reused = timed(lambda: mixviz.mix_batch(entry, x, y, num_classes=CLASSES, generator=gen, out=out),
                   args.repeats, device)
    return {"kind": entry, "fresh": fresh, "out": reused, "device": str(device), "torch": torch.__version__}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default=None)
    parser.add_argument("--methods", nargs="*", default=None, help="mix_batch rows (default: every two-input method)")
    parser.add_argument("--mixers", nargs="*", default=None, choices=list(MIXERS),
                        help="mixviz.Mixer rows: two ({mixup: .5, cutmix: .5}), cutmix, cutmix-uint8 (default: all)")
    parser.add_argument("--peer-kinds", nargs="*", default=None,
                        help="only the peers of these kinds: mixup, cutmix, mixup+cutmix, 'cutmix uint8' (default: all)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds over all rows, interleaved; each figure is the median over the rounds")
    parser.add_argument("--entry", help=argparse.SUPPRESS)  # internal: time one entry and print JSON
    args = parser.parse_args(argv)
    if args.entry:
        print(json.dumps(measure(args.entry, args)))
        return

    import mixviz

    names = args.methods or [n for n, s in mixviz.METHODS.items() if s.n_inputs == 2 and s.needs == "none"]
    probe = torch.rand(2, 3, 8, 8)
    mixer_rows = list(MIXERS) if args.mixers is None else args.mixers
    listed = peers(probe, torch.zeros(2, dtype=torch.long), CLASSES, probe.to(torch.uint8))
    entries = ([f"peer:{p}" for p, (kind, _) in listed.items() if args.peer_kinds is None or kind in args.peer_kinds]
               + names + [f"mixer:{m}" for m in mixer_rows])
    passthrough = ["--batch", str(args.batch), "--size", str(args.size), "--repeats", str(args.repeats),
                   "--threads", str(args.threads)] + (["--device", args.device] if args.device else [])
    rounds: dict[str, list[dict]] = {entry: [] for entry in entries}
    for _ in range(args.rounds):  # interleaved, so a slow spell of the machine hits every row alike
        for entry in entries:  # one process each: every library starts from the same allocator state
            done = subprocess.run([sys.executable, __file__, "--entry", entry, *passthrough], capture_output=True,
                                  text=True, check=True)
            rounds[entry].append(json.loads(done.stdout.strip().splitlines()[-1]))
    results = {}
    for entry, runs in rounds.items():
        results[entry] = dict(runs[0])
        for key in ("fresh", "out"):
            if key in runs[0]:
                results[entry][key] = statistics.median(r[key] for r in runs)
    ours = [r for entry, r in results.items() if not entry.startswith("peer:")]
    print(f"batch {args.batch}x3x{args.size}x{args.size}, {CLASSES} classes, device {ours[0]['device']}, "
          f"{args.threads} threads, torch {ours[0]['torch']}: median over {args.rounds} interleaved rounds of the "
          f"median of {args.repeats} calls, one process per row and round")
    best_peer = {}
    for entry, r in results.items():
        if entry.startswith("peer:"):
            best_peer[r["kind"]] = min(r["fresh"], best_peer.get(r["kind"], float("inf")))
    mixup = results.get("mixup")
    print()
    print("| method | fresh output (ms) | `out=` buffer (ms) | fastest peer / ours (fresh, out=) "
          "| ours / our mixup (fresh, out=) |")
    print("|---|---:|---:|---:|---:|")
    for entry, r in results.items():
        if entry.startswith("peer:"):
            print(f"| {entry[5:]} | {r['fresh']:.1f} | | | |")
            continue
        vs_peer = ""
        if r["kind"] in best_peer:
            vs_peer = f"{best_peer[r['kind']] / r['fresh']:.1f}x, {best_peer[r['kind']] / r['out']:.1f}x"
        vs_mixup = f"{r['fresh'] / mixup['fresh']:.2f}, {r['out'] / mixup['out']:.2f}" if mixup else ""
        name = f"mixviz {MIXERS[entry[6:]][0]}" if entry.startswith("mixer:") else f"mixviz {entry}"
        print(f"| {name} | {r['fresh']:.1f} | {r['out']:.1f} | {vs_peer} | {vs_mixup} |")


if __name__ == "__main__":
    main()
