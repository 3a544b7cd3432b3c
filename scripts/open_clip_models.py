"""Which of open_clip's models PVLR can use, and why not: one Markdown table from the configs
alone (nothing built, nothing downloaded; a second or two).

    .venv/bin/python scripts/open_clip_models.py            # the table, as the README carries it
    .venv/bin/python scripts/open_clip_models.py --usable   # only the names PVLR can use
"""

from __future__ import annotations

import argparse
import sys

import open_clip

import pvlr_kedro.pvlr.backbone  # noqa: F401  (registers the project's tiny configs)
from pvlr_kedro.pvlr.towers import tower_support


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usable", action="store_true", help="only the usable names")
    sys.stdout.write(model_table(parser.parse_args().usable))


if __name__ == "__main__":
    main()
