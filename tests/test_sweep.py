"""mixviz.sweep: frames of one picture where one value moves, each checked by value against mixviz.mix."""
import math

import pytest
import torch

import mixviz
from mixviz.registry import MAP_KINDS, MapKind
from mixviz.types import MixError

H, W = 24, 32
LAMS = (0.0, 0.25, 0.5, 0.8, 1.0)
WITH_LAM = [n for n, s in mixviz.METHODS.items() if s.uses_lam]
GUIDED = {n for n, s in mixviz.METHODS.items() if s.impl.guide_maps(s.defaults())}


def _inputs(images, method, h=H, w=W):
    """Images for `method`, and guide maps for a guided one (non-negative, one per input, made once)."""
    spec = mixviz.METHODS[method]
    x = images(spec.n_inputs, h, w, seed=5)
    maps = torch.rand(spec.n_inputs, h, w, generator=torch.Generator().manual_seed(1)) if method in GUIDED else None
    return x, maps


def _plain(value):
    """Whether `value` is JSON-able (numbers, strings, None and lists, tuples and dicts of them)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def _close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(u, v) for u, v in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


def same_result(frame: mixviz.MixResult, alone: mixviz.MixResult) -> None:
    """frame equals alone by value: pixels, masks, weights, label, λ and the JSON-able info."""
    torch.testing.assert_close(frame.image, alone.image, atol=1e-6, rtol=0)
    torch.testing.assert_close(frame.masks, alone.masks, atol=1e-6, rtol=0)
    torch.testing.assert_close(frame.used, alone.used, atol=1e-6, rtol=0)
    torch.testing.assert_close(frame.weights, alone.weights, atol=1e-9, rtol=0)
    assert frame.label.keys() == alone.label.keys() and _close(frame.label, alone.label)
    assert frame.method == alone.method and frame.label_rule == alone.label_rule
    assert _close(frame.lam, alone.lam) and _close(frame.lam_corrected, alone.lam_corrected)
    if alone.maps is None:
        assert frame.maps is None
    else:
        torch.testing.assert_close(frame.maps, alone.maps)
    plain = {k for k, v in alone.info.items() if _plain(v)}
    assert plain == {k for k, v in frame.info.items() if _plain(v)}
    assert _close({k: frame.info[k] for k in plain}, {k: alone.info[k] for k in plain})


@pytest.mark.parametrize("method", WITH_LAM)
def test_lam_sweep_frame_i_is_mix_at_lam_i(images, method):
    x, maps = _inputs(images, method)
    labels = ["cat", "dog", "fox", "owl"][: mixviz.METHODS[method].n_inputs]
    s = mixviz.sweep(method, x, labels, over="lam", values=LAMS, seed=3, maps=maps)
    assert s.method == method and s.over == "lam" and s.values == LAMS and len(s.results) == len(LAMS)
    for lam, frame in zip(LAMS, s.results):
        same_result(frame, mixviz.mix(method, x, labels, seed=3, lam=lam, maps=maps))


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("method", ["cutmix", "fmix", "random_pixels", "random_elements", "random_2x2",
                                    "random_row_interval", "mixed_concat"])
def test_lam_sweep_on_other_seeds_sizes_and_parameters(images, method, seed):
    x, _ = _inputs(images, method, 17, 29)
    params = {"centre": (0.2, 0.9)} if method == "cutmix" else {"decay": 4.5} if method == "fmix" else {}
    values = (0.9, 0.1, 0.33, 0.1)  # any order, repeats allowed
    s = mixviz.sweep(method, x, over="lam", values=values, seed=seed, label_smoothing=0.1, num_classes=10, **params)
    assert s.values == values
    for lam, frame in zip(values, s.results):
        same_result(frame, mixviz.mix(method, x, seed=seed, lam=lam, label_smoothing=0.1, num_classes=10, **params))


def test_lam_sweep_of_one_class_keeps_the_label_rules(images):
    x = images(2, H, W)
    s = mixviz.sweep("snapmix", x, ["cat", "cat"], over="lam", values=(0.3, 0.6), maps=torch.rand(2, H, W), seed=2)
    for lam, frame in zip((0.3, 0.6), s.results):
        same_result(frame, mixviz.mix("snapmix", x, ["cat", "cat"], lam=lam, maps=s.results[0].maps, seed=2))


def test_lam_sweep_default_values_and_default_over(images):
    x = images(2, H, W)
    s = mixviz.sweep("mixup", x, frames=5)
    assert s.over == "lam" and s.values == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert all(type(v) is float for v in s.values)
    for lam, frame in zip(s.values, s.results):
        torch.testing.assert_close(frame.image, lam * x[0] + (1 - lam) * x[1])
    assert len(mixviz.sweep("cutmix", x).results) == 51
    assert mixviz.sweep("cutmix", x, frames=1).values == (0.0,)
    ignored = mixviz.sweep("mixup", x, frames=5, lam=0.3)  # the values are λ: a lam given is not used
    assert all(torch.equal(a.image, b.image) for a, b in zip(ignored.results, s.results))


def test_default_over_is_lam_else_the_first_number_parameter_else_the_seed():
    def over(method):
        return mixviz.sweep(method, torch.rand(mixviz.METHODS[method].n_inputs, 3, 8, 8), frames=2).over

    assert over("cutmix") == "lam"
    assert over("ricap") == "beta"
    assert over("cutout") == "size"
    assert over("splicemix") == "drop_prob"  # its first parameter is a choice
    assert over("sample_pairing") == "seed"  # no parameters at all


def test_guided_maps_are_computed_once_per_sweep(images, monkeypatch):
    calls = []
    real = MAP_KINDS["saliency"]

    def counted(x, options, classes=None, model=None):
        calls.append(x.shape[0])
        return real.compute(x, options, classes, model)

    monkeypatch.setitem(MAP_KINDS, "saliency", MapKind("saliency", counted, real.per_class, real.uses_model, real.about))
    x = images(2, H, W)
    s = mixviz.sweep("saliencymix", x, over="lam", values=LAMS, seed=1)
    assert calls == [2]
    for lam, frame in zip(LAMS, s.results):
        same_result(frame, mixviz.mix("saliencymix", x, seed=1, lam=lam))
    calls.clear()
    s = mixviz.sweep("saliencymix", x, over="seed", frames=4, lam=0.6)
    assert calls == [2]
    for seed, frame in zip(s.values, s.results):
        same_result(frame, mixviz.mix("saliencymix", x, seed=seed, lam=0.6))


def test_parameter_sweep_recombines_maps_computed_once(images, monkeypatch):
    """TdAttenMix's balance mixes its two maps: each frame recombines them, and each is computed once."""
    calls = []

    def fake(kind, scale):
        def compute(x, options, classes=None, model=None):
            calls.append(kind)
            return x.mean(1) ** scale
        return MapKind(kind, compute, False, False, "a test map")

    monkeypatch.setitem(MAP_KINDS, "semantic_percent", fake("semantic_percent", 1))
    monkeypatch.setitem(MAP_KINDS, "saliency", fake("saliency", 4))
    x = images(2, 56, 56)
    values = (0.0, 0.5, 1.0)
    s = mixviz.sweep("tdattenmix", x, over="balance", values=values, lam=0.7, seed=4)
    assert sorted(calls) == ["saliency", "semantic_percent"]
    for v, frame in zip(values, s.results):
        same_result(frame, mixviz.mix("tdattenmix", x, lam=0.7, seed=4, balance=v))
    assert not torch.equal(s.results[0].maps, s.results[2].maps)


def test_parameter_sweep_frames_are_mix_at_each_value(images):
    x = images(4, H, W)
    s = mixviz.sweep("ricap", x, over="beta", values=(0.3, 1.0, 2.5), seed=6)
    assert s.over == "beta" and s.values == (0.3, 1.0, 2.5)
    for v, frame in zip(s.values, s.results):
        same_result(frame, mixviz.mix("ricap", x, seed=6, beta=v))
    y = images(2, H, W)
    s = mixviz.sweep("fmix", y, over="decay", values=(1.0, 6.0), seed=2, lam=0.4, alpha=0.5)
    for v, frame in zip(s.values, s.results):
        same_result(frame, mixviz.mix("fmix", y, seed=2, lam=0.4, alpha=0.5, decay=v))
    s = mixviz.sweep("cutout", images(1, H, W), over="n_holes", values=(1, 3), seed=1, size=0.2)
    assert s.values == (1, 3) and all(type(v) is int for v in s.values)
    for v, frame in zip(s.values, s.results):
        same_result(frame, mixviz.mix("cutout", images(1, H, W), seed=1, size=0.2, n_holes=v))


def test_parameter_sweep_default_values_thinned_with_the_current_value(images):
    x = images(4, 12, 12)
    # ricap's beta: 0.05 to 5 by 0.05 (100 values)
    s = mixviz.sweep("ricap", x, over="beta", frames=7)
    grid = [round(0.05 + 0.05 * i, 10) for i in range(100)]
    assert len(s.values) <= 7 and 0.3 in s.values and s.values[0] == 0.05 and s.values[-1] == 5.0
    assert list(s.values) == sorted(s.values) and all(any(abs(v - g) < 1e-9 for g in grid) for v in s.values)
    steps = [b - a for a, b in zip(s.values, s.values[1:])]
    assert max(steps) < 2 * 5 / 6  # evenly thinned: no gap much wider than an even one
    s = mixviz.sweep("ricap", x, over="beta", frames=7, beta=2.45)
    assert len(s.values) <= 7 and 2.45 in s.values
    s = mixviz.sweep("ricap", x, over="beta", frames=6)  # six even values miss 0.3: five and 0.3
    assert len(s.values) <= 6 and 0.3 in s.values and s.values[0] == 0.05 and s.values[-1] == 5.0
    for v, frame in zip(s.values, s.results):
        same_result(frame, mixviz.mix("ricap", x, beta=v))
    ints = mixviz.sweep("cutout", images(1, 12, 12), over="n_holes")  # 1 to 8: every value
    assert ints.values == tuple(range(1, 9))
    assert mixviz.sweep("cutout", images(1, 12, 12), over="n_holes", frames=1, n_holes=3).values == (3,)


def test_parameter_sweep_leaves_out_values_the_method_rejects(images):
    x = images(2, H, W)
    s = mixviz.sweep("smoothmix", x, over="sigma_min", sigma_max=0.3, seed=2)
    assert s.values and max(s.values) <= 0.3 and 0.25 in s.values
    for v, frame in zip(s.values, s.results):
        same_result(frame, mixviz.mix("smoothmix", x, seed=2, sigma_max=0.3, sigma_min=v))
    given = mixviz.sweep("smoothmix", x, over="sigma_min", values=(0.1, 0.6, 0.2), sigma_max=0.3)
    assert given.values == (0.1, 0.2)
    with pytest.raises(MixError, match="sigma_min"):
        mixviz.sweep("smoothmix", x, over="sigma_min", values=(0.6, 0.7), sigma_max=0.3)


def test_seed_sweep_frames_are_mix_at_each_seed(images):
    x = images(2, H, W)
    s = mixviz.sweep("cutmix", x, over="seed", seed=10, frames=4)
    assert s.over == "seed" and s.values == (10, 11, 12, 13)
    lams = []
    for seed, frame in zip(s.values, s.results):
        same_result(frame, mixviz.mix("cutmix", x, seed=seed))
        lams.append(frame.lam)
    assert len(set(lams)) == 4  # λ drawn from Beta(α, α) on each seed
    s = mixviz.sweep("cutmix", x, over="seed", values=(5, 2, 5), lam=0.3, alpha=0.4)
    assert s.values == (5, 2, 5)
    for seed, frame in zip(s.values, s.results):
        same_result(frame, mixviz.mix("cutmix", x, seed=seed, lam=0.3, alpha=0.4))
        assert frame.lam == pytest.approx(0.3)
    s = mixviz.sweep("sample_pairing", x, frames=3, seed=4)
    assert s.over == "seed" and s.values == (4, 5, 6)


@pytest.mark.parametrize("kwargs, message", [
    ({"over": "nope"}, "over"),
    ({"over": "fill"}, "fill"),  # a choice: nothing to move continuously
    ({"over": "centre"}, "centre"),
    ({"over": "lam", "values": (0.5, 1.2)}, "λ"),
    ({"over": "lam", "values": (0.5, float("nan"))}, "λ"),
    ({"over": "lam", "values": ()}, "values"),
    ({"over": "lam", "values": ("a",)}, "λ"),
    ({"frames": 0}, "frames"),
    ({"frames": 202}, "frames"),
    ({"frames": 2.5}, "frames"),
    ({"over": "lam", "values": tuple(i / 300 for i in range(202))}, "201"),
    ({"over": "seed", "values": (1, -1)}, "seed"),
    ({"over": "seed", "values": (1.5,)}, "seed"),
    ({"over": "size", "values": (0.5, 2.0)}, "size"),
    ({"over": "size", "values": ("big",)}, "size"),
    ({"over": "lam", "values": (0.5,), "nope": 1}, "nope"),
])
def test_sweep_errors(images, kwargs, message):
    method = "cutout" if kwargs.get("over") in ("size", "fill") else "cutmix"
    with pytest.raises(MixError, match=message):
        mixviz.sweep(method, images(mixviz.METHODS[method].n_inputs, 8, 8), **kwargs)


def test_sweep_errors_of_methods_and_images(images):
    with pytest.raises(MixError, match="λ"):
        mixviz.sweep("ricap", images(4, 8, 8), over="lam")
    with pytest.raises(MixError, match="2 images"):
        mixviz.sweep("cutmix", images(3, 8, 8))
    with pytest.raises(MixError, match="2 images"):
        mixviz.sweep("cutmix", images(3, 8, 8), over="seed")
    with pytest.raises(MixError, match="unknown method"):
        mixviz.sweep("nope", images(2, 8, 8))
    with pytest.raises(MixError, match="labels"):
        mixviz.sweep("cutmix", images(2, 8, 8), ["a"], over="seed")


def test_sweep_is_exported_and_frozen(images):
    s = mixviz.sweep("mixup", images(2, 8, 8), frames=2)
    assert isinstance(s, mixviz.Sweep) and "sweep" in mixviz.__all__ and "Sweep" in mixviz.__all__
    with pytest.raises(AttributeError):
        s.over = "seed"
    assert math.isclose(s.results[1].lam, 1.0)


@pytest.mark.parametrize("method", ["cutmix", "fmix", "smoothmix", "resizemix"])
def test_one_channel_masks_are_the_generic_two_input_masks(images, method):
    """The cut family writes 1 − m and m into one tensor (faster on sweeps): the values TwoInputMask.masks makes."""
    from mixviz.methods.base import Call, TwoInputMask
    from mixviz.sampling import DrawContext

    spec = mixviz.METHODS[method]
    c = Call(DrawContext(6, 3, 20, 28, torch.device("cpu"), torch.float32, torch.Generator().manual_seed(3), None, 1.0),
             mixviz.engine.resolve_params(spec, {}))
    c.draws = spec.impl.draw(c)
    masks = spec.impl.masks(c)
    assert masks.dtype == torch.float32 and masks.shape == (6, 2, 20, 28)
    assert torch.equal(masks, TwoInputMask.masks(spec.impl, c))
