"""mixviz.Mixer and mixviz.MixCollate, checked by value against mix_batch (the function they are built on)."""
from __future__ import annotations

import pickle

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import mixviz
from mixviz.mixer import derive_seed

N = 10


def batch(b=12, h=16, w=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, h, w, generator=g), torch.randint(0, N, (b,), generator=g)


def labels(kind, y):
    if kind == "index":
        return y
    hot = torch.nn.functional.one_hot(y, N).float()
    if kind == "onehot":
        return hot
    soft = 0.7 * hot + 0.3 * torch.nn.functional.one_hot((y + 3) % N, N).float()  # soft targets (B, N)
    return soft


def replay(methods, x, y, pick, seed, eps=0.0, **kw):
    """What the mixer should give: mix_batch over each method's group, in method order, from one generator
    seeded like the mixer's; unmixed samples (pick −1) keep their pixels and their smoothed one-hot target."""
    g = torch.Generator().manual_seed(seed)
    ex = x.clone()
    ey = torch.nn.functional.one_hot(y, N).float() if y.dim() == 1 else y.float()
    ey = ey * (1 - eps) + eps / N
    for i, m in enumerate(methods):
        rows = (pick == i).nonzero().squeeze(1)
        if rows.numel():
            own = {k: v for k, v in kw.items() if k in {p.name for p in mixviz.METHODS[m].params}}
            xm, ym = mixviz.mix_batch(m, x[rows], y[rows], num_classes=N, generator=g, label_smoothing=eps, **own)
            ex[rows], ey[rows] = xm, ym
    return ex, ey


@pytest.mark.parametrize("kind", ["index", "onehot", "soft"])
@pytest.mark.parametrize("method", ["cutmix", "mixup", "ricap", "bc", "fmix"])
def test_one_method_equals_mix_batch_with_the_same_seed(method, kind):
    x, y = batch()
    yy = labels(kind, y)
    mixer = mixviz.Mixer(method, num_classes=N, seed=3, alpha=None)
    g = torch.Generator().manual_seed(3)
    for _ in range(2):  # the second call continues the same stream
        xm, ym = mixer(x, yy)
        xr, yr = mixviz.mix_batch(method, x, yy, num_classes=N, generator=g)
        assert torch.equal(xm, xr) and torch.equal(ym, yr) and ym.dtype == torch.float32
        assert not torch.equal(xm, x)
    assert mixer.last_methods.tolist() == [0] * x.shape[0]


def test_a_given_generator_alpha_and_label_smoothing_are_passed_on():
    x, y = batch()
    g1, g2 = torch.Generator().manual_seed(11), torch.Generator().manual_seed(11)
    xm, ym = mixviz.Mixer("cutmix", alpha=0.4, label_smoothing=0.1, num_classes=N, generator=g1)(x, y)
    xr, yr = mixviz.mix_batch("cutmix", x, y, num_classes=N, generator=g2, alpha=0.4, label_smoothing=0.1)
    assert torch.equal(xm, xr) and torch.equal(ym, yr)
    assert torch.equal(g1.get_state(), g2.get_state())  # nothing drawn beyond what mix_batch drew
    assert ym.min() == pytest.approx(0.1 / N)
    assert mixviz.Mixer("cutmix").alpha is None  # by default each method's own α, as mix_batch


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_low_and_high_precision_come_back_in_their_dtype_equal_to_mix_batch(dtype):
    x, y = batch()
    x = x.to(dtype)
    for methods in ("cutmix", {"mixup": 0.5, "cutmix": 0.5}):
        mixer = mixviz.Mixer(methods, num_classes=N, seed=5)
        xm, ym = mixer(x, y)
        assert xm.dtype == dtype and ym.dtype == torch.float32
        names = mixer.methods
        ex, ey = replay(names, x, y, mixer.last_methods, 5)
        assert torch.equal(xm, ex) and torch.equal(ym, ey)


@pytest.mark.parametrize("methods", ["cutmix", "mixup", {"mixup": 0.5, "cutmix": 0.5}])
def test_uint8_in_uint8_out_equal_to_the_float_mix_rounded(methods):
    x, y = batch()
    x8 = (x * 255).round().to(torch.uint8)
    mixer = mixviz.Mixer(methods, num_classes=N, seed=2)
    xm, ym = mixer(x8, y)
    assert xm.dtype == torch.uint8 and xm.shape == x8.shape
    ex, ey = replay(mixer.methods, x8.float() / 255, y, mixer.last_methods, 2)
    want = (ex * 255).round().clamp(0, 255)
    assert (xm.float() - want).abs().max() <= 1 and (xm.float() == want).float().mean() > 0.999
    assert torch.equal(ym, ey)
    if methods == "cutmix":  # pasted pixels are copied exactly
        assert torch.isin(xm, x8).all()


def test_several_methods_each_sample_is_its_groups_mix_batch():
    x, y = batch(b=32)
    methods = {"mixup": 2.0, "cutmix": 1.0, "ricap": 1.0}
    mixer = mixviz.Mixer(methods, num_classes=N, seed=9, label_smoothing=0.1)
    assert mixer.methods == ("mixup", "cutmix", "ricap") and mixer.weights == (0.5, 0.25, 0.25)
    xm, ym = mixer(x, y)
    pick = mixer.last_methods
    assert pick.shape == (32,) and pick.dtype == torch.int64 and set(pick.tolist()) == {0, 1, 2}
    ex, ey = replay(mixer.methods, x, y, pick, 9, eps=0.1)
    assert torch.equal(xm, ex) and torch.equal(ym, ey)
    # the pairing is within the group: a mixup sample blends itself with the previous mixup sample
    rows = (pick == 0).nonzero().squeeze(1)
    i, prev = rows[1], rows[0]
    lam = (ym[i, y[i]] - 0.1 / N) / 0.9 if y[i] != y[prev] else None
    if lam is not None:
        assert torch.allclose(xm[i], lam * x[i] + (1 - lam) * x[prev], atol=1e-5)
    xm2, _ = mixer(x, y)  # the next call draws anew
    assert not torch.equal(mixer.last_methods, pick) or not torch.equal(xm2, xm)


def test_shares_of_methods_and_of_mixed_samples_follow_the_weights_and_prob():
    x, y = batch(b=4096, h=4, w=4)
    mixer = mixviz.Mixer({"mixup": 0.6, "cutmix": 0.3, "vertical_concat": 0.1}, prob=0.75, num_classes=N, seed=1)
    xm, ym = mixer(x, y)
    pick = mixer.last_methods
    ex, ey = replay(mixer.methods, x, y, pick, 1)
    assert torch.equal(xm, ex) and torch.equal(ym, ey)
    mixed = pick >= 0
    assert abs(mixed.float().mean().item() - 0.75) < 0.05
    for i, w in enumerate(mixer.weights):
        assert abs((pick[mixed] == i).float().mean().item() - w) < 0.05


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_prob_leaves_unmixed_samples_and_their_one_hot_smoothed_targets(eps):
    x, y = batch(b=400, h=6, w=6)
    mixer = mixviz.Mixer("cutmix", prob=0.3, num_classes=N, seed=4, label_smoothing=eps)
    xm, ym = mixer(x, y)
    pick = mixer.last_methods
    kept = (pick == -1).nonzero().squeeze(1)
    assert abs(kept.numel() / 400 - 0.7) < 0.07
    assert torch.equal(xm[kept], x[kept])
    target = torch.nn.functional.one_hot(y[kept], N).float()
    assert torch.allclose(ym[kept], (1 - eps) * target + eps / N, atol=1e-7)
    ex, ey = replay(mixer.methods, x, y, pick, 4, eps=eps)
    assert torch.equal(xm, ex) and torch.equal(ym, ey)
    # prob 0: nothing mixed; prob 1 with one method: the whole batch as mix_batch mixes it
    x0, y0 = mixviz.Mixer("cutmix", prob=0.0, num_classes=N, seed=4)(x, y)
    assert torch.equal(x0, x) and torch.equal(y0, torch.nn.functional.one_hot(y, N).float())


def test_a_parameter_applies_to_every_method_that_has_it():
    x, y = batch(b=24)
    mixer = mixviz.Mixer({"cutout": 1, "gridmask": 1, "mixup": 1}, num_classes=N, seed=6, fill="black")
    assert mixer.params == {"cutout": {"fill": "black"}, "gridmask": {"fill": "black"}, "mixup": {}}
    xm, ym = mixer(x, y)
    ex, ey = replay(mixer.methods, x, y, mixer.last_methods, 6, fill="black")
    assert torch.equal(xm, ex) and torch.equal(ym, ey)
    holes = mixer.last_methods <= 1
    assert holes.any() and (xm[holes] == 0).any()  # black fill, not the default mean colour
    grey = mixviz.mix_batch("cutout", x, y, num_classes=N, generator=torch.Generator().manual_seed(0))[0]
    assert not (grey == 0).any()


def test_guided_maps_are_split_with_their_samples():
    x, y = batch(b=16)
    maps = torch.rand(16, 16, 20, generator=torch.Generator().manual_seed(1))
    mixer = mixviz.Mixer({"saliencymix": 1, "mixup": 1}, num_classes=N, seed=8)
    xm, ym = mixer(x, y, maps=maps)
    pick = mixer.last_methods
    g = torch.Generator().manual_seed(8)
    for i, m in enumerate(mixer.methods):
        rows = (pick == i).nonzero().squeeze(1)
        xr, yr = mixviz.mix_batch(m, x[rows], y[rows], num_classes=N, generator=g, maps=maps[rows])
        assert torch.equal(xm[rows], xr) and torch.equal(ym[rows], yr)


def test_without_labels_only_the_images_are_mixed():
    x, y = batch()
    for methods in ("cutmix", {"mixup": 1, "cutmix": 1}):
        xa, ya = mixviz.Mixer(methods, num_classes=N, seed=0)(x, y)
        xb, yb = mixviz.Mixer(methods, seed=0)(x)
        assert yb is None and torch.equal(xa, xb)


def test_reused_buffer_is_the_same_storage_and_holds_the_latest_batch():
    x, y = batch()
    x8 = (x * 255).to(torch.uint8)
    for methods in ("cutmix", {"mixup": 1, "cutmix": 1}):
        for inp in (x, x8):
            mixer = mixviz.Mixer(methods, num_classes=N, seed=0, reuse_buffer=True)
            fresh = mixviz.Mixer(methods, num_classes=N, seed=0)
            a, _ = mixer(inp, y)
            ptr = a.untyped_storage().data_ptr()
            a_copy = a.clone()
            assert torch.equal(a, fresh(inp, y)[0])
            b, _ = mixer(inp, y)
            assert b.untyped_storage().data_ptr() == ptr and b is a
            assert torch.equal(b, fresh(inp, y)[0]) and not torch.equal(b, a_copy)  # overwritten by the next call
    other = mixviz.Mixer("cutmix", num_classes=N, seed=0, reuse_buffer=True)
    small, _ = other(x[:4], y[:4])
    big, _ = other(x, y)  # one buffer per shape: an epoch's last, smaller batch keeps the full one
    assert small.shape[0] == 4 and big.shape[0] == 12 and small.data_ptr() != big.data_ptr()
    assert other(x[:4], y[:4])[0] is small and other(x, y)[0] is big


@pytest.mark.parametrize("methods", ["cutmix", {"mixup": 1, "cutmix": 1}])
def test_without_reuse_every_call_returns_a_new_tensor_that_later_calls_leave_alone(methods):
    x, y = batch()
    x8 = (x * 255).to(torch.uint8)
    for inp in (x, x8):
        mixer = mixviz.Mixer(methods, num_classes=N, seed=0)  # its internal buffers are kept, its results not
        first, y1 = mixer(inp, y)
        kept, kept_y = first.clone(), y1.clone()
        second, y2 = mixer(inp, y)
        assert second.data_ptr() != first.data_ptr() and y2.data_ptr() != y1.data_ptr()
        assert torch.equal(first, kept) and torch.equal(y1, kept_y) and not torch.equal(second, first)


@pytest.mark.parametrize("kwargs, message", [
    (dict(methods="cutmixx"), "unknown method 'cutmixx'"),
    (dict(methods={"mixup": 1, "nope": 1}), "unknown method 'nope'"),
    (dict(methods={}), "empty"),
    (dict(methods={"mixup": 0}), "weight of 'mixup' must be a finite number > 0"),
    (dict(methods={"mixup": -1, "cutmix": 2}), "weight of 'mixup'"),
    (dict(methods={"mixup": float("nan")}), "weight of 'mixup'"),
    (dict(methods={"mixup": True}), "weight of 'mixup'"),
    (dict(methods=3), "method name or a {name: weight} dict"),
    (dict(methods="cutmix", prob=1.5), r"prob .* \[0, 1\]"),
    (dict(methods="cutmix", prob=-0.1), r"prob"),
    (dict(methods="cutmix", label_smoothing=1.0), r"label_smoothing ε must lie in \[0, 1\)"),
    (dict(methods="cutmix", alpha=0), "alpha must be a number > 0"),
    (dict(methods="cutmix", num_classes=0), "num_classes"),
    (dict(methods="cutmix", seed=1, generator=torch.Generator()), "not both"),
    (dict(methods={"mixup": 1, "cutmix": 1}, size=0.3), "no chosen method has a parameter 'size'"),
    (dict(methods={"cutout": 1, "gridmask": 1}, fill="pink"), "cutout: parameter 'fill' must be one of"),
    (dict(methods={"bc_plus": 1, "mixup": 1}), "bc_plus returns a raw zero-mean input"),
    (dict(methods="bc_plus", prob=0.5), "unmixed samples"),
])
def test_bad_configurations_raise_mix_error_saying_why(kwargs, message):
    with pytest.raises(mixviz.MixError, match=message):
        mixviz.Mixer(**kwargs)


def test_bad_calls_raise_mix_error_saying_why():
    x, y = batch()
    x8 = (x * 255).to(torch.uint8)
    bcp = mixviz.Mixer("bc_plus", num_classes=N, seed=0)
    with pytest.raises(mixviz.MixError, match="bc_plus returns a raw zero-mean input.*no uint8 form"):
        bcp(x8, y)
    xm, _ = bcp(x, y)  # float is fine, and as mix_batch gives it
    assert torch.equal(xm, mixviz.mix_batch("bc_plus", x, y, num_classes=N, generator=torch.Generator().manual_seed(0))[0])
    mixer = mixviz.Mixer("cutmix", num_classes=N, seed=0)
    with pytest.raises(mixviz.MixError, match="num_classes is needed"):
        mixviz.Mixer("cutmix")(x, y)
    with pytest.raises(mixviz.MixError, match=r"class indices must lie in \[0, 10\)"):
        mixer(x, y + 5)
    with pytest.raises(mixviz.MixError, match="class indices must be integers"):
        mixer(x, y.float())
    with pytest.raises(mixviz.MixError, match="targets have 7 columns but num_classes is 10"):
        mixer(x, torch.zeros(12, 7))
    with pytest.raises(mixviz.MixError, match="float in"):
        mixer(x.to(torch.int32), y)
    with pytest.raises(mixviz.MixError, match=r"\(B, C, H, W\)"):
        mixer(x[0], y)
    with pytest.raises(mixviz.MixError, match="y must be class indices"):
        mixer(x, y[:3])


def test_derived_seeds_differ_per_rank_and_worker_and_keep_rank_zero():
    assert derive_seed(7) == 7 and derive_seed(7, 0, None) == 7
    seeds = {derive_seed(7, r, w) for r in range(4) for w in (None, 100, 101)}
    assert len(seeds) == 12 and all(0 <= s < 2**63 for s in seeds)
    assert derive_seed(7, 1) == derive_seed(7, 1) != derive_seed(8, 1)


def test_mixer_and_collate_pickle_and_continue_the_same_stream():
    x, y = batch()
    mixer = mixviz.Mixer({"mixup": 1, "cutmix": 1}, num_classes=N, seed=0, reuse_buffer=True)
    mixer(x, y)
    copy = pickle.loads(pickle.dumps(mixviz.MixCollate(mixer))).mixer
    a, ya = mixer(x, y)
    b, yb = copy(x, y)
    assert torch.equal(a, b) and torch.equal(ya, yb) and a.data_ptr() != b.data_ptr()
    assert "Mixer({'mixup': 0.5, 'cutmix': 0.5}" in repr(mixviz.MixCollate(mixer))


class _SeedTaggingCollate:
    """MixCollate's batch plus the torch seed of the process that collated it (a worker's own seed)."""

    def __init__(self, collate):
        self.collate = collate

    def __call__(self, items):
        return (*self.collate(items), torch.initial_seed())


def test_mix_collate_in_a_dataloader_without_and_with_a_worker():
    x, y = batch(b=20, h=8, w=8)
    data = TensorDataset(x, y)
    stacked = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 20, 8)]

    # in the main process: the mixer's own stream, batch after batch
    collate = mixviz.MixCollate(mixviz.Mixer({"mixup": 1, "cutmix": 1}, num_classes=N, seed=7))
    got = list(DataLoader(data, batch_size=8, collate_fn=collate, num_workers=0))
    ref = mixviz.Mixer({"mixup": 1, "cutmix": 1}, num_classes=N, seed=7)
    for (xm, ym), (xb, yb) in zip(got, stacked):
        xr, yr = ref(xb, yb)
        assert torch.equal(xm, xr) and torch.equal(ym, yr)
    assert len(got) == 3 and got[-1][0].shape[0] == 4

    # in a worker: the stream of derive_seed(seed, rank 0, the worker's seed), new every epoch
    tagging = _SeedTaggingCollate(mixviz.MixCollate(mixviz.Mixer({"mixup": 1, "cutmix": 1}, num_classes=N, seed=7)))
    loader = DataLoader(data, batch_size=8, collate_fn=tagging, num_workers=1,
                        generator=torch.Generator().manual_seed(0))
    epochs = [list(loader), list(loader)]
    for epoch in epochs:
        worker_seed = epoch[0][2]
        assert {s for *_, s in epoch} == {worker_seed}
        ref = mixviz.Mixer({"mixup": 1, "cutmix": 1}, num_classes=N,
                           generator=torch.Generator().manual_seed(derive_seed(7, 0, worker_seed)))
        for (xm, ym, _), (xb, yb) in zip(epoch, stacked):
            xr, yr = ref(xb, yb)
            assert torch.equal(xm, xr) and torch.equal(ym, yr)
    assert epochs[0][0][2] != epochs[1][0][2] and not torch.equal(epochs[0][0][0], epochs[1][0][0])


def test_mix_collate_takes_int_labels_and_uint8_images():
    g = torch.Generator().manual_seed(0)
    items = [(torch.randint(0, 256, (3, 8, 8), dtype=torch.uint8, generator=g), i % N) for i in range(6)]
    xm, ym = mixviz.MixCollate(mixviz.Mixer("cutmix", num_classes=N, seed=1))(items)
    xs = torch.stack([im for im, _ in items])
    xr, yr = mixviz.Mixer("cutmix", num_classes=N, seed=1)(xs, torch.tensor([lab for _, lab in items]))
    assert xm.dtype == torch.uint8 and torch.equal(xm, xr) and torch.equal(ym, yr)


def test_the_benchmark_times_the_mixer_rows_and_their_peers():
    import argparse
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "bench" / "throughput.py"
    spec = importlib.util.spec_from_file_location("throughput_mixer", path)
    throughput = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(throughput)
    args = argparse.Namespace(batch=4, size=16, repeats=1, threads=1, device="cpu")
    for key, (_, kind, _, _) in throughput.MIXERS.items():
        r = throughput.measure(f"mixer:{key}", args)
        assert r["kind"] == kind and r["fresh"] > 0 and r["out"] > 0
    x = torch.rand(4, 3, 8, 8)
    listed = throughput.peers(x, torch.zeros(4, dtype=torch.long), 10, (x * 255).to(torch.uint8))
    kinds = {kind for kind, _ in listed.values()}
    assert {"mixup+cutmix", "cutmix uint8"} <= kinds
    for name, (kind, _) in listed.items():
        if kind in ("mixup+cutmix", "cutmix uint8"):
            assert throughput.measure(f"peer:{name}", args)["fresh"] > 0
