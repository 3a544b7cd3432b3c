"""PVLR (paper §3, Figure 2) and its reference models, assembled from the named parts.

  X = VisualTokens(images)                              §3.1   B×M×d
  T_ka, M_ka = KAP(T_hard)                              Eq. 3  C×d, C×C
  T_ca, M_ca = CAP(T_soft, X)                           Eq. 4  B×C×d, B×C×C
  T = IFM(T_ka, M_ka, T_ca, M_ca), L_KCR               Eq. 5–7
  centers, v = DMA(T, X)                                Eq. 8–9
  logits = head(v, centers)                             Eq. 10

Switched-off parts are not built, so they have no parameters in the state dict. With KAP
and CAP both off, the label representations are the frozen embeddings of the bare class
names ("Label Rep."); with KAP alone T = T_ka, with CAP alone T = T_ca.
"""

from __future__ import annotations

import logging

import open_clip
import torch
from torch import nn

from pvlr_kedro.pvlr.attention import AttentionChoices
from pvlr_kedro.pvlr.backbone import VisualTokens, create_clip
from pvlr_kedro.pvlr.cap import ContextAwarePrompting
from pvlr_kedro.pvlr.config import PVLRConfig
from pvlr_kedro.pvlr.dma import ClassifierHead, DualModalAttention, SimilarityHead
from pvlr_kedro.pvlr.ifm import ChannelInteraction, RelationAggregation, kcr_loss
from pvlr_kedro.pvlr.kap import KnowledgeAwarePrompting, hard_prompts
from pvlr_kedro.pvlr.text import CLIPTextEncoder, HFTextEncoder, TextEncoder, encode_texts

log = logging.getLogger(__name__)


class PVLR(nn.Module):
    """PVLR: ``forward(images)`` gives ``logits`` (B×C), ``kcr`` (B, per image; or None) and
    ``attention`` (the maps by name).

    ``config`` is kept as built (``PVLRConfig.resolve``): QuickGELU explicit, IFM left out
    where it has nothing to fuse.
    """

    hard_prompt_embeddings: torch.Tensor  # buffers: C×d_text, registered when used
    name_embeddings: torch.Tensor

    def __init__(
        self,
        config: PVLRConfig,
        class_names: list[str],
        hard_prompt_embeddings: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if not class_names:
            raise ValueError("PVLR needs at least one class name")
        config, notes = config.resolve()
        for note in notes:
            log.info(note)
        self.config, self.class_names = config, list(class_names)
        clip = create_clip(config.backbone, config.pretrained, config.quick_gelu, config.image_size)
        self.visual_tokens = VisualTokens(clip.visual)
        dim = clip.text_projection.shape[1]
        # frozen; kept so that any class name can be encoded
        self.text_encoder = make_text_encoder(config, clip)
        self.label_projection = (
            nn.Identity() if self.text_encoder.dim == dim else nn.Linear(self.text_encoder.dim, dim)
        )
        attention = AttentionChoices(config.attention_heads, config.residual, config.attention_norm)
        self.kap = KnowledgeAwarePrompting(dim, attention) if config.kap else None
        self.cap = (
            None
            if config.cap == "none"
            else ContextAwarePrompting(
                config.cap,
                dim,
                attention,
                config.cap_context_attention,
                encoder=self.text_encoder if config.uses_soft_prompts else None,
                names=self.class_names,
                prompt_tokens=config.prompt_tokens,
            )
        )
        self._register_label_inputs(hard_prompt_embeddings)
        self._label_cache: torch.Tensor | None = None
        self.channel_interaction = (
            ChannelInteraction(dim, start_as_identity=config.residual)
            if config.channel_interaction
            else None
        )
        self.relation_aggregation = (
            RelationAggregation(config.residual) if config.relation_aggregation else None
        )
        self.dma = DualModalAttention(dim, attention, config.v2s, config.s2v)
        self.head = (
            ClassifierHead(len(class_names), dim, per_class=config.v2s)
            if config.centers == "classifier"
            else SimilarityHead(config.similarity, config.logit_scale)
        )

    def _register_label_inputs(self, hard_prompt_embeddings: torch.Tensor | None) -> None:
        """The frozen label embeddings, computed once per vocabulary: hard prompts and/or bare
        names."""
        config, encoder = self.config, self.text_encoder
        if config.kap or config.cap == "hard":
            if hard_prompt_embeddings is None:
                hard_prompt_embeddings = encode_texts(
                    encoder, hard_prompts(config.hard_prompt, self.class_names)
                )
            if tuple(hard_prompt_embeddings.shape) != (len(self.class_names), encoder.dim):
                raise ValueError(
                    f"hard-prompt embeddings of shape {tuple(hard_prompt_embeddings.shape)}, "
                    f"expected {(len(self.class_names), encoder.dim)}"
                )
            self.register_buffer("hard_prompt_embeddings", hard_prompt_embeddings.detach().clone())
        if not config.kap and config.cap == "none":
            self.register_buffer("name_embeddings", encode_texts(encoder, self.class_names))

    def set_class_names(self, names: list[str]) -> None:
        """Score ``names`` — any words, trained on or not — with no retraining.

        The frozen text encoder encodes the hard prompts, the bare names and CAP's placeholder
        prompts of the new names; everything learned (context vectors, the attention units, IFM,
        DMA, the similarity head) is shared by all classes. "Classifier Learning"
        (``centers: classifier``) learns one classifier per trained class and cannot transfer.
        """
        if self.config.centers == "classifier":
            raise ValueError(
                "this model learned one classifier per trained class (model.centers: classifier, "
                "'Classifier Learning'): it cannot score other class names"
            )
        if not names:
            raise ValueError("at least one class name is needed")
        self.class_names = list(names)
        if self.cap is not None and self.config.uses_soft_prompts:
            self.cap.set_class_names(self.text_encoder, self.class_names)
        self._register_label_inputs(None)  # the hard prompts and bare names of the new names
        self._label_cache = None

    def labels(self, features: torch.Tensor) -> torch.Tensor:
        """Text features (…×C×d_text) into the joint space, centered over classes if configured."""
        t = self.label_projection(features)
        return t - t.mean(dim=-2, keepdim=True) if self.config.center_labels else t

    def forward(self, images: torch.Tensor) -> dict:
        x = self.visual_tokens(images)  # B×M×d
        attention: dict[str, torch.Tensor] = {}
        labels, kcr = self.label_representations(x, attention)
        centers, visual, dma_maps = self.dma(labels.expand(x.shape[0], -1, -1), x)  # B×C×d, B×d
        attention.update(dma_maps)
        return {"logits": self.head(visual, centers), "kcr": kcr, "attention": attention}

    def label_representations(
        self, x: torch.Tensor, attention: dict
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """T (C×d or B×C×d) and L_KCR (None without both prompts); fills ``attention`` with the
        maps."""
        t_ka = t_ca = None
        if self.kap is not None:
            # C×d, C×C
            t_ka, attention["knowledge"] = self.kap(self.labels(self.hard_prompt_embeddings))
        if self.cap is not None:
            # B×C×d, B×C×C, B×C×M
            t_ca, attention["context"], cross = self.cap(
                self.labels(self._cap_features(self.cap, x)), x
            )
            if cross is not None:
                attention["prompt_to_region"] = cross
        if t_ca is None:
            return (self.labels(self.name_embeddings) if t_ka is None else t_ka), None
        if t_ka is None:
            return t_ca, None
        if self.channel_interaction is not None:
            t_ca = self.channel_interaction(t_ka, t_ca)
        kcr = kcr_loss(t_ka, t_ca)
        if self.relation_aggregation is not None:
            t_ca, attention["relation"] = self.relation_aggregation(
                attention["knowledge"], attention["context"], t_ca
            )
        return t_ca, kcr

    def _cap_features(self, cap: ContextAwarePrompting, x: torch.Tensor) -> torch.Tensor:
        """CAP's T_soft (or the hard prompts); soft prompts do not depend on the image, so in
        inference mode they go through the text encoder once and are kept until training resumes."""
        if cap.mode == "hard":
            return self.hard_prompt_embeddings
        if cap.mode == "pre_interaction" or self.training:
            return cap.prompt_features(x, self.text_encoder)
        if self._label_cache is None:
            self._label_cache = cap.prompt_features(x, self.text_encoder).detach()
        return self._label_cache

    def train(self, mode: bool = True):
        self._label_cache = None  # the context vectors may change
        return super().train(mode)

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        self._label_cache = None
        super()._load_from_state_dict(*args, **kwargs)


def make_text_encoder(config: PVLRConfig, clip: open_clip.CLIP) -> TextEncoder:
    """CLIP's own text tower, or the named Hugging Face encoder (frozen either way)."""
    encoder: TextEncoder
    if config.text_encoder == "clip":
        tokenizer = open_clip.get_tokenizer(config.backbone)
        encoder = CLIPTextEncoder(clip, tokenizer, config.text_context)
    else:
        encoder = HFTextEncoder(config.text_encoder)
    encoder.set_checkpointing(config.text_checkpointing)
    return encoder


def encode_hard_prompt_embeddings(model: PVLRConfig | dict, class_names: list[str]) -> torch.Tensor:
    """KAP's T_hard (C×d_text, before any learned projection): the hard prompts through the frozen
    encoder."""
    config, _ = model_config(model).resolve()
    clip = create_clip(config.backbone, config.pretrained, config.quick_gelu, config.image_size)
    return encode_texts(
        make_text_encoder(config, clip), hard_prompts(config.hard_prompt, class_names)
    )


def build_model(
    model: PVLRConfig | dict,
    class_names: list[str],
    hard_prompt_embeddings: torch.Tensor | None = None,
) -> PVLR:
    """A model config, or a ``model:`` parameter block (unknown keys are an error), and the prompt
    names → a PVLR model."""
    return PVLR(model_config(model), class_names, hard_prompt_embeddings)


def model_config(model: PVLRConfig | dict) -> PVLRConfig:
    return model if isinstance(model, PVLRConfig) else PVLRConfig.from_params(dict(model))
