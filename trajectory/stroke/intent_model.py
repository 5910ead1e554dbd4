"""The learned part of the intent classifier: feature vector and a small MLP over it.

:func:`feature_vector` turns the invariant features of :mod:`.features` into a fixed-length
vector (each feature clipped and, where it spans decades, log-scaled, so a wild value cannot
dominate); :class:`IntentModel` is a one-hidden-layer tanh MLP with a softmax over
:data:`~.intent.INTENTS` and a temperature fitted on cross-validated held-out predictions.
Its weights live in ``intent_weights.json`` beside this file and are produced, reproducibly, by
``scripts/train_intent.py`` (see :mod:`.intent_training`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

WEIGHTS_PATH = Path(__file__).with_name("intent_weights.json")

#: (feature name, transform, low clip, high clip); "abs" takes |x| first, "log" log10(max(x, low)).
FEATURES: tuple[tuple[str, str, float, float], ...] = (
    ("straightness", "lin", 0.0, 1.0),
    ("dev_max", "lin", 0.0, 0.6),
    ("dev_two_sided", "lin", 0.0, 1.0),
    ("heading_rms_deg", "lin", 0.0, 120.0),
    ("winding", "abs", 0.0, 5.0),
    ("circle_resid", "log", 1e-3, 1.0),
    ("ellipse_resid", "log", 1e-3, 1.0),
    ("ellipse_ratio", "lin", 0.0, 1.0),
    ("ellipse_winding", "abs", 0.0, 5.0),
    ("spiral_winding", "abs", 0.0, 6.0),
    ("spiral_resid", "log", 1e-3, 1.0),
    ("radius_slope", "abs", 0.0, 2.0),
    ("alt_corners", "lin", 0.0, 8.0),
    ("sharpness", "lin", 0.0, 1.0),
    ("kinks", "lin", 0.0, 4.0),
    ("leg_dev", "log", 1e-3, 1.0),
    ("turn_abs", "log", 0.02, 20.0),
    ("turn_net", "lin", 0.0, 6.0),
    ("turn_peak", "lin", 0.0, 1.0),
    ("bends", "log", 1.0, 30.0),
    ("axis_ratio", "lin", 0.0, 1.0),
    ("end_gap", "lin", 0.0, 1.0),
)
FEATURE_NAMES = tuple(name for name, *_ in FEATURES)


def feature_vector(f: dict[str, float]) -> np.ndarray:
    """The model's input ``[len(FEATURES)]`` from a feature dict (NaN counts as the low clip)."""
    out = np.empty(len(FEATURES))
    for i, (name, kind, lo, hi) in enumerate(FEATURES):
        v = float(f[name])
        v = lo if v != v else (abs(v) if kind == "abs" else v)
        v = min(max(v, lo), hi)
        out[i] = np.log10(v) if kind == "log" else v
    return out


@dataclass(frozen=True)
class IntentModel:
    """``p = softmax((tanh(((x - mean) / scale) @ w1 + b1) @ w2 + b2) / temperature)``."""

    classes: tuple[str, ...]
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    temperature: float = 1.0

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated logits ``[..., n_classes]`` of feature vectors ``x [..., n_features]``."""
        h = np.tanh(((np.asarray(x, dtype=np.float64) - self.mean) / self.scale) @ self.w1 + self.b1)
        return h @ self.w2 + self.b2

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities ``[..., n_classes]``."""
        z = self.logits(x) / self.temperature
        z = np.exp(z - z.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)

    def to_json(self) -> str:
        """The weights file's text: rounded to 7 significant digits, so reruns match byte for byte."""
        def r(a: np.ndarray) -> list:
            return np.vectorize(lambda v: float(f"{v:.7g}"), otypes=[float])(a).tolist()

        body = {"classes": list(self.classes), "features": list(self.features), "mean": r(self.mean),
                "scale": r(self.scale), "w1": r(self.w1), "b1": r(self.b1), "w2": r(self.w2), "b2": r(self.b2),
                "temperature": float(f"{self.temperature:.7g}")}
        return json.dumps(body, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> IntentModel:
        d = json.loads(text)
        arr = {k: np.asarray(d[k], dtype=np.float64) for k in ("mean", "scale", "w1", "b1", "w2", "b2")}
        model = cls(classes=tuple(d["classes"]), features=tuple(d["features"]), temperature=float(d["temperature"]),
                    **arr)
        n_f, n_h, n_c = len(model.features), len(model.b1), len(model.classes)
        shapes = {"mean": (n_f,), "scale": (n_f,), "w1": (n_f, n_h), "b1": (n_h,), "w2": (n_h, n_c), "b2": (n_c,)}
        for k, shape in shapes.items():
            if arr[k].shape != shape:
                raise ValueError(f"intent weights: {k} has shape {arr[k].shape}, expected {shape}")
        return model


@lru_cache(maxsize=4)
def load_model(path: Path = WEIGHTS_PATH) -> IntentModel:
    """The model stored at ``path`` (cached); checks it was trained on today's feature list."""
    model = IntentModel.from_json(Path(path).read_text(encoding="utf-8"))
    if model.features != FEATURE_NAMES:
        raise ValueError(f"{path} was trained on other features; rerun scripts/train_intent.py")
    return model
