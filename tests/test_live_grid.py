"""The values the live picture sweeps (ui/live.py): λ in steps of 0.02 through the current λ, a parameter's
slider values every stride-th one through the current value, so that moving a slider cycles through a few
cached sweeps instead of making a new one per step."""
import pytest

import mixviz
from ui.live import PARAM_FRAMES, lam_grid, param_grid, target_of


def test_an_even_lambda_sweeps_0_to_1_by_0_02():
    grid = lam_grid(0.5)
    assert len(grid) == 51 and grid[0] == 0 and grid[-1] == 1 and grid[25] == 0.5
    assert all(b - a == pytest.approx(0.02) for a, b in zip(grid, grid[1:]))
    assert lam_grid(0.52) == grid  # the scrubber's own steps keep the sweep


def test_an_odd_lambda_sweeps_the_odd_hundredths_and_both_ends():
    grid = lam_grid(0.51)
    assert grid[:3] == (0.0, 0.01, 0.03) and grid[-2:] == (0.99, 1.0) and 0.51 in grid and len(grid) == 52
    assert lam_grid(0.49) == grid and lam_grid(0.51) != lam_grid(0.5)  # two sweeps for the slider's steps of 0.01
    assert 0.735 in lam_grid(0.735) and len(lam_grid(0.735)) <= 53  # a link's λ between the hundredths


def test_a_parameter_sweeps_every_stride_th_slider_value_through_the_current_one():
    spec = mixviz.METHODS["gridmask"]  # d_min from 0.05 to 1 by 0.01: 96 values
    grid = param_grid(spec, "d_min", 0.43)
    assert 0.43 in grid and grid[0] == 0.05 and grid[-1] == 1.0 and len(grid) <= PARAM_FRAMES + 2
    assert param_grid(spec, "d_min", 0.48) == grid  # one stride further: the same sweep
    assert param_grid(spec, "d_min", 0.44) != grid
    steps = {round(b - a, 4) for a, b in zip(grid[1:-2], grid[2:-1])}
    assert steps == {0.05}


def test_what_is_swept():
    assert target_of(mixviz.METHODS["mixup"], 0.7, 0, {}).over == "lam"
    strip = target_of(mixviz.METHODS["mixup"], None, 57, {})
    assert strip.over == "seed" and strip.values == tuple(range(50, 100)) and strip.current == 57
    cutout = target_of(mixviz.METHODS["cutout"], None, 0, {"size": 0.3})
    assert cutout.over == "size" and cutout.current == 0.3


def test_the_sweep_is_made_on_every_core_and_the_run_keeps_its_one_thread(monkeypatch):
    """ui.live.sweep_file makes the sweep on every core (once per change, like the network's forward pass); the
    script run that asked keeps its one torch thread."""
    import torch

    import ui.live
    from mixviz.threads import CORES, torch_threads

    seen, real = [], mixviz.sweep

    def sweep(*a, **kw):
        seen.append(torch.get_num_threads())
        return real(*a, **kw)

    monkeypatch.setattr(mixviz, "sweep", sweep)
    x = torch.rand(2, 3, 16, 24)
    with torch_threads(1):
        blob, header = ui.live.sweep_file("mixup", ("a", "b"), x, ("a", "b"), "lam", lam_grid(0.5), 0, None, None, (),
                                          None, None)
        assert seen == [CORES] and torch.get_num_threads() == 1
    assert len(header["values"]) == 51 and blob
