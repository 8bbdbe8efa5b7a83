"""Mixer(seed=...) under torch.distributed: two gloo ranks on the CPU draw different boxes, a rerun reproduces
each rank's, and the generator is derived on the first call, after the process group came up."""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import mixviz
from mixviz.mixer import derive_seed

WORLD = 2


def same_batch():
    g = torch.Generator().manual_seed(0)
    return torch.rand(8, 3, 24, 24, generator=g), torch.randint(0, 10, (8,), generator=g)


def _rank_main(rank: int, folder: str, run: int) -> None:
    torch.set_num_threads(1)
    mixer = mixviz.Mixer("cutmix", seed=7, num_classes=10)  # built before the process group exists
    dist.init_process_group("gloo", init_method=f"file://{folder}/init-{run}", rank=rank, world_size=WORLD)
    try:
        x, y = same_batch()
        steps = [mixer(x, y) for _ in range(2)]
        xs = torch.stack([xm for xm, _ in steps])
        ys = torch.stack([ym for _, ym in steps])
        gathered = [torch.empty_like(xs) for _ in range(WORLD)]
        dist.all_gather(gathered, xs)  # every rank sees every rank's boxes
        torch.save({"x": xs, "y": ys, "all": torch.stack(gathered), "rank": dist.get_rank()},
                   f"{folder}/out-{run}-{rank}.pt")
    finally:
        dist.destroy_process_group()


def run_ranks(folder, run: int) -> list[dict]:
    # fork: the children start with torch and mixviz imported (spawn re-imports them, ~5 s a process here)
    mp.start_processes(_rank_main, args=(str(folder), run), nprocs=WORLD, join=True, start_method="fork")
    return [torch.load(f"{folder}/out-{run}-{r}.pt") for r in range(WORLD)]


def test_ranks_draw_different_boxes_and_a_rerun_reproduces_each_rank(tmp_path):
    first = run_ranks(tmp_path, 0)
    second = run_ranks(tmp_path, 1)
    x, y = same_batch()
    for r, out in enumerate(first):
        assert out["rank"] == r
        assert torch.equal(out["all"][r], out["x"]) and torch.equal(out["all"], first[0]["all"])
        # exactly the stream of derive_seed(7, rank): rank 0 keeps the seed itself
        g = torch.Generator().manual_seed(derive_seed(7, r))
        for step in range(2):
            xr, yr = mixviz.mix_batch("cutmix", x, y, num_classes=10, generator=g)
            assert torch.equal(out["x"][step], xr) and torch.equal(out["y"][step], yr)
    assert derive_seed(7, 0) == 7 and derive_seed(7, 1) != 7
    # the ranks mixed the same batch with different boxes: their pixels and labels differ
    assert not torch.equal(first[0]["x"], first[1]["x"]) and not torch.equal(first[0]["y"], first[1]["y"])
    differ = (first[0]["x"] != first[1]["x"]).flatten(2).any(2)
    assert differ.float().mean() > 0.5  # most samples, not only one
    for a, b in zip(first, second):  # a second run of both ranks reproduces each rank exactly
        assert torch.equal(a["x"], b["x"]) and torch.equal(a["y"], b["y"])
