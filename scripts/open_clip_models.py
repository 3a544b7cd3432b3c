"""Which of open_clip's models PVLR can use, and why not: one Markdown table from the configs
alone (nothing built, nothing downloaded; a second or two).

    .venv/bin/python scripts/open_clip_models.py  # the table (docs/backbones.md)
    .venv/bin/python scripts/open_clip_models.py --usable   # only the names PVLR can use
    .venv/bin/python scripts/open_clip_models.py --verify   # each usable name's text tower, built
        (random weights) and its label embeddings compared with open_clip's own encode_text
        (minutes; a tokenizer that must come from the Hugging Face hub is said to be missing
        offline)
"""

from __future__ import annotations

import argparse
import sys
from types import SimpleNamespace

import open_clip
import torch
from open_clip.model import _build_text_tower

import pvlr_kedro.pvlr.method.backbone  # noqa: F401  (registers the project's tiny configs)
from pvlr_kedro.pvlr.method.text import CLIPTextEncoder, encode_texts
from pvlr_kedro.pvlr.method.towers import tower_support

PROMPTS = ["This photo contains dog.", "This photo contains traffic light.", "a b c"]


def model_table(usable_only: bool = False) -> str:
    """Every open_clip model name as a Markdown row: usable or not, the towers, the reason."""
    rows = ["| model | PVLR | image tower | text tower | why not |", "|---|---|---|---|---|"]
    for name in open_clip.list_models():
        support = tower_support(name)
        if usable_only and not support.usable:
            continue
        activation = ", QuickGELU" if support.quick_gelu else ""
        rows.append(
            f"| `{name}` | {'yes' if support.usable else 'no'} | {support.image}{activation} | "
            f"{support.text} | {support.problem or ''} |"
        )
    return "\n".join(rows) + "\n"


def text_difference(name: str) -> str:
    """The largest difference between PVLR's label embeddings and ``encode_text`` for ``name``'s
    text tower (random weights), or why it could not be built here."""
    config = open_clip.get_model_config(name)
    try:
        tokenizer = open_clip.get_tokenizer(name)
    except Exception as err:  # noqa: BLE001  (offline: a hub tokenizer cannot load)
        return f"tokenizer not available here ({type(err).__name__})"
    torch.manual_seed(0)
    tower = _build_text_tower(config["embed_dim"], config["text_cfg"], config.get("quick_gelu"))
    tower.eval()
    with torch.no_grad():
        ours = encode_texts(CLIPTextEncoder(SimpleNamespace(text=tower), tokenizer), PROMPTS)
        theirs = tower(tokenizer(PROMPTS))
    return f"{(ours - theirs).abs().max().item():.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usable", action="store_true", help="only the usable names")
    parser.add_argument("--verify", action="store_true", help="compare with encode_text")
    args = parser.parse_args()
    if not args.verify:
        sys.stdout.write(model_table(args.usable))
        return
    for name in open_clip.list_models():
        if tower_support(name).usable:
            sys.stdout.write(f"{name}: {text_difference(name)}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
