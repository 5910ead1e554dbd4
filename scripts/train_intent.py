"""Train the intent classifier's weights: ``trajectory/stroke/intent_weights.json``.

Data: the real human strokes of the development set (default ``../shared/strokes-dev`` beside the
repository; see its MANIFEST.md), eight augmented copies of each, and 150 synthetic strokes per
class; see :mod:`draw_to_video.trajectory.stroke.intent_training` for the recipe. Deterministic:
running it again on the same data writes the same bytes (BLAS is limited to one thread).

Run from the repository root: ``python scripts/train_intent.py [--data DIR] [--out FILE]``.
It prints the author-split cross-validation it used to fit the temperature.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported: reproducible sums

import argparse  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from draw_to_video.trajectory.stroke.intent_model import WEIGHTS_PATH  # noqa: E402
from draw_to_video.trajectory.stroke.intent_training import Recipe, load_examples, train  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "strokes-dev"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="development strokes, one folder per class")
    ap.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    args = ap.parse_args()
    model, report = train(load_examples(args.data), Recipe(), progress=True)
    args.out.write_text(model.to_json(), encoding="utf-8")
    print(json.dumps(report, indent=1))
    print(f"temperature {model.temperature:.4g}; wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
