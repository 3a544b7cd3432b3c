"""Metric computation time on a COCO-sized score matrix (40,504 × 80), against a per-class
scikit-learn loop.

DO_NOT_TRACK=1 python benchmarks/metrics_speed.py [--images 40504] [--classes 80] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.metrics import average_precision_score

from pvlr_kedro.pvlr.evaluation.metrics import multilabel_metrics

COCO_LABEL_DENSITY = 0.036  # labels per image / classes: 2.9 / 80


def best_of(repeats: int, function) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40504)
    parser.add_argument("--classes", type=int, default=80)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    targets = (rng.random((args.images, args.classes)) < COCO_LABEL_DENSITY).astype(int)
    scores = np.clip(0.3 * targets + rng.random(targets.shape) * 0.8, 0, 1).astype(np.float32)
    ours = best_of(args.repeats, lambda: multilabel_metrics(scores, targets))
    ours_top3 = best_of(args.repeats, lambda: multilabel_metrics(scores, targets, top_k=3))
    sklearn = best_of(
        args.repeats,
        lambda: [average_precision_score(targets[:, c], scores[:, c]) for c in range(args.classes)],
    )
    ap_ours = multilabel_metrics(scores, targets)["ap"]
    ap_sklearn = np.array(
        [average_precision_score(targets[:, c], scores[:, c]) for c in range(args.classes)]
    )
    print(
        json.dumps(
            {
                "shape": [args.images, args.classes],
                "multilabel_metrics_s": ours,
                "multilabel_metrics_top3_s": ours_top3,
                "sklearn_ap_loop_s": sklearn,
                "speedup": sklearn / ours,
                "max_ap_difference": float(np.abs(ap_ours - ap_sklearn).max()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
