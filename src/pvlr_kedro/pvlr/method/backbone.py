"""The CLIP image-text model from open_clip, and the dense visual tokens X (paper §3.1).

``create_clip`` builds any open_clip model name (RN50, RN101, ViT-B-32, ViT-B-16, … and the
tiny configs shipped in ``model_configs/`` for tests and the demo) with weights from an
open_clip tag (``openai``, through open_clip's own cache), a local checkpoint, or none.
The model is built at its native resolution, loaded, and then its positional embeddings
are resized to the requested grid — the ResNet attention pool's as well as the ViT's
(open_clip resizes only the ViT one) — so a 224 checkpoint serves a 448 model.
"""

from __future__ import annotations

import contextlib
import logging
import math
import zipfile
from pathlib import Path
from typing import Any

import open_clip
import torch
import torch.nn.functional as F
from open_clip.modified_resnet import ModifiedResNet
from open_clip.timm_model import TimmModel
from open_clip.transformer import VisionTransformer
from torch import nn

from pvlr_kedro.pvlr.method.towers import tower_support

open_clip.add_model_config(Path(__file__).parent / "model_configs")
log = logging.getLogger(__name__)

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".npz")


class _RandomInitNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No pretrained weights loaded for model")


@contextlib.contextmanager
def weights_loaded_afterwards():
    """Within: open_clip's "No pretrained weights loaded … initialized randomly" is not logged,
    for a model whose weights the caller loads right after (a saved bundle)."""
    notice, root = _RandomInitNotice(), logging.getLogger()
    root.addFilter(notice)
    try:
        yield
    finally:
        root.removeFilter(notice)


def create_clip(
    backbone: str, pretrained: str | None, quick_gelu: bool | None, image_size: int
) -> open_clip.CLIP:
    """An open_clip CLIP model with weights loaded and visual positions resized to
    ``image_size``."""
    if backbone not in open_clip.list_models():
        raise ValueError(f"unknown backbone {backbone!r}: not an open_clip model name")
    weights = resolve_weights(backbone, pretrained)
    try:
        model = open_clip.create_model(
            backbone,
            pretrained=weights,
            force_quick_gelu=uses_quick_gelu(backbone, weights, quick_gelu),
        )
    except Exception as err:  # hub and file errors come in many types; name the weights asked for
        raise RuntimeError(
            f"could not load weights {pretrained!r} for {backbone}: {err}. Offline, download the "
            "checkpoint once and set model.pretrained to its local path."
        ) from err
    resize_visual_positions(model.visual, image_size)
    return model


def uses_quick_gelu(backbone: str, weights: str | None, quick_gelu: bool | None) -> bool:
    """The activation the network gets: QuickGELU where open_clip's config says so (the
    ``*-quickgelu`` names: it always wins, so ``quick_gelu: false`` there is an error), else as
    asked, else as the open_clip tag was trained (OpenAI's weights need it).

    A local checkpoint says nothing of its activation: unset, it gets GELU, with a warning.
    """
    if tower_support(backbone).quick_gelu:
        if quick_gelu is False:
            raise ValueError(
                f"model.quick_gelu=false contradicts model.backbone={backbone!r}, whose open_clip "
                "config builds QuickGELU whatever is asked: drop model.quick_gelu, or name the "
                "model without -quickgelu"
            )
        return True
    if quick_gelu is not None:
        return quick_gelu
    if weights is None:
        return False
    if _is_path(weights):
        log.warning(
            "model.pretrained is a local checkpoint (%s) and model.quick_gelu is unset: building "
            "with GELU. OpenAI's CLIP weights (e.g. timm/resnet101_clip.openai) need "
            "model.quick_gelu=true.",
            weights,
        )
        return False
    return bool(open_clip.get_pretrained_cfg(backbone, weights).get("quick_gelu", False))


def _is_path(weights: str) -> bool:
    return Path(weights).suffix in CHECKPOINT_SUFFIXES or "/" in weights or "\\" in weights


def resolve_weights(backbone: str, pretrained: str | None) -> str | None:
    """What ``pretrained`` names: None, a checked local checkpoint path, or an open_clip tag of
    ``backbone``."""
    if pretrained in (None, "", "none"):
        return None
    if _is_path(pretrained):
        path = Path(pretrained).expanduser()
        if not path.is_file():
            raise ValueError(f"model.pretrained: checkpoint file not found: {pretrained}")
        _refuse_torchscript(path)
        return str(path)
    tags = open_clip.list_pretrained_tags_by_model(backbone)
    if pretrained not in tags:
        raise ValueError(
            f"model.pretrained: {pretrained!r} is neither a file nor an open_clip tag of "
            f"{backbone} (tags: {', '.join(tags) or 'none'})"
        )
    return pretrained


def _refuse_torchscript(path: Path) -> None:
    """OpenAI's original archives (``RN101.pt``) are TorchScript programs, not state dicts: say how
    to convert."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if any(name.endswith("/constants.pkl") for name in archive.namelist()):
                raise ValueError(
                    f"model.pretrained: {path} is a TorchScript archive (OpenAI's original release "
                    "format): a program, not weights, and it is not loaded. Convert it once to a "
                    'state dict: python -c "import torch; '
                    f"s = torch.jit.load('{path}', map_location='cpu').state_dict(); "
                    "[s.pop(k, None) for k in "
                    "('input_resolution', 'context_length', 'vocab_size')]; "
                    f"torch.save(s, '{path.with_suffix('')}-state.pt')\" and set model.pretrained "
                    "to that file and model.quick_gelu=true; or use the open_clip tag "
                    "(model.pretrained: openai)."
                )


def resize_visual_positions(visual: nn.Module, image_size: int) -> None:
    """Resize the tower's positional embedding (class position kept) to ``image_size``'s grid."""
    if isinstance(visual, ModifiedResNet):
        _require_multiple(image_size, 32, "ResNet")
        pool = visual.attnpool
        pool.positional_embedding = nn.Parameter(
            resize_grid_embedding(pool.positional_embedding, image_size // 32)
        )
        visual.image_size = image_size
    elif isinstance(visual, VisionTransformer):
        patch = visual.patch_size[0]
        _require_multiple(image_size, patch, "ViT")
        grid = image_size // patch
        visual.positional_embedding = nn.Parameter(
            resize_grid_embedding(visual.positional_embedding, grid),
            requires_grad=visual.positional_embedding.requires_grad,
        )
        visual.grid_size = (grid, grid)
        visual.image_size = (image_size, image_size)
    elif isinstance(visual, TimmModel):  # a ConvNeXt: convolutions only, any multiple of 32
        _require_multiple(image_size, visual.trunk.feature_info[-1]["reduction"], "ConvNeXt")
        visual.image_size = (image_size, image_size)
    else:
        raise ValueError(
            f"unsupported image tower {type(visual).__name__}: PVLR needs a ResNet, ViT or "
            "ConvNeXt CLIP tower"
        )


def _require_multiple(size: int, step: int, kind: str) -> None:
    if size % step:
        raise ValueError(f"model.image_size {size} must be a multiple of {step} for a {kind} tower")


def resize_grid_embedding(embedding: torch.Tensor, grid: int) -> torch.Tensor:
    """(1 + g²)×C → (1 + grid²)×C, detached for use as a new parameter."""
    return interpolate_grid(embedding, grid, grid).detach().clone()


def interpolate_grid(embedding: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(1 + g²)×C → (1 + height·width)×C: bicubic over the square grid, the class position kept."""
    old = math.isqrt(embedding.shape[0] - 1)
    if (old, old) == (height, width):
        return embedding
    cls_token, cells = embedding[:1], embedding[1:]
    cells = cells.reshape(1, old, old, -1).permute(0, 3, 1, 2)  # 1×C×g×g
    cells = F.interpolate(cells.float(), size=(height, width), mode="bicubic", align_corners=False)
    cells = cells.permute(0, 2, 3, 1).reshape(height * width, -1).to(embedding.dtype)  # (h·w)×C
    return torch.cat([cls_token, cells])


class VisualTokens(nn.Module):
    """Dense visual tokens X (B×M×d) in CLIP's joint space, the tower fine-tuned; each family's
    cells through the very layers its pooled embedding goes through, so X lives where the
    label embeddings do.

    ResNet: the layer-4 map, positional embedding added, through the attention pool's value
    and output projections at every position (the DualCoOp / MaskCLIP way). ViT: the patch
    tokens through the final norm (``ln_post``) and the projection ``proj``. ConvNeXt (a timm
    trunk): the final feature map, cell by cell through the head's norm and the tower's
    projection (the pooled embedding is the same layers after average pooling).
    """

    visual: Any  # ModifiedResNet | VisionTransformer | TimmModel

    def __init__(self, visual: nn.Module) -> None:
        super().__init__()
        self.visual = visual
        self.is_resnet = isinstance(visual, ModifiedResNet)
        self.is_timm = isinstance(visual, TimmModel)
        if isinstance(visual, VisionTransformer):
            visual.output_tokens = True

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.is_resnet:
            return self._resnet_tokens(images)
        if self.is_timm:
            return self._convnext_tokens(images)
        _, tokens = self.visual(images)  # B×M×width
        if self.visual.final_ln_after_pool:  # the tokens come out before ln_post there
            tokens = self.visual.ln_post(tokens)
        return tokens @ self.visual.proj  # B×M×d

    def _resnet_tokens(self, images: torch.Tensor) -> torch.Tensor:
        v = self.visual
        x = v.layer4(v.layer3(v.layer2(v.layer1(v.stem(images)))))  # B×C×h×w
        height, width = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)  # B×(h·w)×C
        positions = interpolate_grid(v.attnpool.positional_embedding, height, width)  # (1+h·w)×C
        x = x + positions[1:].to(x.dtype)
        return v.attnpool.c_proj(v.attnpool.v_proj(x))  # B×M×d

    def _convnext_tokens(self, images: torch.Tensor) -> torch.Tensor:
        trunk = self.visual.trunk
        x = trunk.forward_features(images)  # B×C×h×w
        x = getattr(trunk.head, "norm", nn.Identity())(x)  # LayerNorm2d: over C, cell by cell
        x = x.flatten(2).transpose(1, 2)  # B×(h·w)×C
        x = trunk.head.fc(trunk.head.pre_logits(x))  # the trunk's own (Identity in open_clip)
        return self.visual.head(x)  # B×M×d: open_clip's projection (linear or MLP), per cell
