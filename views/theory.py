"""Theory: where λ comes from (Beta(α, α)), label smoothing, ERM vs vicinal risk, and the mixup
paper's toy figure trained live. The maths and the figures are in mixviz.theory."""
from __future__ import annotations

import contextvars

import streamlit as st

from mixviz import theory
from mixviz.viz.theory import beta_figure, smoothing_figure, toy_figure
from ui import controls
from ui.errors import errors_shown
from ui.sidebar import Inputs, current

ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)
SAMPLE_COUNTS = (100, 500, 1000, 2000, 5000, 20000)
CLASS_COUNTS = (2, 3, 5, 10, 100, 1000)
TOY_ALPHAS = (0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0)


def render() -> None:
    inputs = current()
    st.title("Theory")
    st.markdown("Where mixup's λ comes from, what label smoothing does to a target, why mixing is a *vicinal* "
                "risk, and the mixup paper's toy figure, trained here while you watch.")
    beta_section(inputs.lecture)
    smoothing_section(inputs)
    risk_section()
    toy_section(inputs.lecture)


def fmt(a: float) -> str:
    return f"{a:g}"


def tall(lecture: bool) -> float:
    """How much taller the figures are drawn in lecture mode."""
    return 1.4 if lecture else 1.0


@st.cache_data(max_entries=32, show_spinner=False)
def trained(alpha: float | None, seed: int, steps: int, _progress=None) -> theory.ToyResult:
    """One toy model per (α, seed, steps); `_progress` is left out of the cache key."""
    return theory.train_toy(alpha, seed=seed, steps=steps, progress=_progress)


@errors_shown("The Beta(α, α) draw")
def beta_section(lecture: bool) -> None:
    st.header("λ ~ Beta(α, α)")
    st.markdown("mixup draws its mixing weight λ from a symmetric Beta distribution (Zhang, Cisse, Dauphin & "
                "Lopez-Paz, *mixup: Beyond Empirical Risk Minimization*, ICLR 2018). As **α → 0** the mass moves "
                "to **{0, 1}** (most pairs are barely mixed), **α = 1** is **uniform**, and **large α** "
                "concentrates λ at **½**.")
    cols = st.columns((3, 1, 1)) if not lecture else [st.container()]
    alpha = cols[0].select_slider("α of Beta(α, α)", ALPHAS, value=1.0, format_func=fmt, key="theory_alpha")
    if lecture:
        seed, n_samples = 0, 2000
    else:
        with cols[1]:
            seed = controls.seed("theory", reroll=False, share=False)
        n_samples = cols[2].select_slider("Samples", SAMPLE_COUNTS, value=2000, key="theory_samples")
    draws = theory.beta_samples(alpha, n_samples, seed)
    st.plotly_chart(beta_figure(alpha, draws, height=int(380 * tall(lecture))), key="theory_beta_chart")
    st.caption(f"Red: the density of Beta({alpha:g}, {alpha:g}) (scipy.stats.beta). Blue: a histogram of "
               f"{n_samples} draws, made as every method in mixviz draws λ (seeded uniforms through the inverse "
               f"CDF). P(λ < 0.1 or λ > 0.9) = {theory.beta_edge_mass(alpha):.3f}; mean of the draws "
               f"{draws.mean():.3f}.")


@errors_shown("The smoothed label")
def smoothing_section(inputs: Inputs) -> None:
    lecture = inputs.lecture
    st.header("Label smoothing")
    st.markdown("Label smoothing (Szegedy et al., *Rethinking the Inception Architecture for Computer Vision*, "
                "CVPR 2016) moves a share ε of every target to a uniform distribution over the K classes, so the "
                "network is never asked for a probability of exactly 1. A mixed label (λ < 1 below) is smoothed "
                "the same way.")
    st.latex(r"\tilde y = (1 - \varepsilon)\, y + \frac{\varepsilon}{K}")
    cols = st.columns(2 if lecture else 3)
    eps = cols[0].slider("ε", 0.0, 0.5, 0.1, 0.01, key="theory_eps")
    k = cols[1].select_slider("Classes K", CLASS_COUNTS, value=10, key="theory_classes")
    lam = 1.0 if lecture else cols[2].slider("λ of the label (1: one-hot)", 0.0, 1.0, 1.0, 0.05, key="theory_label_lam")
    first, second = inputs.names[:2]
    if second == first:
        second = f"{second} (2)"
    label = {first: lam} if lam >= 1 else {first: lam, second: round(1 - lam, 10)}
    bars = theory.smoothing_bars(label, eps, k)
    chart, words = st.columns((3, 2), vertical_alignment="center")
    chart.plotly_chart(smoothing_figure(bars, eps, height=int(320 * tall(lecture))), key="theory_smoothing_chart")
    rest = (f"each of the other {bars.others} classes gets ε/K = {eps / k:.4g}" if bars.others
            else "there are no other classes")
    words.markdown(f"With K = {k}, the label's classes keep (1 − ε)·y + ε/K and {rest}; the weights still sum "
                   f"to 1. The largest target goes from {max(bars.target):.3g} to {max(bars.smoothed):.3g}. "
                   "Cross-entropy against a target below 1 is smallest at finite logits, so the network is no "
                   "longer pushed to grow them without bound.")


@errors_shown("Empirical and vicinal risk")
def risk_section() -> None:
    st.header("Empirical and vicinal risk")
    st.markdown("Training by **empirical risk minimisation** (ERM) minimises the average loss on the n training "
                "points. Nothing in that objective speaks about the space *between* the points, and a network large "
                "enough to memorise them is free to do anything there, including being very sure far from the data.")
    st.latex(theory.ERM_LATEX)
    st.markdown("**Vicinal risk minimisation** (Chapelle, Weston, Bottou & Vapnik, *Vicinal Risk Minimization*, "
                "NIPS 2000) replaces each training point by a distribution ν around it, its *vicinity*, and minimises "
                "the expected loss over those vicinities. The choice of ν is a prior about the data.")
    st.latex(theory.VRM_LATEX)
    st.markdown("Chapelle et al. used Gaussian vicinities, which is training on noisy copies with the same label:")
    st.latex(theory.GAUSS_LATEX)
    st.markdown("mixup's vicinity is the segment between a point and another random training point, of any class, "
                "with the label interpolated alike: it asks the model to behave linearly between examples.")
    st.latex(theory.MIXUP_LATEX)
    st.markdown("This is a useful bias, not a guarantee: mixed inputs need not look like real data, and a mixed label "
                "can be wrong for the mixed input where the segment crosses a third class.")


@errors_shown("The toy figure")
def toy_section(lecture: bool) -> None:
    st.header("The toy figure, live")
    st.markdown("Figure 1(b) of the mixup paper, redone here: two identical small MLPs (2 → 64 → 64 → 1, same "
                f"data, same initial weights, {theory.TOY_STEPS} full-batch Adam steps), one trained by ERM and one "
                "with mixup. Shading is p(y = 1 | x); the dotted line is p = ½.")
    cols = st.columns((3, 1)) if not lecture else [st.container()]
    toy_alpha = cols[0].select_slider("α for the mixup model", TOY_ALPHAS, value=1.0, format_func=fmt,
                                      key="theory_toy_alpha")
    if lecture:
        toy_seed = 0
    else:
        with cols[1]:
            toy_seed = controls.seed("theory_toy", "Data and weights seed", reroll=False, max_value=10_000, share=False)
    steps = int(theory.TOY_STEPS)
    bar = st.progress(0.0, text="Training…")
    # st.cache_data records the st calls made inside a cached function and replays them on a hit, where
    # a call on this bar (made outside the function) cannot be replayed. The reports therefore run in the
    # context from before the call, where no recording is active.
    outside = contextvars.copy_context()

    def report(start: float, text: str):
        return lambda f: outside.run(bar.progress, min(1.0, start + f / 2), text=text)

    try:
        erm = trained(None, toy_seed, steps, _progress=report(0.0, "Training the ERM model…"))
        mixed = trained(float(toy_alpha), toy_seed, steps,
                        _progress=report(0.5, f"Training the mixup model (α = {toy_alpha:g})…"))
    finally:
        bar.empty()  # also when training failed: the boundary then says why
    left, right = st.columns(2)
    for col, r, name in ((left, erm, "erm"), (right, mixed, "mixup")):
        # half a page wide: grow less in lecture mode, or the plane is drawn much taller than wide
        col.plotly_chart(toy_figure(r, height=480 if lecture else 430), key=f"theory_toy_{name}")
        col.caption(f"Training accuracy {100 * r.accuracy:.1f} %; mean |p − ½| over the plane "
                    f"{theory.confidence(r):.3f}; trained in {r.seconds:.1f} s.")
    st.caption("ERM fits the training points and is almost certain everywhere, even far from any data. "
               "With mixup the transition between the classes is gradual and the model is less sure away from "
               "the data. Green: class 0; orange: class 1.")
