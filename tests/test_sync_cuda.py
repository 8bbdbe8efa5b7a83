"""mix_batch on CUDA never waits for the GPU in its hot path (no .item(), .cpu(), .tolist() or blocking
copies), for the methods whose pixels are one masked lerp: run under torch.cuda.set_sync_debug_mode("error"),
which raises at the first synchronising call. Skipped without a CUDA device."""
import pytest
import torch

import mixviz

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
LERP_METHODS = ["mixup", "cutmix", "cutout", "gridmask", "smoothmix", "vertical_concat", "mixed_concat", "random_2x2",
                "random_pixels", "random_elements"]


@pytest.mark.parametrize("method", LERP_METHODS)
def test_mix_batch_does_not_synchronise(method):
    x = torch.rand(16, 3, 64, 64, device="cuda")
    y = torch.randint(0, 10, (16,), device="cuda")
    g = torch.Generator().manual_seed(0)  # draws on the host, moved non-blocking
    mixviz.mix_batch(method, x, y, num_classes=10, generator=g)  # warm-up: kernels and allocator
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        out, y_soft = mixviz.mix_batch(method, x, y, num_classes=10, generator=g)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert out.shape == x.shape and torch.allclose(y_soft.sum(1).cpu(), torch.ones(16), atol=1e-5)
