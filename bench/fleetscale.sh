#!/usr/bin/env bash
# fleetscale.sh: the fleet-scale figures, run by `make load-fleet-scale`.
#
# 1. The simulator (cmd/fleetsim) at each of SIM_REPLICAS replicas: the
#    store and follow code of corsgate run, in one process, on one real
#    etcd.
# 2. N real corsgate run processes on one etcd (cmd/fleetscale).
#
# Each prints its log and, last, one summary line (replicas=… changes=…
# p50=… …). The outputs go to results/fleet-scale.txt, and cmd/report
# writes the Fleet scale section of BENCHMARKS.md from them.
#
#   SIM_REPLICAS  the simulator's sizes (default "100 1000 3000")
#   N             real processes (default 50)
#   CHANGES       changes per run (default 20)
set -euo pipefail
cd "$(dirname "$0")"
GO=${GO:-go}
N=${N:-50}
CHANGES=${CHANGES:-20}
SIM_REPLICAS=${SIM_REPLICAS:-"100 1000 3000"}
command -v etcd >/dev/null || { echo "fleetscale: etcd is not installed (make load-fleet-scale installs it)" >&2; exit 1; }
mkdir -p results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fleetscale: building" >&2
(cd .. && $GO build -o "$tmp/corsgate" ./cmd/corsgate)
$GO build -o "$tmp/fleetsim" ./cmd/fleetsim
$GO build -o "$tmp/fleetscale" ./cmd/fleetscale
{
	echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "# cpu-model: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
	echo "# corsgate-revision: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); etcd $(etcd --version | sed -n 's/^etcd Version: //p'); $($GO env GOVERSION)"
	for m in $SIM_REPLICAS; do
		echo "# run: fleetsim -replicas $m -changes $CHANGES"
		"$tmp/fleetsim" -replicas "$m" -changes "$CHANGES" -idle 60s -wait 120s 2>&1
	done
	echo "# run: fleetscale -n $N -changes $CHANGES"
	"$tmp/fleetscale" -corsgate "$tmp/corsgate" -n "$N" -changes "$CHANGES" -idle 30s 2>&1
} | tee results/fleet-scale.txt.tmp >&2
mv results/fleet-scale.txt.tmp results/fleet-scale.txt
$GO run ./cmd/report -out ../BENCHMARKS.md
