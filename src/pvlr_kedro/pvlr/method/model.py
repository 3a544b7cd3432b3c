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
from collections.abc import Mapping

import open_clip
import torch
from torch import nn

from pvlr_kedro.pvlr.method.attention import AttentionChoices
from pvlr_kedro.pvlr.method.backbone import VisualTokens, create_clip
from pvlr_kedro.pvlr.method.cap import ContextAwarePrompting, placeholder_ids
from pvlr_kedro.pvlr.method.config import PVLRConfig, as_built
from pvlr_kedro.pvlr.method.dma import ClassifierHead, DualModalAttention, SimilarityHead
from pvlr_kedro.pvlr.method.ifm import ChannelInteraction, RelationAggregation, kcr_loss
from pvlr_kedro.pvlr.method.kap import KnowledgeAwarePrompting, hard_prompts
from pvlr_kedro.pvlr.method.text import (
    CLIPTextEncoder,
    HFTextEncoder,
    TextEncoder,
    encode_texts,
    joint_dim,
)

log = logging.getLogger(__name__)
# ``PVLR.labels``' inputs: the training vocabulary's text features and the scored names' (None
# while the training vocabulary is scored)
LabelFeatures = tuple[torch.Tensor | None, torch.Tensor | None]


class CannotScoreNames(ValueError):
    """A model that learned one classifier per trained class was asked for other names."""


class PVLR(nn.Module):
    """PVLR: ``forward(images)`` gives ``logits`` (B×C), ``kcr`` (B, per image; or None) and
    ``attention`` (the maps by name).

    ``config`` is kept as built (``PVLRConfig.resolve``): QuickGELU explicit, IFM left out
    where it has nothing to fuse.
    """

    # buffers of the training vocabulary, C×d_text, registered when used (in the state dict)
    hard_prompt_embeddings: torch.Tensor
    name_embeddings: torch.Tensor
    # the scored names' own while other names than the training vocabulary are scored, else None
    # (``set_class_names``; not in the state dict)
    scored_hard_prompt_embeddings: torch.Tensor | None
    scored_name_embeddings: torch.Tensor | None
    scored_name_ids: torch.Tensor | None

    def __init__(
        self,
        config: PVLRConfig | Mapping,
        class_names: list[str],
        hard_prompt_embeddings: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        if not class_names:
            raise ValueError("PVLR needs at least one class name")
        config, notes = as_built(config)
        for note in notes:
            log.info(note)
        self.config, self.class_names = config, list(class_names)
        self.trained_names = list(class_names)  # the training vocabulary, fixed
        clip = create_clip(config.backbone, config.pretrained, config.quick_gelu, config.image_size)
        self.visual_tokens = VisualTokens(clip.visual)
        dim = joint_dim(clip)
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
        for scored in (
            "scored_hard_prompt_embeddings",
            "scored_name_embeddings",
            "scored_name_ids",
        ):
            self.register_buffer(scored, None, persistent=False)
        self._label_cache: LabelFeatures | None = None
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

    @property
    def uses_hard_prompts(self) -> bool:
        return self.config.kap or self.config.cap == "hard"

    @property
    def uses_bare_names(self) -> bool:
        """The reference "Label Rep.": no prompting, the bare names' frozen embeddings."""
        return not self.config.kap and self.config.cap == "none"

    def _register_label_inputs(self, hard_prompt_embeddings: torch.Tensor | None) -> None:
        """The training vocabulary's frozen label embeddings, computed once: hard prompts and/or
        bare names."""
        config, encoder = self.config, self.text_encoder
        if self.uses_hard_prompts:
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
        if self.uses_bare_names:
            self.register_buffer("name_embeddings", encode_texts(encoder, self.class_names))

    def set_class_names(self, names: list[str]) -> None:
        """Score ``names`` — any words, trained on or not — with no retraining.

        The frozen text encoder encodes the hard prompts, the bare names and CAP's placeholder
        prompts of the new names; everything learned (context vectors, the attention units, IFM,
        DMA, the similarity head) is shared by all classes, and the label embeddings are centred
        on the training vocabulary's mean (``labels``), whatever names are scored. The training
        vocabulary's embeddings stay in the state dict. "Classifier Learning"
        (``centers: classifier``) learns one classifier per trained class and cannot transfer.
        """
        if self.config.centers == "classifier":
            raise CannotScoreNames(
                "this model learned one classifier per trained class (model.centers: classifier, "
                "'Classifier Learning'): it cannot score other class names"
            )
        if not names:
            raise ValueError("at least one class name is needed")
        self.class_names, config, encoder = list(names), self.config, self.text_encoder
        others = self.class_names != self.trained_names
        self.scored_hard_prompt_embeddings = (
            encode_texts(encoder, hard_prompts(config.hard_prompt, names))
            if others and self.uses_hard_prompts
            else None
        )
        self.scored_name_embeddings = (
            encode_texts(encoder, names) if others and self.uses_bare_names else None
        )
        self.scored_name_ids = (
            placeholder_ids(encoder, names, config.prompt_tokens).to(
                next(encoder.parameters()).device
            )
            if others and config.uses_soft_prompts
            else None
        )
        self._label_cache = None

    def labels(
        self, trained: torch.Tensor | None, scored: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Text features (…×C×d_text) into the joint space: the scored names' (``scored``; the
        training vocabulary's, ``trained``, when None), centred with ``center_labels`` on the mean
        of the training vocabulary's. The mean is the training vocabulary's whatever names are
        scored, so a class's input does not depend on which other names are asked (a name alone
        is not its own mean, which would leave zeros)."""
        t = self.label_projection(trained if scored is None else scored)
        if not self.config.center_labels:
            return t
        assert trained is not None  # LabelFeatures keep the training vocabulary's when centring
        reference = t if scored is None else self.label_projection(trained)
        return t - reference.mean(dim=-2, keepdim=True)

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
            t_ka, attention["knowledge"] = self.kap(
                self.labels(self.hard_prompt_embeddings, self.scored_hard_prompt_embeddings)
            )
        if self.cap is not None:
            # B×C×d, B×C×C, B×C×M
            t_ca, attention["context"], cross = self.cap(
                self.labels(*self._cap_features(self.cap, x)), x
            )
            if cross is not None:
                attention["prompt_to_region"] = cross
        if t_ca is None:
            if t_ka is None:  # "Label Rep.": the bare names
                return self.labels(self.name_embeddings, self.scored_name_embeddings), None
            return t_ka, None
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

    def _cap_features(self, cap: ContextAwarePrompting, x: torch.Tensor) -> LabelFeatures:
        """CAP's T_soft (or the hard prompts) as ``labels`` takes them; soft prompts do not depend
        on the image, so in inference mode they go through the text encoder once and are kept until
        training resumes."""
        if cap.mode == "hard":
            return self.hard_prompt_embeddings, self.scored_hard_prompt_embeddings
        if cap.mode == "pre_interaction" or self.training:
            return self._soft_prompt_features(cap, x)
        if self._label_cache is None:
            trained, scored = self._soft_prompt_features(cap, x)
            self._label_cache = (
                None if trained is None else trained.detach(),
                None if scored is None else scored.detach(),
            )
        return self._label_cache

    def _soft_prompt_features(self, cap: ContextAwarePrompting, x: torch.Tensor) -> LabelFeatures:
        """(training vocabulary's, scored names'): the scored names' only while other names are
        scored, and then the training vocabulary's only where its mean centres them."""
        if self.scored_name_ids is None:
            return cap.prompt_features(x, self.text_encoder), None
        scored = cap.prompt_features(x, self.text_encoder, self.scored_name_ids)
        trained = cap.prompt_features(x, self.text_encoder) if self.config.center_labels else None
        return trained, scored

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


def encode_hard_prompt_embeddings(
    model: PVLRConfig | Mapping, class_names: list[str]
) -> torch.Tensor:
    """KAP's T_hard (C×d_text, before any learned projection): the hard prompts through the frozen
    encoder."""
    config, _ = as_built(model)
    clip = create_clip(config.backbone, config.pretrained, config.quick_gelu, config.image_size)
    return encode_texts(
        make_text_encoder(config, clip), hard_prompts(config.hard_prompt, class_names)
    )


def build_model(
    model: PVLRConfig | Mapping,
    class_names: list[str],
    hard_prompt_embeddings: torch.Tensor | None = None,
) -> PVLR:
    """A model config, or a ``model:`` parameter block (unknown keys are an error), and the prompt
    names → a PVLR model."""
    return PVLR(model, class_names, hard_prompt_embeddings)
