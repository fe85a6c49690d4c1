#!/usr/bin/env bash
# Runs each fuzz target for N seconds, one after another (one core), and writes a summary:
# target, seconds, executions, crashes. Usage, from anywhere:
#   fuzz/run-all.sh [SECONDS] [TARGET...]      (default 600 seconds, every target)
# Needs cargo-fuzz (`cargo install cargo-fuzz`); works on stable with --sanitizer none.
# Logs and the summary go to fuzz/results/, crashing inputs to fuzz/artifacts/TARGET/, the
# growing corpus to fuzz/corpus/TARGET/ (none of them committed; seeds/ is).
set -u
cd "$(dirname "$0")"
fuzz_dir=$(pwd)
seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(hypothesis python_source rules traceback config journal tfrecord import_results)
fi
mkdir -p results
# Seeds from the shared fixtures (the real crash tracebacks and results.tsv logs) are read from
# ../shared (or $DFH_SHARED_DIR) at run time; they are cited, never copied into the repository.
shared=${DFH_SHARED_DIR:-"$fuzz_dir/../../shared"}
mkdir -p seeds-shared/traceback seeds-shared/import_results
if [ -f "$shared/crash-corpus/public.jsonl" ]; then
    python3 - "$shared/crash-corpus/public.jsonl" seeds-shared/traceback <<'PY'
import json, sys
for line in open(sys.argv[1]):
    entry = json.loads(line)
    open(f"{sys.argv[2]}/{entry['id']}.log", "w").write(entry["traceback"])
PY
fi
cp "$shared"/results-tsv/*.tsv seeds-shared/import_results/ 2>/dev/null || true
mkdir -p seeds-shared/python_source
cp ../tests/fixtures/gpt_train.py seeds-shared/python_source/
# Build every target once, so editing the library meanwhile never changes a run in flight.
(cd .. && nice -n 10 cargo fuzz build --sanitizer none -O -a) || exit 1
binaries=$(ls -d target/*/release | head -n 1)
summary=results/summary.tsv
[ -f "$summary" ] || printf 'target\tseconds\texecutions\tcrashes\tstarted\tcommit\n' > "$summary"
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    before=$(ls "artifacts/$target" | wc -l)
    log="results/$target.log"
    started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    start=$(date +%s)
    mkdir -p "seeds/$target" "seeds-shared/$target"
    nice -n 10 "$binaries/$target" "corpus/$target" "seeds/$target" "seeds-shared/$target" \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$fuzz_dir/artifacts/$target/" > "$log" 2>&1
    status=$?
    elapsed=$(( $(date +%s) - start ))
    executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
    after=$(ls "artifacts/$target" | wc -l)
    crashes=$(( after - before ))
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$elapsed" "${executions:-?}" "$crashes" \
        "$started" "$commit" >> "$summary"
    echo "$target: ${elapsed}s, ${executions:-?} executions, $crashes crashes (exit $status)"
done
column -t -s $'\t' "$summary"
