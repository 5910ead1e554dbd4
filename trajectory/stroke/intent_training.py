"""Training and honest evaluation of :mod:`.intent_model` (used by ``scripts/train_intent.py`` and
``bench/bench_intent.py``; numpy/scipy only, deterministic for a given seed).

* **Data**: real strokes from a folder of ``<class>/<source>__<id>.json`` files (the development
  set), grouped by the person who drew them where the file name says (MMG user, HCIRA user, UCI
  subject, the single Tutorboard capture author; every Quick, Draw! stroke is its own author), plus
  strokes of the synthetic model (:mod:`.synthetic`).
* **Augmentation** (:func:`augment`): rotation, mirroring, scale, position, jitter, resampling in
  time to 10-3,000 points, dropped or rescaled timing, and splitting into two or three pieces -
  the invariances people need, so the model sees them rather than trusts them.
* **Model**: a tanh MLP fitted with L-BFGS on a weighted cross-entropy plus an L2 penalty; the
  temperature is fitted afterwards on cross-validated held-out logits of the real strokes.
* **Evaluation**: k-fold cross-validation with folds split by author (:func:`author_folds`); the
  model of each fold is trained only on the other folds' strokes (and their augmentations).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from .features import N_FEATURE_SAMPLES, measure
from .format import StrokeSet, parse_strokes
from .intent_model import FEATURE_NAMES, IntentModel, feature_vector
from .prepare import prepare

CLASSES = ("straight", "arc", "circle", "spiral", "zigzag", "freeform")  # = intent.INTENTS (no import cycle)


@dataclass(frozen=True)
class Example:
    """One real stroke: class, author group, file name and the stroke-set dict."""

    label: str
    group: str
    name: str
    data: dict


def author_of(name: str) -> str:
    """Author group of a development-set file name ``<source>__<id>.json``."""
    source, _, ident = name.removesuffix(".json").partition("__")
    patterns = {"mmg": r"^(\d+)-", "mmg_bowl": r"^(\d+)-", "hcira_jd4386": r"^(User\d+)",
                "hcira_klarubbio": r"^(s\d+)", "uci_pd_spiral": r"^(\w+?_[A-Z]_\d+)_"}
    if source == "tutorboard_capture":
        return "tutorboard_capture"
    m = re.match(patterns.get(source, r"^$x"), ident)
    if m is None:
        return f"{source}:{ident}"  # one author per stroke (Quick, Draw!)
    return f"{'mmg' if source.startswith('mmg') else source}:{m.group(1)}"


def load_examples(root: Path) -> list[Example]:
    """Every ``<class>/*.json`` under ``root`` (classes in :data:`CLASSES`), sorted by path."""
    import json

    out = []
    for label in CLASSES:
        for path in sorted((Path(root) / label).glob("*.json")):
            out.append(Example(label, author_of(path.name), path.name, json.loads(path.read_text(encoding="utf-8"))))
    if not out:
        raise FileNotFoundError(f"no strokes under {root}")
    return out


def author_folds(examples: Sequence[Example], k: int, seed: int) -> np.ndarray:
    """Fold index per example: whole author groups go to one fold, balancing every class's count
    (groups in a seeded random order, largest first, each to the fold it fills least)."""
    groups = sorted({e.group for e in examples})
    rng = np.random.default_rng(seed)
    order = [groups[i] for i in rng.permutation(len(groups))]
    counts = {g: np.zeros(len(CLASSES)) for g in groups}
    for e in examples:
        counts[e.group][CLASSES.index(e.label)] += 1
    order.sort(key=lambda g: -counts[g].sum())  # stable: ties keep the random order
    totals = sum(counts.values())
    fill = np.zeros((k, len(CLASSES)))
    where = {}
    for g in order:
        share = (fill + counts[g]) / np.maximum(totals, 1)
        j = int(np.argmin(share.max(axis=1) + 1e-3 * fill.sum(axis=1)))
        fill[j] += counts[g]
        where[g] = j
    return np.array([where[e.group] for e in examples])


# ---------------------------------------------------------------------------------------- augmentation


def _resample_in_time(p: np.ndarray, n: int) -> np.ndarray:
    """``n`` points taken uniformly in sample order (linear interpolation), like another sampling rate."""
    u = np.linspace(0.0, len(p) - 1.0, n)
    return np.column_stack([np.interp(u, np.arange(len(p)), p[:, j]) for j in range(p.shape[1])])


def augment(data: dict, rng: np.random.Generator) -> dict:
    """A randomly transformed copy of a one-stroke stroke-set dict (see the module docstring)."""
    w, h = data["canvas"]["width"], data["canvas"]["height"]
    p = np.concatenate([np.asarray(s["points"], dtype=np.float64)[:, :3] for s in data["strokes"]
                        if s.get("role", "camera") == "camera"])
    if p.shape[1] == 2:
        p = np.column_stack([p, np.arange(len(p)) * 16.0])
    xy = p[:, :2] - p[:, :2].mean(axis=0)
    th = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(th), np.sin(th)], [-np.sin(th), np.cos(th)]])
    xy = xy @ rot * (np.array([1.0, -1.0]) if rng.random() < 0.5 else 1.0)
    size = max(float(np.ptp(xy, axis=0).max()), 1e-9)
    side = min(w, h)
    xy *= np.exp(rng.uniform(np.log(0.15), np.log(0.9))) * side / size
    size = float(np.ptp(xy, axis=0).max())
    if rng.random() < 0.5:
        xy += rng.normal(0, rng.uniform(0.002, 0.012) * size, xy.shape)
    xy += np.array([w, h]) / 2 + rng.uniform(-0.2, 0.2, 2) * np.array([w, h]) * (1 - size / side)
    p = np.column_stack([xy, (p[:, 2] - p[0, 2]) * np.exp(rng.uniform(np.log(0.25), np.log(4.0)))])
    if rng.random() < 0.6:
        p = _resample_in_time(p, int(np.exp(rng.uniform(np.log(10), np.log(3000)))))
    if rng.random() < 0.5:
        p[:, :2] = np.round(p[:, :2])
    pieces = [p]
    n_pieces = int(rng.choice([1, 2, 3], p=[0.6, 0.25, 0.15]))
    if n_pieces > 1 and len(p) >= 6 * n_pieces:
        cuts = np.sort(rng.choice(np.arange(2, len(p) - 2), n_pieces - 1, replace=False))
        pieces = [c for c in np.split(p, cuts) if np.ptp(c[:, :2], axis=0).max() > 0.01]
    timed = rng.random() < 0.7
    strokes = [{"points": (c if timed else c[:, :2]).tolist(), "role": "camera"} for c in pieces]
    return {"version": 1, "canvas": {"width": w, "height": h}, "strokes": strokes}


def stroke_features(ss: StrokeSet) -> np.ndarray:
    """The model input of a stroke set (prepare + measure + feature_vector)."""
    p = prepare(ss, N_FEATURE_SAMPLES)
    return feature_vector(measure(p.xy, p.s)[0])


def featurize(datas: Sequence[dict]) -> np.ndarray:
    """Feature vectors ``[N, F]`` of stroke-set dicts; a dict that does not parse is an error."""
    return np.stack([stroke_features(parse_strokes(d)) for d in datas]) if datas else np.zeros((0, len(FEATURE_NAMES)))


# ---------------------------------------------------------------------------------------- fitting


def _unpack(theta: np.ndarray, n_f: int, n_h: int, n_c: int) -> tuple[np.ndarray, ...]:
    i = 0
    out = []
    for shape in ((n_f, n_h), (n_h,), (n_h, n_c), (n_c,)):
        size = int(np.prod(shape))
        out.append(theta[i:i + size].reshape(shape))
        i += size
    return tuple(out)


def _loss(theta: np.ndarray, x: np.ndarray, y1: np.ndarray, wt: np.ndarray, l2: float, n_h: int) -> tuple[float, np.ndarray]:
    """Weighted mean cross-entropy + l2 * |weights|^2 (biases free), and its gradient."""
    w1, b1, w2, b2 = _unpack(theta, x.shape[1], n_h, y1.shape[1])
    h = np.tanh(x @ w1 + b1)
    z = h @ w2 + b2
    z = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1, keepdims=True))
    logp = z - lse
    loss = -float((wt * (y1 * logp).sum(axis=1)).sum()) + l2 * float((w1 * w1).sum() + (w2 * w2).sum())
    dz = (np.exp(logp) - y1) * wt[:, None]
    gw2 = h.T @ dz + 2 * l2 * w2
    dh = (dz @ w2.T) * (1 - h * h)
    gw1 = x.T @ dh + 2 * l2 * w1
    grad = np.concatenate([gw1.ravel(), dh.sum(0), gw2.ravel(), dz.sum(0)])
    return loss, grad


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, *, hidden: int = 16, l2: float = 1e-3,
        seed: int = 0, max_iter: int = 5000) -> IntentModel:
    """An :class:`IntentModel` (temperature 1) fitted on features ``x [N, F]``, class indices ``y``
    and sample weights (normalised to sum 1 inside)."""
    mean = x.mean(axis=0)
    scale = np.maximum(x.std(axis=0), 1e-6)
    xs = (x - mean) / scale
    y1 = np.eye(len(CLASSES))[y]
    wt = weight / weight.sum()
    rng = np.random.default_rng(seed)
    n_f, n_c = x.shape[1], len(CLASSES)
    theta0 = np.concatenate([rng.normal(0, 1 / np.sqrt(n_f), n_f * hidden), np.zeros(hidden),
                             rng.normal(0, 1 / np.sqrt(hidden), hidden * n_c), np.zeros(n_c)])
    res = minimize(_loss, theta0, args=(xs, y1, wt, l2, hidden), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": 1e-10, "ftol": 0.0})
    w1, b1, w2, b2 = _unpack(res.x, n_f, hidden, n_c)
    return IntentModel(CLASSES, FEATURE_NAMES, mean, scale, w1.copy(), b1.copy(), w2.copy(), b2.copy())


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the cross-entropy of held-out logits (searched in log space, 0.2-5)."""
    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(np.log(0.2), np.log(5.0)), method="bounded").x))


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE of the top-class confidence: sum over equal-width confidence bins of |accuracy - confidence| x share."""
    conf = proba.max(axis=1)
    hit = proba.argmax(axis=1) == y
    b = np.minimum((conf * bins).astype(int), bins - 1)
    ece = 0.0
    for i in range(bins):
        m = b == i
        if m.any():
            ece += m.mean() * abs(float(hit[m].mean()) - float(conf[m].mean()))
    return float(ece)


def confusion(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Confusion matrix ``[true, predicted]`` over :data:`CLASSES`."""
    m = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
    np.add.at(m, (y, pred), 1)
    return m


# ---------------------------------------------------------------------------------------- recipe


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the weights (the defaults are the shipped model's)."""

    seed: int = 20261201
    augment_per_stroke: int = 8  #: augmented copies of every real stroke
    synthetic_per_class: int = 150  #: synthetic strokes per class (seed ``seed``)
    hidden: int = 16
    l2: float = 1e-3
    folds: int = 5


@dataclass(frozen=True)
class Dataset:
    """Features of the real strokes, their augmentations (``aug_of`` = index of the real stroke)
    and the synthetic strokes, with class indices."""

    x_real: np.ndarray
    y_real: np.ndarray
    x_aug: np.ndarray
    aug_of: np.ndarray
    x_syn: np.ndarray
    y_syn: np.ndarray


def build_dataset(examples: Sequence[Example], recipe: Recipe, progress: bool = False) -> Dataset:
    """Featurise the real strokes, ``recipe.augment_per_stroke`` augmentations of each and the
    synthetic corpus; every random choice is seeded by ``(recipe.seed, stroke, copy)``."""
    from .synthetic import generate_corpus

    def say(msg: str) -> None:
        if progress:
            print(msg, flush=True)

    say(f"features of {len(examples)} real strokes")
    x_real = featurize([e.data for e in examples])
    y_real = np.array([CLASSES.index(e.label) for e in examples])
    say(f"features of {recipe.augment_per_stroke} augmentations each")
    aug = [(i, augment(e.data, np.random.default_rng([recipe.seed, i, a])))
           for i, e in enumerate(examples) for a in range(recipe.augment_per_stroke)]
    x_aug = featurize([d for _, d in aug])
    aug_of = np.array([i for i, _ in aug], dtype=int)
    say(f"features of {recipe.synthetic_per_class} synthetic strokes per class")
    syn = generate_corpus(recipe.synthetic_per_class, recipe.seed)
    x_syn = np.stack([stroke_features(ss) for _, ss in syn])
    y_syn = np.array([CLASSES.index(k) for k, _ in syn])
    return Dataset(x_real, y_real, x_aug.reshape(-1, len(FEATURE_NAMES)), aug_of, x_syn, y_syn)


def fit_on(ds: Dataset, real: np.ndarray, recipe: Recipe) -> IntentModel:
    """Model fitted on the real strokes selected by the boolean mask ``real``, their augmentations
    and all synthetic strokes (every stroke weight 1)."""
    sel_aug = real[ds.aug_of]
    x = np.vstack([ds.x_real[real], ds.x_aug[sel_aug], ds.x_syn])
    y = np.concatenate([ds.y_real[real], ds.y_real[ds.aug_of[sel_aug]], ds.y_syn])
    return fit(x, y, np.ones(len(y)), hidden=recipe.hidden, l2=recipe.l2, seed=recipe.seed)


def cross_validated_logits(ds: Dataset, folds: np.ndarray, recipe: Recipe) -> np.ndarray:
    """Held-out logits ``[N_real, C]``: each fold's strokes scored by a model trained without that fold."""
    out = np.zeros((len(ds.y_real), len(CLASSES)))
    for k in range(int(folds.max()) + 1):
        held = folds == k
        out[held] = fit_on(ds, ~held, recipe).logits(ds.x_real[held])
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def calibrated_cv_proba(logits: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Honest held-out probabilities: the temperature applied to fold ``k`` is fitted on the
    cross-validated logits of the other folds only."""
    out = np.zeros_like(logits)
    for k in range(int(folds.max()) + 1):
        held = folds == k
        out[held] = softmax(logits[held] / fit_temperature(logits[~held], y[~held]))
    return out


def train(examples: Sequence[Example], recipe: Recipe = Recipe(), progress: bool = False,
          ds: Dataset | None = None) -> tuple[IntentModel, dict]:
    """The shipped model (all real strokes + augmentations + synthetic, temperature from the
    cross-validated logits) and a report of its cross-validation (per-class accuracy, confusion,
    ECE before and after temperature scaling). ``ds``: the :func:`build_dataset` of the same
    examples and recipe, when the caller has it."""
    ds = build_dataset(examples, recipe, progress) if ds is None else ds
    folds = author_folds(examples, recipe.folds, recipe.seed)
    if progress:
        print(f"{recipe.folds}-fold cross-validation by author", flush=True)
    logits = cross_validated_logits(ds, folds, recipe)
    t = fit_temperature(logits, ds.y_real)
    if progress:
        print("final fit", flush=True)
    final = fit_on(ds, np.ones(len(ds.y_real), dtype=bool), recipe)
    model = replace(final, temperature=t)
    return model, cv_report(logits, ds.y_real, folds)


def cv_report(logits: np.ndarray, y: np.ndarray, folds: np.ndarray) -> dict:
    """Per-class accuracy, macro accuracy, confusion and ECE (raw, and with per-fold temperature)."""
    proba = calibrated_cv_proba(logits, y, folds)
    pred = proba.argmax(axis=1)
    per_class = {k: float(np.mean(pred[y == i] == i)) for i, k in enumerate(CLASSES)}
    return {"per_class": per_class, "macro": float(np.mean(list(per_class.values()))),
            "confusion": confusion(y, pred).tolist(), "ece_raw": expected_calibration_error(softmax(logits), y),
            "ece": expected_calibration_error(proba, y), "folds": int(folds.max()) + 1,
            "strokes_per_fold": [int(np.sum(folds == k)) for k in range(int(folds.max()) + 1)]}


def source_of(name: str) -> str:
    """Source tag of a development-set file name ``<source>__<id>.json``."""
    return name.partition("__")[0]


def leave_source_out(examples: Sequence[Example], ds: Dataset, recipe: Recipe) -> list[tuple[str, str, int, float]]:
    """A harder check of generalisation: for each source, a model trained without any of its
    strokes (nor their augmentations) reads them. Rows ``(source, class, n, accuracy)``."""
    sources = np.array([source_of(e.name) for e in examples])
    rows = []
    for s in sorted(set(sources)):
        held = sources == s
        pred = fit_on(ds, ~held, recipe).logits(ds.x_real[held]).argmax(axis=1)
        y = ds.y_real[held]
        for i, k in enumerate(CLASSES):
            if np.any(y == i):
                rows.append((s, k, int(np.sum(y == i)), float(np.mean(pred[y == i] == i))))
    return rows
