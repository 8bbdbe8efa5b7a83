"""Models and CAM: weight resolution in its order, the Keras h5 import, real pretrained behaviour offline."""
import json
import time

import pytest
import timm
import torch

import mixviz
from mixviz.maps import cam as C
from mixviz.maps import models as M
from mixviz.imaging import load_image
from mixviz.maps.keras_xception import state_dict_to_h5
from mixviz.samples import PHOTOS, samples

OBJECTS = {k: v for k, v in json.loads((PHOTOS / "objects.json").read_text()).items()
           if not k.startswith("_") and "box" in v}  # the photos with a box drawn around their object


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No network, an empty timm cache and no weights named in the environment, in every test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(M.XCEPTION_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    M._BUILT.clear()
    yield
    M._BUILT.clear()


@pytest.fixture(scope="module")
def lite0():
    return M._build(M.RECIPES["efficientnet_lite0"], M.lite0_state_dict(), "test", torch.device("cpu"))


def random_xception(keras: bool = False) -> torch.nn.Module:
    """A randomly initialised legacy_xception with non-trivial BatchNorm statistics."""
    torch.manual_seed(0)
    net = timm.create_model("legacy_xception").eval()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.normal_(1, 0.1)
            m.bias.data.normal_(0, 0.1)
            if keras:
                m.eps = 1e-3
    return net


def same_outputs(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    """Bit-identical outputs (so identical weights and BatchNorm eps), with both in the channels-last
    layout that mixviz models use."""
    a.to(memory_format=torch.channels_last)
    x = torch.randn(1, 3, 299, 299, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        return torch.equal(a(x), b(x))


def test_offline_fallback_is_fast_and_says_so():
    start = time.perf_counter()
    m = mixviz.load_model()
    assert time.perf_counter() - start < 20
    assert m.name == "efficientnet_lite0" and "offline fallback" in m.source
    assert "Xception is not available" in m.notice and "fetch-weights" in m.notice
    assert len(m.classes) == 1000 and m.classes[285] == "Egyptian cat"
    assert mixviz.load_model() is m  # built once, reused


def test_network_check_fails_fast_offline():
    start = time.perf_counter()
    assert not M.network_answers("https://example.invalid/x.pth")
    assert time.perf_counter() - start < 0.1


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_xception_from_a_named_timm_file(tmp_path, suffix):
    net = random_xception()
    path = tmp_path / f"xception{suffix}"
    if suffix == ".pth":
        torch.save(net.state_dict(), path)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    m = mixviz.load_model("xception", weights=path)
    assert m.name == "xception" and m.source == f"file {path.name}" and not m.notice
    assert same_outputs(net, m.net)


def test_xception_from_keras_h5_named_in_the_environment(tmp_path, monkeypatch):
    net = random_xception(keras=True)  # a Keras model: BatchNorm eps 1e-3
    path = tmp_path / "xception_weights_tf_dim_ordering_tf_kernels.h5"
    state_dict_to_h5(net.state_dict(), path)
    monkeypatch.setenv(M.XCEPTION_ENV, str(path))
    m = mixviz.load_model()
    assert m.name == "xception" and m.source == f"file {path.name}"
    assert all(b.eps == 1e-3 for b in m.net.modules() if isinstance(b, torch.nn.BatchNorm2d))
    assert same_outputs(net, m.net)


def test_xception_from_timms_cache():
    net = random_xception()
    cached = M.timm_cache_file()
    cached.parent.mkdir(parents=True)
    torch.save(net.state_dict(), cached)
    m = mixviz.load_model("xception")
    assert m.source == "timm cache" and same_outputs(net, m.net)


def test_bad_weights_files_are_explained(tmp_path):
    bad = tmp_path / "w.pth"
    torch.save({"nope": torch.zeros(1)}, bad)
    with pytest.raises(mixviz.MixError, match="do not fit"):
        mixviz.load_model("xception", weights=bad)
    with pytest.raises(mixviz.MixError, match="does not exist"):
        mixviz.load_model("xception", weights=tmp_path / "missing.h5")
    text = tmp_path / "w.h5"
    text.write_text("not hdf5")
    with pytest.raises(mixviz.MixError, match="HDF5"):
        mixviz.load_model("xception", weights=text)
    with pytest.raises(mixviz.MixError, match="unknown model"):
        mixviz.load_model("vgg")


def test_cam_mean_plus_bias_is_the_logit_on_a_random_gap_network():
    model = M.Model("x", "random Xception", random_xception(), M.RECIPES["xception"], M.imagenet_classes(), "random")
    img = torch.rand(3, 120, 200, generator=torch.Generator().manual_seed(0))
    for c in (0, 7, 999):
        r = C.cam(model, img, c)
        assert r.low.shape == (10, 10) and r.high.shape == (120, 200)
        assert float(r.low.mean()) + r.bias == pytest.approx(float(r.logits[c]), abs=1e-3)
        assert float(r.channel_terms.sum()) + r.bias == pytest.approx(float(r.logits[c]), abs=1e-3)


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_offline_model_classifies_the_photos_and_its_cam_finds_the_object(lite0, name):
    obj = OBJECTS[name]
    img = load_image(samples()[name].path)
    r = C.cam(lite0, img, lite0.classes.index(obj["class"]))
    assert obj["class"] in [p.name for p in r.topk[:3]]
    assert float(r.low.mean()) + r.bias == pytest.approx(float(r.logits[r.class_index]), abs=1e-3)
    h, w = r.high.shape
    y, x = divmod(int(r.high.argmax()), w)
    top, left, bottom, right = obj["box"]
    assert top * h <= y < bottom * h and left * w <= x < right * w


def test_gradcam_at_the_last_map_is_cam_over_its_area(lite0):
    """On a GAP + linear head, ∂y/∂F_k = w_k / (h·w), so Grad-CAM there is ReLU(CAM) / (h·w)."""
    img = load_image(samples()["dog"].path)
    r = C.cam(lite0, img)
    g = C.gradcam(lite0, img, "bn2", r.class_index)
    torch.testing.assert_close(g, torch.relu(r.low) / r.low.numel(), atol=1e-5, rtol=1e-4)


def test_fetch_weights_fails_fast_without_network(capsys):
    from mixviz.viz.cli import main

    start = time.perf_counter()
    assert main(["fetch-weights", "xception"]) == 2
    assert "no network" in capsys.readouterr().err and time.perf_counter() - start < 5


def test_network_view_compares_prediction_and_label(lite0):
    cat, dog = (load_image(samples()[n].path) for n in ("cat", "dog"))
    from mixviz.imaging import fit_within, to_batch

    x = to_batch([fit_within(cat, 256), fit_within(dog, 256)])
    pure = mixviz.mix("mixup", x, lam=1.0, labels=["Egyptian cat", "German shepherd"])
    v = C.network_view(lite0, pure, x)
    assert v.topk[0].name == "Egyptian cat"
    assert [iv.class_name for iv in v.inputs] == ["Egyptian cat", "German shepherd"]
    assert v.inputs[0].label_weight == 1.0 and v.inputs[0].predicted == pytest.approx(v.topk[0].probability)
    assert v.divergence == pytest.approx(-torch.tensor(v.inputs[0].predicted).log().item(), abs=1e-6)
    half = C.network_view(lite0, mixviz.mix("mixup", x, lam=0.5), x)  # labels not ImageNet names: predicted classes
    assert [iv.class_name for iv in half.inputs] == ["Egyptian cat", "German shepherd"]
    assert half.divergence > 0
