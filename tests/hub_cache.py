"""A randomly initialised CLIP checkpoint planted where huggingface_hub's cache keeps an open_clip
tag's file, so that ``pretrained='openai'`` takes its real loading path offline
(``HF_HUB_OFFLINE=1``)."""

from pathlib import Path

import open_clip
import torch
from safetensors.torch import save_file

REVISION = "0" * 40


def plant_checkpoint(
    hub_cache: Path, backbone: str, tag: str = "openai"
) -> dict[str, torch.Tensor]:
    """Write a random ``backbone`` state dict (fp16, as OpenAI ships it) as the hub file of ``tag``;
    return it."""
    repo = open_clip.get_pretrained_cfg(backbone, tag)["hf_hub"].strip("/")
    folder = hub_cache / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / REVISION
    snapshot.mkdir(parents=True, exist_ok=True)
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / "main").write_text(REVISION)
    torch.manual_seed(1234)
    model = open_clip.create_model(backbone, pretrained=None)
    state = {key: value.detach().half().contiguous() for key, value in model.state_dict().items()}
    save_file(state, snapshot / "open_clip_model.safetensors")
    return state
