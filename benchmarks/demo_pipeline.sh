#!/usr/bin/env bash
# The demo pipeline timed cold (no generated data, no cache, no checkpoint): this commit against an
# earlier one, each in a temporary worktree (your own data/ is never touched), in alternation so that
# both see the same machine; wall time of `kedro run` and Kedro's own count. Both trees run with
# this project's .venv (each through PYTHONPATH), which must not hold the mlflow extra: kedro-mlflow
# tracks every run when installed, and an earlier tree has no MLflow configuration.
#   bash benchmarks/demo_pipeline.sh [REV=c62f177] [PAIRS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
if .venv/bin/python -c "import kedro_mlflow" 2>/dev/null; then
    echo "demo_pipeline.sh: kedro-mlflow is installed in .venv; time the demo without it" \
         "(.venv/bin/pip uninstall -y kedro-mlflow)" >&2
    exit 1
fi
rev=${1:-c62f177}
pairs=${2:-2}
repo=$PWD
kedro=$repo/.venv/bin/kedro
ours=$(mktemp -d)
theirs=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$ours"; git -C "$repo" worktree remove --force "$theirs"' EXIT
git worktree add --detach --quiet "$ours" HEAD
git worktree add --detach --quiet "$theirs" "$rev"
export DO_NOT_TRACK=1 HF_HUB_OFFLINE=1

cold_run() {  # cold_run <tree> <label>: one `kedro run` from no data, its times on one line
    local tree=$1 log start end
    log=$(mktemp)
    git -C "$tree" clean -fdXq data/
    start=$(date +%s.%N)
    (cd "$tree" && PYTHONPATH="$tree/src" "$kedro" run >"$log" 2>&1)
    end=$(date +%s.%N)
    printf '%-8s %6.1f s wall, pipeline %s s\n' "$2" "$(echo "$end - $start" | bc)" \
        "$(grep -o 'successfully in [0-9.]*' "$log" | grep -o '[0-9.]*$')"
    rm -f "$log"
}

for _ in $(seq "$pairs"); do
    cold_run "$ours" "HEAD"
    cold_run "$theirs" "$rev"
done
