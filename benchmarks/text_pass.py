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

from pvlr_kedro.pvlr import build_model

def names() -> list[str]:
    """The 80 names (the two-word ones rejoined)."""
    words = (
        "person|bicycle|car|motorcycle|airplane|bus|train|truck|boat|traffic light|fire hydrant|stop sign|"
        "parking meter|bench|bird|cat|dog|horse|sheep|cow|elephant|bear|zebra|giraffe|backpack|umbrella|handbag|tie|"
        "suitcase|frisbee|skis|snowboard|sports ball|kite|baseball bat|baseball glove|skateboard|surfboard|"
        "tennis racket|bottle|wine glass|cup|fork|knife|spoon|bowl|banana|apple|sandwich|orange|broccoli|carrot|"
        "hot dog|pizza|donut|cake|chair|couch|potted plant|bed|dining table|toilet|tv|laptop|mouse|remote|keyboard|"
        "cell phone|microwave|oven|toaster|sink|refrigerator|book|clock|vase|scissors|teddy bear|hair drier|toothbrush"
    )
    return words.split("|")


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
    classes = names()
    assert len(classes) == 80
    result = {}
    for context in (77, None):
        torch.manual_seed(0)
        model = build_model({"backbone": args.backbone, "pretrained": None, "image_size": 224, "text_context": context},
                            classes)
        result[f"text_context={context}"] = {"positions": int(model.cap.name_ids.shape[1]),
                                             "seconds": seconds_per_pass(model, args.steps)}
    result["speed-up"] = result["text_context=77"]["seconds"] / result["text_context=None"]["seconds"]
    print(json.dumps({"backbone": args.backbone, "classes": len(classes), "threads": torch.get_num_threads(),
                      **result}, indent=2))


if __name__ == "__main__":
    main()
