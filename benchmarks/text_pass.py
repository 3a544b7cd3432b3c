"""CAP's text pass (post-interaction: the C soft prompts through the frozen text tower, forward and
backward to the context vectors) over the prompts' own length against the full 77 positions,
for COCO's 80 class names.

    DO_NOT_TRACK=1 python benchmarks/text_pass.py [--backbone RN101] [--steps 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from coco_like import coco_names

from pvlr_kedro.pvlr import build_model


def seconds_per_pass(model, steps: int) -> float:
    times = []
    for step in range(steps + 1):
        start = time.perf_counter()
        features = model.cap.prompt_features(None, model.text_encoder)  # C×d_text
        features.pow(2).sum().backward()
        if step:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="RN101")
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    classes = coco_names()
    assert len(classes) == 80
    result = {}
    for context in (77, None):
        torch.manual_seed(0)
        model = build_model(
            {
                "backbone": args.backbone,
                "pretrained": None,
                "image_size": 224,
                "text_context": context,
            },
            classes,
        )
        result[f"text_context={context}"] = {
            "positions": int(model.cap.name_ids.shape[1]),
            "seconds": seconds_per_pass(model, args.steps),
        }
    result["speed-up"] = (
        result["text_context=77"]["seconds"] / result["text_context=None"]["seconds"]
    )
    print(
        json.dumps(
            {
                "backbone": args.backbone,
                "classes": len(classes),
                "threads": torch.get_num_threads(),
                **result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
