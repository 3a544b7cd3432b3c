"""Training-step time on COCO's vocabulary: PVLR against the backbone alone, post- against
pre-interaction CAP (paper Table 7), and the text pass over the prompts' own length against the full
77 positions.

Usage (defaults: the paper's RN101 at 448 px, COCO's 80 names, a CPU-sized batch):

    DO_NOT_TRACK=1 python benchmarks/training_step.py [--backbone RN101] [--image-size 448]
        [--batch-size 8] [--device cpu]
        [--variants backbone_alone post_interaction post_interaction_77 ...]

"Backbone alone" is the Label Rep. baseline (no KAP, CAP, IFM, DMA): the image tower, GAP
and a similarity to fixed label embeddings, i.e. the step cost without the PVLR head.
``*_77`` variants run the text tower over all 77 positions (``model.text_context: 77``, the
pass before the cut); the others cut after the longest prompt (the default). Each step is
the training loop's own (``pvlr.engine.timing``), on random-init weights (the time does not depend
on them). Prints one JSON object with seconds and FLOPs per step, and the ratios.
"""

from __future__ import annotations

import argparse
import json

import torch
from coco_like import BACKBONE_ALONE, coco_names

from pvlr_kedro.pvlr import build_model
from pvlr_kedro.pvlr.engine.timing import time_training_step, training_step_flops
from pvlr_kedro.pvlr.engine.training import TrainConfig

VARIANTS = {
    "backbone_alone": BACKBONE_ALONE,
    "post_interaction": {"cap": "soft"},
    "post_interaction_77": {"cap": "soft", "text_context": 77},
    "pre_interaction": {"cap": "pre_interaction"},
    "pre_interaction_77": {"cap": "pre_interaction", "text_context": 77},
}


def step_figures(variant: str, args: argparse.Namespace, names: list[str]) -> tuple[float, int]:
    """(median seconds, FLOPs) of one training step of ``variant``."""
    torch.manual_seed(0)
    params = {
        "backbone": args.backbone,
        "pretrained": None,
        "image_size": args.image_size,
        **VARIANTS[variant],
    }
    model = build_model(params, names).to(args.device)
    train = TrainConfig(device=args.device)
    seconds = time_training_step(
        model, args.batch_size, args.image_size, steps=args.steps, train=train
    )
    return seconds, training_step_flops(model, args.batch_size, args.image_size, train=train)


def ratio(seconds: dict, a: str, b: str) -> float | None:
    return round(seconds[a] / seconds[b], 3) if a in seconds and b in seconds else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="RN101")
    parser.add_argument("--image-size", type=int, default=448)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--classes", type=int, default=80, help="the first N of COCO's names")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    names = coco_names()[: args.classes]
    figures = {variant: step_figures(variant, args, names) for variant in args.variants}
    seconds = {variant: value[0] for variant, value in figures.items()}
    report = {
        "setting": vars(args),
        "threads": torch.get_num_threads(),
        "seconds_per_step": {variant: round(value, 4) for variant, value in seconds.items()},
        "gflop_per_step": {variant: round(value[1] / 1e9, 1) for variant, value in figures.items()},
        "pvlr_over_backbone_alone": ratio(seconds, "post_interaction", "backbone_alone"),
        "pvlr_over_backbone_alone_at_77": ratio(seconds, "post_interaction_77", "backbone_alone"),
        "pre_over_post": ratio(seconds, "pre_interaction", "post_interaction"),
        "pre_over_post_at_77": ratio(seconds, "pre_interaction_77", "post_interaction_77"),
        "paper_table7": {
            "pre_interaction": 2.40,
            "post_interaction": 0.41,
            "ratio": round(2.40 / 0.41, 3),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
