"""Frozen text encoders that also take learnable context vectors (CoOp-style soft prompts).

Both encoders share one interface: ``tokenize`` texts to ids, ``embed`` ids to token
embeddings (N×T×w), ``encode_embeddings`` a sequence of embeddings to one feature per text
(N×d_text), and ``context_slice``: where
learnable context vectors are written (after the start token). The encoder's own weights
never get gradients; the context vectors written into its input do.
"""

from __future__ import annotations

import open_clip
import torch
from torch import nn


class CLIPTextEncoder(nn.Module):
    """CLIP's text tower (open_clip 3.x, batch-first), pooled at the end-of-text token.

    ``context``: token positions run through the tower. None (the default) cuts the sequences
    after the longest prompt's end-of-text token: under CLIP's causal mask the positions after
    it change nothing at the end-of-text token, so the features equal the full 77-position
    pass and cost a fraction of it. An integer runs that many positions (77: the full pass).
    """

    attn_mask: torch.Tensor  # a buffer: CLIP's causal mask, 77×77

    def __init__(self, clip_model: open_clip.CLIP, tokenizer, context: int | None = None) -> None:
        super().__init__()
        self.tokenizer, self.context = tokenizer, context
        self.token_embedding = clip_model.token_embedding
        self.positional_embedding = clip_model.positional_embedding
        self.transformer = clip_model.transformer
        self.ln_final = clip_model.ln_final
        self.text_projection = clip_model.text_projection
        self.register_buffer("attn_mask", clip_model.attn_mask, persistent=False)
        self.width = self.token_embedding.embedding_dim
        self.dim = self.text_projection.shape[1]
        self.requires_grad_(False)

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        ids = self.tokenizer(texts)  # N×77
        needed = int(ids.argmax(dim=-1).max()) + 1  # through the longest prompt's end-of-text token
        length = needed if self.context is None else self.context
        if not needed <= length <= ids.shape[1]:
            raise ValueError(
                f"model.text_context={self.context} must be between the longest prompt's {needed} "
                f"tokens and {ids.shape[1]}"
            )
        return ids[:, :length]  # N×T

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.token_embedding(ids)  # N×T×w

    def encode_embeddings(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        length = x.shape[-2]
        x = x + self.positional_embedding[:length].to(x.dtype)
        x = self.transformer(x, attn_mask=self.attn_mask[:length, :length])
        x = self.ln_final(x)  # N×T×w
        # N×w, at the end-of-text token
        x = x[torch.arange(x.shape[0], device=x.device), ids.argmax(dim=-1)]
        return x @ self.text_projection  # N×d

    def context_slice(self, length: int) -> slice:
        return slice(1, 1 + length)

    def set_checkpointing(self, enabled: bool) -> None:
        """Recompute each block in the backward pass (open_clip's own gradient checkpointing)."""
        self.transformer.grad_checkpointing = enabled

    def train(self, mode: bool = True):
        return super().train(False)  # frozen: always in inference mode


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
