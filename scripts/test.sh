#!/usr/bin/env bash
# Set-up and the whole test suite, as the README says and CI runs it:
# Debian's chromium for the lineage test (installed when missing and we are root), the
# virtual environment with the project and its test extra, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
python3 -m venv .venv
.venv/bin/pip install -q -e ".[test]"
DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 .venv/bin/python -m pytest "$@"
