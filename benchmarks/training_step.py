"""Training-step time: post- vs pre-interaction CAP (paper Table 7), and PVLR vs the backbone alone.

Usage (CPU-sized defaults; on a GPU try --backbone RN101 --image-size 448 --batch-size 64
--classes 80 --device cuda, the paper's setting):

    DO_NOT_TRACK=1 python benchmarks/training_step.py [--backbone pvlr-tiny-rn] [--image-size 64] ...

"Backbone alone" is the Label Rep. baseline (no KAP, CAP, IFM, DMA): the image tower, GAP
and a similarity to fixed label embeddings, i.e. the step cost without the PVLR head.
Prints one JSON object with seconds per step and the ratios.
"""

from __future__ import annotations

import argparse
import json

import torch

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.timing import time_training_step

BACKBONE_ALONE = {"kap": False, "cap": "none", "channel_interaction": False, "relation_aggregation": False,
                  "v2s": False, "s2v": False}
VARIANTS = {"post_interaction": {"cap": "soft"}, "pre_interaction": {"cap": "pre_interaction"},
            "backbone_alone": BACKBONE_ALONE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="pvlr-tiny-rn")
    parser.add_argument("--pretrained", default=None)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--classes", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    names = [f"class {i}" for i in range(args.classes)]
    seconds = {}
    for variant, delta in VARIANTS.items():
        params = {"backbone": args.backbone, "pretrained": args.pretrained, "image_size": args.image_size, **delta}
        model = build_model(params, names).to(args.device)
        seconds[variant] = time_training_step(model, args.batch_size, args.image_size, steps=args.steps)
    report = {
        "setting": vars(args), "threads": torch.get_num_threads(), "seconds_per_step": seconds,
        "pre_over_post": seconds["pre_interaction"] / seconds["post_interaction"],
        "pvlr_over_backbone_alone": seconds["post_interaction"] / seconds["backbone_alone"],
        "paper_table7": {"pre_interaction": 2.40, "post_interaction": 0.41, "ratio": 2.40 / 0.41},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
