"""What the benchmarks share: COCO's 80 class names, COCO-like JPEGs cut from real
photographs, and the model blocks they time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from sklearn.datasets import load_sample_images

# The backbone alone (Table 5's "Label Rep."): the project's preset, no KAP, CAP, IFM or DMA (read
# as plain YAML: importing Kedro's project settings would configure logging onto stdout)
PRESETS = Path(__file__).parents[1] / "conf/base/parameters_presets.yml"
BACKBONE_ALONE = yaml.safe_load(PRESETS.read_text())["presets"]["label_rep"]["model"]


def coco_names() -> list[str]:
    """MS-COCO's 80 class names, as the COCO reader gives them."""
    words = (
        "person|bicycle|car|motorcycle|airplane|bus|train|truck|boat|traffic light|fire hydrant|"
        "stop sign|parking meter|bench|bird|cat|dog|horse|sheep|cow|elephant|bear|zebra|giraffe|"
        "backpack|umbrella|handbag|tie|suitcase|frisbee|skis|snowboard|sports ball|kite|"
        "baseball bat|baseball glove|skateboard|surfboard|tennis racket|bottle|wine glass|cup|fork|"
        "knife|spoon|bowl|banana|apple|sandwich|orange|broccoli|carrot|hot dog|pizza|donut|cake|"
        "chair|couch|potted plant|bed|dining table|toilet|tv|laptop|mouse|remote|keyboard|"
        "cell phone|microwave|oven|toaster|sink|refrigerator|book|clock|vase|scissors|teddy bear|"
        "hair drier|toothbrush"
    )
    return words.split("|")


def coco_like_jpegs(folder: Path, count: int) -> list[str]:
    """``count`` 640×480 JPEGs (quality 90) in ``folder``, cut at varied offsets and scales from
    scikit-learn's two sample photographs (real photo content for the decoder); their file names."""
    photos = [Image.fromarray(array) for array in load_sample_images().images]  # 640×427 each
    rng = np.random.default_rng(0)
    names = []
    for n in range(count):
        photo = photos[n % len(photos)]
        scale = rng.uniform(1.2, 2.0)
        big = photo.resize((int(640 * scale), int(480 * scale)), Image.Resampling.BICUBIC)
        left, top = int(rng.integers(0, big.width - 640)), int(rng.integers(0, big.height - 480))
        crop = big.crop((left, top, left + 640, top + 480))
        names.append(f"photo_{n:04d}.jpg")
        (crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if n % 2 else crop).save(
            folder / names[-1], quality=90
        )
    return names
