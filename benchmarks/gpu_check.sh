#!/usr/bin/env bash
# The one prepared GPU check (benchmarks/gpu_check.py): on a CUDA machine, after the README's set-up
# (python3 -m venv .venv && .venv/bin/pip install -e ".[test]"), prints one JSON within 8 minutes.
#   bash benchmarks/gpu_check.sh [--batch-size 64 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
export DO_NOT_TRACK=1 HF_HUB_OFFLINE=1
python=.venv/bin/python
[ -x "$python" ] || python=python3
"$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'gpu_check: no CUDA device visible')"
exec timeout 480 "$python" benchmarks/gpu_check.py "$@"
