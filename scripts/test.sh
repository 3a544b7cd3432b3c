#!/usr/bin/env bash
# Set-up and the whole test suite, as the README says and CI runs it:
# Debian's chromium for the lineage and page tests (Playwright drives it by path) and slurm-wlm and
# munge for the cluster tests (installed when missing), the virtual environment with the project and
# its test, mlflow, export, app and docs extras at the locked versions, the linters (ruff's lint and
# format check, mypy), the docs site, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
bash scripts/slurm.sh install  # slurm-wlm and munge: the cluster tests start a private Slurm
python3 -m venv .venv
# the locked versions (requirements.lock: the set the suite last passed with), with the optional
# extras that tests cover
.venv/bin/pip install -q -c requirements.lock -e ".[test,mlflow,export,app,docs]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # the files and options are in pyproject.toml
# the documentation site: a broken link, reference or docstring fails it (site/ is git-ignored)
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet
# The suite writes up to ~4.3 GB at once under the temporary folder (runs with full-size CLIP
# towers); each passed test's files are removed as it ends. Say so plainly rather than fail later.
temporary=${TMPDIR:-/tmp}
free_mb=$(df -Pm "$temporary" | awk 'NR == 2 {print $4}')
if [ "$free_mb" -lt 6144 ]; then
  echo "scripts/test.sh: $temporary has ${free_mb} MB free; the test suite needs about 6 GB there" \
       "(free some space, or point TMPDIR at a roomier folder)" >&2
  exit 1
fi
DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 .venv/bin/python -m pytest "$@"
