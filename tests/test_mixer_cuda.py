"""On CUDA, a Mixer call never makes the host wait for the GPU (torch.cuda.set_sync_debug_mode("error") turns a
synchronising call into an error), and it mixes as on the CPU. Skipped without a CUDA device."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch

import mixviz

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@contextmanager
def sync_is_an_error():
    torch.cuda.synchronize()
    before = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode(before)


@pytest.mark.parametrize("methods", ["mixup", {"mixup": 0.5, "cutmix": 0.5}])
def test_mixer_on_cuda_never_synchronises_and_equals_the_cpu(methods):
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(16, 3, 64, 64, generator=g), torch.randint(0, 10, (16,), generator=g)
    xc, yc = x.cuda(), y.cuda()  # copied up before the checked region
    mixer = mixviz.Mixer(methods, num_classes=10, generator=torch.Generator().manual_seed(1), reuse_buffer=True)
    with sync_is_an_error():
        for _ in range(3):  # the first call also builds the buffers
            xm, ym = mixer(xc, yc)
    assert xm.device.type == "cuda" and ym.device.type == "cuda" and xm.dtype == torch.float32
    ref = mixviz.Mixer(methods, num_classes=10, generator=torch.Generator().manual_seed(1))
    for _ in range(3):
        xr, yr = ref(x, y)
    assert torch.equal(mixer.last_methods, ref.last_methods)
    assert torch.allclose(xm.cpu(), xr, atol=1e-5) and torch.allclose(ym.cpu(), yr, atol=1e-6)
