"""Frozen text encoders that also take learnable context vectors (CoOp-style soft prompts).

Both encoders share one interface: ``tokenize`` texts to ids, ``embed`` ids to token
embeddings (N×T×w), ``encode_embeddings`` a sequence of embeddings to one feature per text
(N×d_text), and ``context_slice``: where
learnable context vectors are written (after the start token). The encoder's own weights
never get gradients; the context vectors written into its input do.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class CLIPTextEncoder(nn.Module):
    """open_clip's text transformer (a CLIP's own, or a CustomTextCLIP's ``text``; batch-first),
    pooled where the model pools: ``argmax`` (the highest token id: CLIP's end of text), ``eos``
    (the tokenizer's end-of-sequence id, e.g. 2 for the xlm-v / mt5 tokenizers), ``first`` or
    ``last`` (open_clip's ``text_global_pool``), with the model's causal mask or none.

    ``context``: token positions run through the tower. None (the default) cuts the sequences
    after the longest prompt's pooled position where that changes nothing: under a causal mask
    the positions after it never reach it, so the features equal the full pass and cost a
    fraction of it. Without a causal mask, or pooled at the last position, every position
    matters and the full context runs. An integer runs that many positions (77: the full pass).
    """

    attn_mask: torch.Tensor | None  # a buffer: the model's causal mask (T×T), None without one
    token_embedding: nn.Embedding
    positional_embedding: torch.Tensor
    transformer: Any  # open_clip's Transformer
    ln_final: nn.Module
    text_projection: nn.Linear | torch.Tensor | None

    def __init__(self, clip_model: Any, tokenizer, context: int | None = None) -> None:
        super().__init__()
        tower: Any = getattr(clip_model, "text", clip_model)  # CustomTextCLIP: a tower apart
        self.tokenizer, self.context = tokenizer, context
        self.token_embedding = tower.token_embedding
        self.positional_embedding = tower.positional_embedding
        self.transformer = tower.transformer
        self.ln_final = tower.ln_final
        self.text_projection = tower.text_projection
        self.pool_type = getattr(tower, "pool_type", getattr(clip_model, "text_pool_type", None))
        self.eos_id = getattr(tower, "eos_id", getattr(clip_model, "text_eos_id", None))
        self.register_buffer("attn_mask", tower.attn_mask, persistent=False)
        self.cuttable = self.attn_mask is not None and self.pool_type in ("argmax", "eos", "first")
        self.context_start = first_word_position(tokenizer)
        self.width = self.token_embedding.embedding_dim
        self.dim = projected_width(self.text_projection, self.width)
        self.requires_grad_(False)

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        ids = self.tokenizer(texts)  # N×77
        full = ids.shape[1]
        if not self.cuttable:
            if self.context not in (None, full):
                raise ValueError(
                    f"model.text_context={self.context}: this text tower ({self.pool_type} "
                    f"pooling{'' if self.attn_mask is not None else ', no causal mask'}) reads "
                    f"every position; use null or {full}"
                )
            return ids
        needed = int(self.pooled_positions(ids).max()) + 1  # through the longest prompt's pool
        length = needed if self.context is None else self.context
        if not needed <= length <= full:
            raise ValueError(
                f"model.text_context={self.context} must be between the longest prompt's {needed} "
                f"tokens and {full}"
            )
        return ids[:, :length]  # N×T

    def pooled_positions(self, ids: torch.Tensor) -> torch.Tensor:
        """The position each sequence is pooled at (N), as open_clip's ``text_global_pool``."""
        if self.pool_type == "argmax":
            return ids.argmax(dim=-1)
        if self.pool_type == "eos":
            assert self.eos_id is not None  # open_clip's eos pooling always names its id
            return ids.eq(self.eos_id).int().argmax(dim=-1)
        last = ids.shape[1] - 1 if self.pool_type == "last" else 0
        return torch.full((ids.shape[0],), last, dtype=torch.long, device=ids.device)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.token_embedding(ids)  # N×T×w

    def encode_embeddings(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        length = x.shape[-2]
        x = x + self.positional_embedding[:length].to(x.dtype)
        mask = None if self.attn_mask is None else self.attn_mask[:length, :length]
        x = self.transformer(x, attn_mask=mask)
        x = self.ln_final(x)  # N×T×w
        x = x[torch.arange(x.shape[0], device=x.device), self.pooled_positions(ids)]  # N×w
        return project(x, self.text_projection)  # N×d

    def context_slice(self, length: int) -> slice:
        return slice(self.context_start, self.context_start + length)

    def set_checkpointing(self, enabled: bool) -> None:
        """Recompute each block in the backward pass (open_clip's own gradient checkpointing)."""
        self.transformer.grad_checkpointing = enabled

    def train(self, mode: bool = True):
        return super().train(False)  # frozen: always in inference mode


def first_word_position(tokenizer) -> int:
    """Where a prompt's first word sits: 1 after a start token (CLIP's BPE), 0 where the tokenizer
    adds none; the learnable context is written from there."""
    one, other = tokenizer(["X"])[0], tokenizer(["Y"])[0]
    return int((one != other).nonzero()[0])


def joint_dim(clip_model: Any) -> int:
    """The width of CLIP's joint space: its text tower's projected width."""
    tower: Any = getattr(clip_model, "text", clip_model)
    return projected_width(tower.text_projection, tower.token_embedding.embedding_dim)


def projected_width(projection: nn.Linear | torch.Tensor | None, width: int) -> int:
    if projection is None:
        return width
    return projection.out_features if isinstance(projection, nn.Linear) else projection.shape[1]


def project(x: torch.Tensor, projection: nn.Linear | torch.Tensor | None) -> torch.Tensor:
    """A text tower's output projection: a matrix, a linear layer (with bias) or none."""
    if projection is None:
        return x
    return projection(x) if isinstance(projection, nn.Linear) else x @ projection


class HFTextEncoder(nn.Module):
    """A BERT-family encoder from Hugging Face (name or local directory), pooled at [CLS]
    (paper Table 5); the model adds a learned projection to CLIP's joint space."""

    def __init__(self, name_or_path: str, max_length: int = 32) -> None:
        super().__init__()
        try:
            from transformers import AutoModel, AutoTokenizer  # noqa: PLC0415  (optional extra)
        except ImportError as err:
            raise ImportError(
                "model.text_encoder other than 'clip' needs transformers: pip install '.[bert]'"
            ) from err
        self.tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        self.encoder = AutoModel.from_pretrained(name_or_path)
        self.encoder.requires_grad_(False)
        self.max_length = max_length
        self.width = self.encoder.get_input_embeddings().embedding_dim
        self.dim = self.width

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        return self.tokenizer(
            texts,
            padding="max_length",
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )["input_ids"]  # N×T

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.encoder.get_input_embeddings()(ids)  # N×T×w

    def encode_embeddings(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        mask = (ids != self.tokenizer.pad_token_id).long()
        # N×w, at [CLS]
        return self.encoder(inputs_embeds=x, attention_mask=mask).last_hidden_state[:, 0]

    def context_slice(self, length: int) -> slice:
        return slice(1, 1 + length)

    def set_checkpointing(self, enabled: bool) -> None:
        # Hugging Face checkpoints only in training mode, and this encoder is frozen in eval mode
        if enabled:
            raise ValueError(
                "model.text_checkpointing works with CLIP's own text tower (model.text_encoder: "
                "clip)"
            )

    def train(self, mode: bool = True):
        super().train(mode)
        self.encoder.train(False)  # frozen: dropout off
        return self


TextEncoder = CLIPTextEncoder | HFTextEncoder  # what KAP and CAP encode prompts with


def encode_texts(encoder: TextEncoder, texts: list[str]) -> torch.Tensor:
    """Frozen features (N×d_text, before the model's label projection) of plain texts: hard prompts
    or names."""
    device = next(encoder.parameters()).device
    ids = encoder.tokenize(texts).to(device)
    with torch.no_grad():
        return encoder.encode_embeddings(encoder.embed(ids), ids)


def placeholder_prompts(names: list[str], length: int) -> list[str]:
    """``X X X X name.``: the tokens whose embeddings the learnable context replaces (CoOp)."""
    return [" ".join(["X"] * length + [name]) + "." for name in names]


def encode_with_context(
    encoder: TextEncoder, context: torch.Tensor, ids: torch.Tensor
) -> torch.Tensor:
    """Encode C prompts whose context positions hold ``context``: L×w → C×d_text, B×L×w →
    B×C×d_text."""
    tokens = encoder.embed(ids)  # C×T×w
    window = encoder.context_slice(context.shape[-2])
    if context.dim() == 2:
        tokens = torch.cat(
            [tokens[:, : window.start], context.expand(len(ids), -1, -1), tokens[:, window.stop :]],
            dim=1,
        )
        return encoder.encode_embeddings(tokens, ids)
    batch = context.shape[0]
    tokens = tokens.expand(batch, -1, -1, -1)  # B×C×T×w
    per_image = context[:, None].expand(-1, len(ids), -1, -1)  # B×C×L×w
    tokens = torch.cat(
        [tokens[:, :, : window.start], per_image, tokens[:, :, window.stop :]], dim=2
    )
    features = encoder.encode_embeddings(tokens.flatten(0, 1), ids.repeat(batch, 1))  # (B·C)×d_text
    return features.unflatten(0, (batch, len(ids)))  # B×C×d_text
