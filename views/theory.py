"""Theory: where λ comes from (Beta(α, α)), label smoothing, ERM vs vicinal risk, the mixup paper's toy
figure trained live, its corrupted-label experiment (Table 2) and gradients between training points
(Figure 2) on the 8×8 digits, and two methods explained without a demo. The maths and the figures are in
mixviz.theory, mixviz.memorise and mixviz.viz.theory."""
from __future__ import annotations

import contextvars
import math
import threading

import streamlit as st

from mixviz import memorise, theory
from mixviz.viz.theory import beta_figure, between_figure, memorise_figure, smoothing_figure, toy_figure
from ui import controls
from ui.errors import errors_shown
from ui.sidebar import Inputs, current

ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0)
SAMPLE_COUNTS = (100, 500, 1000, 2000, 5000, 20000)
CLASS_COUNTS = (2, 3, 5, 10, 100, 1000)
TOY_ALPHAS = (0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
MEMORISE_CONFIG = memorise.CONFIG   # the page's network and epochs (tests set a smaller one)
MEMORISE_SEEDS = memorise.SEEDS
_TRAINING = threading.Lock()        # one training at a time on this server: a second Train waits, then finds it


def render() -> None:
    inputs = current()
    st.title("Theory")
    st.markdown("Where mixup's λ comes from, what label smoothing does to a target, why mixing is a *vicinal* "
                "risk, the mixup paper's toy figure, trained here while you watch, what mixup does to a network that "
                "could memorise wrong labels, and two newer methods explained.")
    beta_section(inputs.lecture)
    smoothing_section(inputs)
    risk_section()
    toy_section(inputs.lecture)
    memorise_section(inputs.lecture)
    gradients_section(inputs.lecture)
    not_run_section(inputs.lecture)


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


# ---------------------------------------------------------------- corrupted labels and gradients (mixviz.memorise)

@st.cache_resource(show_spinner=False)
def _memorise_store() -> dict:
    """Trained models by setting, shared by every session of this server: each setting trains once (Train), and
    every later run, of any session, shows it. A handful of settings, about 1 MB each."""
    return {}


def _settings() -> list[tuple]:
    return [(share, memorise.table2_alpha(share), tuple(MEMORISE_SEEDS), MEMORISE_CONFIG)
            for share in memorise.CORRUPTIONS]


def _memorised(key: str) -> list[tuple[memorise.Memorised, memorise.Between]] | None:
    """The trained models of every corruption share, with their gradients between training points: from the
    store, or trained now (with a progress bar) when the Train button `key` is pressed; None until then."""
    store, settings = _memorise_store(), _settings()
    missing = [s for s in settings if s not in store]
    if missing:  # once trained, no button: the results below come from this server's store
        slot = st.empty()
        if not slot.button("Train", key=key, type="primary", icon=":material/model_training:",
                           help="ERM and mixup models for every corruption share, several seeds each (about 20 s)"):
            return None
        bar = st.progress(0.0, text="Training…")
        try:
            if not _TRAINING.acquire(blocking=False):
                bar.progress(0.0, text="Waiting for a training another session started on this server…")
                _TRAINING.acquire()
            try:
                for k, setting in enumerate(missing):
                    if setting in store:  # trained meanwhile, in another session
                        continue
                    share, alpha, seeds, config = setting
                    text = (f"Training ERM and mixup (α = {alpha:g}) on {100 * share:g} % corrupted labels, "
                            f"{len(seeds)} seeds ({k + 1}/{len(missing)})…")

                    def report(f: float, k: int = k, text: str = text) -> None:
                        bar.progress(min(1.0, (k + f) / len(missing)), text=text)

                    report(0.0)
                    result = memorise.train(share, alpha, seeds, config, progress=report)
                    store[setting] = (result, memorise.between(result))
            finally:
                _TRAINING.release()
            slot.empty()  # trained: nothing left for the button to do
        finally:
            bar.empty()  # also when training failed: the boundary then says why
    return [store[s] for s in settings]


def _pct(mean_std: tuple[float, float]) -> str:
    mean, std = mean_std
    return "—" if math.isnan(mean) else f"{mean:.1f} ± {std:.1f}"


@errors_shown("Memorising corrupted labels")
def memorise_section(lecture: bool = False) -> None:
    st.header("Memorising corrupted labels")
    data, hidden = memorise.digits(), MEMORISE_CONFIG.hidden
    n_train = min(MEMORISE_CONFIG.n_train or len(data.y_train), len(data.y_train))
    st.markdown("A network large enough can fit *any* labels, random ones included, and then generalises worse. "
                "The mixup paper (Zhang et al., ICLR 2018, Table 2) replaced 20 %, 50 % or 80 % of CIFAR-10's "
                "training labels with random ones: ERM ended up fitting almost every wrong label, mixup very few, "
                "and mixup's test error stayed far lower. Here the same experiment in miniature: scikit-learn's 8×8 "
                f"digits ({n_train} training, {len(data.y_test)} test images), a 64 → {hidden} → {hidden} → 10 MLP "
                "trained by ERM and by mixup from the same initial weights and batch order, "
                f"{MEMORISE_CONFIG.epochs} epochs of Adam, {len(MEMORISE_SEEDS)} seeds.")
    st.markdown("**The corruption**, as the paper's: exactly that share of the training labels, chosen at random, is "
                "replaced by a label drawn uniformly over **all** ten classes (so about one in ten keeps its class). "
                "**mixup** as the paper's algorithm: one λ ~ Beta(α, α) per batch, each image mixed with a random "
                "partner from the batch, one-hot labels mixed alike, with Table 2's α: 8 at 20 %, 32 at 50 % "
                "(α = 1 at 0 %, the paper's α on clean data).")
    st.latex(memorise.FIT_LATEX)
    found = _memorised("theory_memorise_train")
    if found is None:
        st.info("Press **Train** to train the models here (about 20 s on two cores; later runs show the result "
                "at once).")
        return
    results = [r for r, _ in found]
    st.plotly_chart(memorise_figure(results, height=int(620 * tall(lecture))), key="theory_memorise_chart")
    st.caption("Top: test error. Bottom: training accuracy on the labels as given: solid on the corrupted examples "
               "(their wrong label), dashed on the others; dotted grey, the share of replaced labels that drew "
               f"their true class, where a model that ignores the corruption lands. Lines: the mean of "
               f"{len(MEMORISE_SEEDS)} seeds; bands: their minimum to maximum.")
    rows = [row for r in results for row in memorise.table2(r)]
    st.table([{"Label corruption": f"{100 * row.corruption:g} %", "Method": row.method,
               "Test error, best": _pct(row.best), "Test error, last": _pct(row.last),
               "Training error, real": _pct(row.real), "Training error, corrupted": _pct(row.corrupted)}
              for row in rows])
    worst = results[-1]
    erm_fit, mix_fit = (100 * worst.fit_corrupted[k, :, -1].mean() for k in range(2))
    erm_test, mix_test = (100 * worst.test_error[k, :, -1].mean() for k in range(2))
    st.caption(f"In %, mean ± standard deviation over the seeds, as the paper's Table 2 (best: the lowest test error "
               f"over the epochs; last: at the end). Measured here at {100 * worst.corruption:g} %: ERM fits "
               f"{erm_fit:.0f} % of the corrupted labels and mixup {mix_fit:.0f} %; test error at the end "
               f"{erm_test:.1f} % against {mix_test:.1f} %. Trained in "
               f"{sum(r.seconds for r in results):.0f} s on this server.")


@errors_shown("Gradients between training points")
def gradients_section(lecture: bool = False) -> None:
    st.header("Gradients between training points")
    st.markdown("mixup asks the network to behave linearly between training examples. The paper checks it on the "
                "trained models (Zhang et al., ICLR 2018, Figure 2): at points between two training images, (a) "
                "how often the prediction is neither of their two classes, and (b) the norm of the gradient of the "
                f"loss with respect to the input. Here on the models trained above, at {memorise.PAIRS} random pairs of "
                "training images per seed:")
    st.latex(memorise.BETWEEN_LATEX)
    found = _memorised("theory_gradients_train")
    if found is None:
        st.info("Press **Train** (here or in the section above) to train the models.")
        return
    by_share = {r.corruption: b for r, b in found}
    share = st.segmented_control("Models trained on", list(by_share), default=list(by_share)[0],
                                 format_func=lambda c: f"{100 * c:g} % corrupted labels", key="theory_gradients_share")
    b = by_share[list(by_share)[0] if share is None else share]
    st.plotly_chart(between_figure(b, height=int(380 * tall(lecture))), key="theory_gradients_chart")
    mid = len(b.lams) // 2
    erm, mixed = b.grad_norm[:, :, mid].mean(1)
    st.caption(f"ℓ is the cross-entropy against the mixed label; y are the labels the models were trained on (at a "
               f"corrupted share, the wrong ones too: misses at λ = 0 and 1 are then the wrong labels not fitted). "
               f"At λ = ½: gradient norm {erm:.2f} for ERM and {mixed:.2f} for mixup (α = {b.alpha:g}); "
               f"{100 * b.miss[0, :, mid].mean():.1f} % and {100 * b.miss[1, :, mid].mean():.1f} % misses. Lines: "
               f"the mean of {b.grad_norm.shape[1]} seeds; bands: their minimum to maximum.")


TL_ALIGN_INIT = (r"y_{\mathrm{cls}}^{(0)} = \lambda\, y_A + (1 - \lambda)\, y_B, \qquad "
                 r"y_i^{(0)} = m_i\, y_A + (1 - m_i)\, y_B,\; m_i \in \{0, 1\}")
TL_ALIGN_LAYER = (r"Y^{(l+1)} = \tfrac{1}{2}\left(\bar A^{(l)}\, Y^{(l)} + Y^{(l)}\right), \qquad "
                  r"\bar A^{(l)} = \frac{1}{H} \sum_{h=1}^{H} A_h^{(l)}")
TRANSFORMMIX_IMAGE = r"\tilde x = M \odot T_{\theta_A}(x_A) + (1 - M) \odot T_{\theta_B}(x_B)"


@errors_shown("Methods we can explain but not run")
def not_run_section(lecture: bool = False) -> None:
    st.header("Methods we can explain but not run")
    st.subheader("TL-Align: token-label alignment for vision transformers")
    st.markdown("Xiao, Zheng, Zhu, Zhou & Lu, *Token-Label Alignment for Vision Transformers* (ICCV 2023). CutMix "
                "gives a mixed image the label $\\lambda y_A + (1 - \\lambda) y_B$, λ the area of A. In a vision transformer, "
                "self-attention mixes the tokens again at every layer and not in that ratio (the authors call it "
                "*token fluctuation*), so the token that classifies may hold a different mix than λ. TL-Align gives "
                "every token its own label: a patch token starts with the label of the image its patch comes from (the "
                "authors' CutMix cuts whole patches, so $m_i$ is 0 or 1), the class token with the mixed label. Each "
                "attention layer carries the labels along with its own attention weights, averaged over the heads, and "
                "the result is averaged with the labels it started from, for the residual connection (below, as the "
                "authors' code does it); the MLP, which acts on each token alone, leaves a token's label as it is. The "
                "label the class token has at the end is the training target. It reuses attention already computed, so "
                "it costs almost nothing.")
    st.latex(TL_ALIGN_INIT)
    st.latex(TL_ALIGN_LAYER)
    st.subheader("TransformMix: learned transformations and mixing masks")
    st.markdown("Cheung & Yeung, *TransformMix: Learning Transformation and Mixing Strategies from Data* (ICLR 2024). "
                "Mixup and CutMix mix blindly, the same way on every dataset. TransformMix learns how to mix: a small "
                "mixing module looks at the saliency maps of the two images (from a network already trained on the "
                "dataset), and outputs for each image a spatial transformation $T_\\theta$ that moves and scales its "
                "important region, and a mask $M$ that says which pixels come from which transformed image; the label "
                "is mixed in the proportions the mask gives the two images. The module is trained once per dataset "
                "and then used as a fixed augmentation to train new models.")
    st.latex(TRANSFORMMIX_IMAGE)
    st.info("No live demo: TL-Align needs a trained vision transformer's attention, and no pretrained vision "
            "transformer ships with this app offline; TransformMix needs its trained mixing module, and no public "
            "TransformMix code or weights can be reached offline here.")
