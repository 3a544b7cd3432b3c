"""Which open_clip models PVLR can use, read from their configs alone (nothing built, nothing
downloaded), and why not where it cannot.

PVLR needs from the image tower dense tokens X (B×M×d, regions in CLIP's joint space) and from
the text tower prompts whose context it can write and a feature pooled where the model pools:

- image: ResNet towers (the attention pool's value path at every position), open_clip's ViT (the
  patch tokens through the final norm and projection) and timm ConvNeXt trunks (the final feature
  map through the head's norm and the tower's projection, cell by cell; ``pvlr.method.backbone``).
  Other timm trunks (EVA, SigLIP's ViT with an attention-pool head, FastViT, ViTamin, Swin) and
  ViTs whose tokens are an attentional pooler's queries (CoCa) are refused.
- text: open_clip's own text transformer, pooled as its config says (``argmax``: the highest token
  id, CLIP's end of text; ``eos``: the tokenizer's end-of-sequence id; ``first``; ``last``), with or
  without a causal mask (``pvlr.method.text``). Hugging Face text towers and towers with an
  appended CLS token (CoCa) are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import open_clip

USABLE = (
    "usable: ResNet towers (RN50, RN101, …), open_clip ViTs (ViT-B-16, …) and timm ConvNeXt "
    "towers (convnext_base_w, …), with open_clip's own text transformer"
)
POOLINGS = ("argmax", "eos", "first", "last")


@dataclass(frozen=True)
class TowerSupport:
    """What an open_clip model's towers are, and why PVLR cannot use it (``problem``; None: it
    can)."""

    name: str
    image: str
    text: str
    quick_gelu: bool  # the config's activation (it wins over any weights tag)
    problem: str | None

    @property
    def usable(self) -> bool:
        return self.problem is None


def tower_support(name: str) -> TowerSupport:
    """``name``'s towers from its open_clip config; an unknown name is an error."""
    config = open_clip.get_model_config(name)
    if config is None:
        raise ValueError(f"unknown backbone {name!r}: not an open_clip model name")
    image, image_problem = image_family(config["vision_cfg"])
    text, text_problem = text_pooling(config["text_cfg"])
    problems = [problem for problem in (image_problem, text_problem) if problem]
    return TowerSupport(
        name, image, text, bool(config.get("quick_gelu")), "; ".join(problems) or None
    )


def image_family(vision: dict) -> tuple[str, str | None]:
    """(the image tower's family, why X cannot be formed from it or None)."""
    if isinstance(vision.get("layers"), list | tuple):
        return "ResNet", None
    if "timm_model_name" in vision:
        trunk, pool = vision["timm_model_name"], vision.get("timm_pool", "")
        if trunk.startswith("convnext") and pool not in ("abs_attn", "rot_attn"):
            return f"ConvNeXt (timm {trunk})", None
        return f"timm {trunk} (pool {pool!r})", (
            f"image tower timm {trunk}: dense tokens X are formed for ResNet, ViT and ConvNeXt "
            "towers only"
        )
    if vision.get("attentional_pool"):
        return "ViT, attentional pool", (
            "image tower ViT with an attentional pooler (CoCa): its tokens are the pooler's "
            "queries, not image regions"
        )
    return "ViT", None


def text_pooling(text: dict) -> tuple[str, str | None]:
    """(how the text tower pools, why PVLR cannot use it or None)."""
    if "hf_model_name" in text:
        return f"Hugging Face {text['hf_model_name']}", (
            f"text tower {text['hf_model_name']} from Hugging Face: PVLR writes its soft prompts "
            "into open_clip's own text transformer"
        )
    if text.get("embed_cls"):
        return "appended CLS", "text tower with an appended CLS token (CoCa): not supported"
    pool = text.get("pool_type", "argmax")
    if pool not in POOLINGS:
        return f"{pool} pooling", f"text pooling {pool!r}: PVLR needs one feature per prompt"
    causal = "" if not text.get("no_causal_mask") else ", no causal mask"
    return f"{pool} pooling{causal}", None


def refusal(support: TowerSupport) -> str:
    """The parameter check's message for an unusable model."""
    return f"model.backbone={support.name!r} cannot be used: {support.problem} ({USABLE})"
