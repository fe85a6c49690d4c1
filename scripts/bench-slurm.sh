#!/usr/bin/env bash
# bench-slurm.sh: wall time of `dfh run` for a trivial training script, local executor vs
# Slurm executor, on the same machine; the difference is what Slurm adds per experiment.
#
#   scripts/bench-slurm.sh [RUNS]      (default 10 runs of each; needs SLURM_CONF set, e.g.
#                                       eval "$(scripts/slurm-local.sh start /tmp/dfh-slurm)")
#
# DFH=path/to/dfh picks the binary (default target/release/dfh, else target/debug/dfh).
# Each run is `dfh plan` (not timed) then `dfh run` (timed): the whole pipeline, checks,
# commit, execute, collect, decide, record. Prints min / median / max in milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
dfh=${DFH:-}
if [ -z "$dfh" ]; then
  if [ -x target/release/dfh ]; then dfh=$PWD/target/release/dfh; else dfh=$PWD/target/debug/dfh; fi
fi
[ -x "$dfh" ] || { echo "no dfh binary at $dfh: cargo build --release" >&2; exit 1; }
command -v sbatch >/dev/null || { echo "sbatch is not installed" >&2; exit 1; }
sinfo -h >/dev/null || { echo "no Slurm cluster answers; start one with scripts/slurm-local.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/dfh-bench-slurm.XXXXXX)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1

# Prints the milliseconds of each `dfh run` for one executor kind, one per line.
measure() { # kind
  local project=$work/$1 index start end
  mkdir -p "$project" && cd "$project"
  git init -q -b main
  printf 'LR = 0.1\nprint("val_bpb: 0.9")\n' > train.py
  printf 'MAX_SEQ_LEN = 2048\n' > prepare.py
  git add -A && git commit -qm initial
  "$dfh" init >/dev/null
  sed -i "s/^kind = \"local\"/kind = \"$1\"/" dfh.toml
  for index in $(seq "$runs"); do
    "$dfh" plan --title "run $index" --hypothesis "Timing run." --expected "val_bpb ~0.9" \
      --inspired-by docs/strategy.md >/dev/null
    start=$(date +%s%N)
    "$dfh" run >/dev/null 2>&1 || { echo "dfh run failed ($1, run $index)" >&2; "$dfh" run; exit 1; }
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
  done
  cd - >/dev/null
}

summary() { # kind, then the numbers on stdin
  sort -n | awk -v kind="$1" '{ v[NR] = $1 } END {
    median = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%-6s runs %d  min %d ms  median %d ms  max %d ms\n", kind, NR, v[1], median, v[NR] }'
}

local_times=$(measure local)
slurm_times=$(measure slurm)
echo "dfh run, trivial script, $(nproc) cores, Slurm $(sinfo --version | awk '{print $2}'), binary $dfh"
summary local <<<"$local_times"
summary slurm <<<"$slurm_times"
