#!/usr/bin/env bash
# bench.sh: the benchmarks of BENCHMARKS.md, run by `make bench`.
#
# Builds the benchmark binary once and runs the whole suite RUNS times in a
# row (interleaved, so that a burst of noise on this shared machine hits
# every peer alike rather than every run of one peer), then writes the
# behaviour table, benchstat's summary and BENCHMARKS.md.
#
#   RUNS       how many times each benchmark runs (default 6, what benchstat
#              needs for a confidence interval)
#   BENCHTIME  -benchtime of each run (default 300ms; 6 runs take about
#              5 minutes on 2 cores)
#   BENCHSTAT  the benchstat binary
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-6}
BENCHTIME=${BENCHTIME:-300ms}
GO=${GO:-go}
if [ -z "${BENCHSTAT:-}" ]; then
	BENCHSTAT=$(command -v benchstat || true)
	if [ -z "$BENCHSTAT" ]; then
		gobin=$($GO env GOBIN)
		BENCHSTAT=${gobin:-$($GO env GOPATH)/bin}/benchstat
	fi
fi

mkdir -p results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$GO test -c -o "$tmp/bench.test" .

out=results/bench.txt
{
	echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "# cpu-model: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	echo "# cores: $(nproc) (lscpu: $(lscpu | sed -n 's/^CPU(s): *//p' | head -1) CPUs, $(lscpu | sed -n 's/^Thread(s) per core: *//p' | head -1) thread(s) per core)"
	echo "# go: $($GO version)"
	rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	if ! git diff --quiet HEAD -- ../plugin ../schema ../go.mod ':(exclude,glob)**/*_test.go' 2>/dev/null; then rev="$rev + uncommitted non-test changes under plugin/ or schema/"; fi
	echo "# corsgate-revision: $rev"
	echo "# command: bench.test -test.bench . -test.benchmem -test.benchtime $BENCHTIME, $RUNS times in a row"
	echo "# runs: $RUNS"
} >"$out"

start=$(date +%s)
for i in $(seq 1 "$RUNS"); do
	echo "bench: run $i of $RUNS" >&2
	"$tmp/bench.test" -test.run '^$' -test.bench . -test.benchmem -test.benchtime "$BENCHTIME" -test.count 1 >>"$out"
done
echo "bench: $RUNS runs in $(( $(date +%s) - start ))s" >&2

"$tmp/bench.test" -test.run '^TestBehaviour$' -behaviour results/behaviour.tsv >/dev/null

{
	"$BENCHSTAT" -col /peer -filter '.name:Paths' "$out"
	echo
	"$BENCHSTAT" -col /peer -filter '.name:Scale' "$out"
	echo
	"$BENCHSTAT" -filter '.name:Match' "$out"
} >results/benchstat.txt

$GO run ./cmd/report -out ../BENCHMARKS.md
