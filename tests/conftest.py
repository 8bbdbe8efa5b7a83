import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"))]


@pytest.fixture(params=DEVICES)
def device(request):
    return torch.device(request.param)


def random_images(k, h, w, seed=0, device="cpu"):
    """k distinct random images (K, 3, H, W) in [0, 1], the same for the same seed."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(k, 3, h, w, generator=g).to(device)


@pytest.fixture(scope="session")
def images():
    """`images(k, h, w, seed=0, device="cpu")`: k distinct random images (K, 3, H, W) in [0, 1] (session-scoped,
    so that hypothesis' tests may take it too)."""
    return random_images


@pytest.fixture
def forward_passes():
    """The forward passes of the served model (mixviz.load_model's instance) while the test runs: a list
    that grows by one per pass."""
    import mixviz

    calls = []
    handle = mixviz.load_model().net.register_forward_pre_hook(lambda *_: calls.append(1))
    yield calls
    handle.remove()
