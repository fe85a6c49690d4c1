#!/bin/sh
# Regenerates BENCHMARKS.md: every figure with its target, on this machine (release build).
# Needs python3 and git; reads the public crash corpus from $DFH_SHARED_DIR (default ../shared).
# Takes about ten minutes on 2 cores; not run in CI.
set -eu
cd "$(dirname "$0")/.."
exec cargo bench --bench figures "$@"
