#!/usr/bin/env bash
# fleet.sh: the fleet's figures, run by `make load-fleet`.
#
# 1. Convergence: the e2e test TestFleet/Convergence (real etcd, three
#    corsgate run processes): 200 changes on replica 1, the time until a
#    preflight on replicas 2 and 3 follows each one.
# 2. Load with churn: on 127.0.0.1 only, etcd, the counting backend and
#    three replicas of one configuration sharing an etcd store; wrk drives
#    all three at once (wrk/mixed.lua), REPS times without changes and REPS
#    times while cmd/changer applies a new policy 10 times a second through
#    the replicas in turn (PUT with If-Match, paced by a ticker),
#    interleaved. Per replica and run: requests, requests/s, CPU time per
#    request (user + system, from /proc), non-2xx and mixed answers.
#
#   REPS      repetitions (default 5)
#   DURATION  wrk -d (default 8s)
#   WRK_ARGS  wrk's other arguments, per replica (default -t1 -c8)
#   PORT_BASE backend on PORT_BASE+10, gateways +11..+13, admin APIs
#             +21..+23, etcd +31 and +32 (default 18500)
set -euo pipefail
cd "$(dirname "$0")"
REPS=${REPS:-5}
DURATION=${DURATION:-8s}
WRK_ARGS=${WRK_ARGS:-"-t1 -c8"}
PORT_BASE=${PORT_BASE:-18500}
GO=${GO:-go}
backend_port=$((PORT_BASE + 10))
etcd_port=$((PORT_BASE + 31))

command -v wrk >/dev/null || { echo "fleet: wrk is not installed (make load-fleet installs it)" >&2; exit 1; }
command -v etcd >/dev/null || { echo "fleet: etcd is not installed (make load-fleet installs it)" >&2; exit 1; }
mkdir -p results

echo "fleet: convergence (go test -run TestFleet/Convergence ./e2e/)" >&2
(cd .. && CORSGATE_FLEET_REPORT="$PWD/bench/results/fleet-convergence.txt" $GO test -count=1 -run 'TestFleet$/Convergence' ./e2e/ >&2)

NAME=fleet
. ./common.sh
$GO build -o "$tmp/changer" ./cmd/changer

start_etcd bench "$tmp/etcd" "$etcd_port" $((PORT_BASE + 32)) "$tmp/etcd.log"
gateway_config $((PORT_BASE + 11)) "$backend_port" '"security/cors": {"allow_origins": ["https://a.example"], "expose_headers": ["X-A"]},
    "corsgate/admin": {"store": {"type": "etcd", "endpoints": ["http://127.0.0.1:'"$etcd_port"'"], "prefix": "/corsgate/bench/"}}' >"$tmp/gw.json"

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
"$tmp/loadbackend" -listen "127.0.0.1:$backend_port" >"$tmp/backend.log" 2>&1 &
pids+=($!)
gw_pids=()
export CORSGATE_ADMIN_USER=bench CORSGATE_ADMIN_PASSWORD=$password
for n in 1 2 3; do
	start_replica "$tmp/corsgate" "$tmp/gw.json" "r$n" $((PORT_BASE + 10 + n)) $((PORT_BASE + 20 + n)) "$tmp/r$n" "$tmp/r$n.log" --no-watch
	gw_pids+=("$replica_pid")
done
for n in 1 2 3; do
	wait_up "http://127.0.0.1:$((PORT_BASE + 10 + n))/__health"
done

admin=(-s -u "bench:$password" -H 'Content-Type: application/json')
revision() { curl "${admin[@]}" "http://127.0.0.1:$((PORT_BASE + 21))/v1/cors/status" | sed -n 's/^  "revision": \([0-9]*\).*/\1/p'; }

out=results/fleet.txt
{
	echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "# cpu-model: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
	echo "# corsgate-revision: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); etcd $(etcd --version | sed -n 's/^etcd Version: //p')"
	echo "# three replicas, each driven by wrk $WRK_ARGS -d $DURATION -s wrk/mixed.lua at once; changes: 10 a second through the replicas in turn (cmd/changer, one process)"
	sed 's/^/# /' results/fleet-convergence.txt 2>/dev/null || true
	echo "# run changes replica requests rps cpu_us_per_req non2xx mixed changes_applied"
} >"$out"
for rep in $(seq 1 "$REPS"); do
	for mode in off on; do
		if [ $(( rep % 2 )) = 0 ]; then mode=$([ $mode = off ] && echo on || echo off); fi
		rev_before=$(revision)
		chg=""
		if [ $mode = on ]; then
			CORSGATE_ADMIN_USER=bench CORSGATE_ADMIN_PASSWORD=$password "$tmp/changer" -rate 10 -d "$DURATION" \
				"http://127.0.0.1:$((PORT_BASE + 21))" "http://127.0.0.1:$((PORT_BASE + 22))" "http://127.0.0.1:$((PORT_BASE + 23))" >"$tmp/changer.txt" &
			chg=$!
		fi
		declare -a t0 wrks
		for n in 1 2 3; do
			t0[$n]=$(cputicks "${gw_pids[$((n - 1))]}")
			wrk $WRK_ARGS -d "$DURATION" -s wrk/mixed.lua "http://127.0.0.1:$((PORT_BASE + 10 + n))" >"$tmp/wrk$n.txt" &
			wrks[$n]=$!
		done
		for n in 1 2 3; do wait "${wrks[$n]}"; done
		declare -a t1
		for n in 1 2 3; do t1[$n]=$(cputicks "${gw_pids[$((n - 1))]}"); done
		if [ -n "$chg" ]; then wait $chg; echo "changer: $(cat "$tmp/changer.txt")" >&2; fi
		sleep 0.2
		rev_after=$(revision)
		for n in 1 2 3; do
			res=$(cat "$tmp/wrk$n.txt")
			reqs=$(printf '%s\n' "$res" | sed -n 's/^counts: requests \([0-9]*\).*/\1/p')
			rps=$(printf '%s\n' "$res" | sed -n 's/^Requests\/sec: *//p')
			non2xx=$(printf '%s\n' "$res" | sed -n 's/.*non2xx \([0-9]*\).*/\1/p')
			mixed=$(printf '%s\n' "$res" | sed -n 's/.*mixed \([0-9]*\).*/\1/p')
			allowed=$(printf '%s\n' "$res" | sed -n 's/.*allowed \([0-9]*\).*/\1/p')
			if [ "${allowed:-0}" -lt $((reqs / 4)) ]; then
				echo "fleet: only ${allowed:-0} of $reqs answers of replica $n carried Access-Control-Allow-Origin; the mixed-policy check cannot be trusted" >&2
				exit 1
			fi
			cpu=$(awk -v d=$((t1[n] - t0[n])) -v n="$reqs" -v hz="$clk_tck" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')
			echo "$rep $mode r$n $reqs $rps $cpu $non2xx $mixed $((rev_after - rev_before))" | tee -a "$out" >&2
		done
	done
done
awk '!/^#/ { k = $3; cpu[$2 " " k] += $6; n[$2 " " k]++; mixed += $8; bad += $7 } END {
	line = "# mean CPU per request, with changes over without:"
	for (r = 1; r <= 3; r++) { k = "r" r; on = cpu["on " k] / n["on " k]; off = cpu["off " k] / n["off " k]; line = line sprintf(" %s %.2f/%.2f us = %.3f;", k, on, off, on / off) }
	printf "%s non-2xx %d; mixed %d\n", line, bad, mixed
}' "$out" | tee -a "$out" >&2
$GO run ./cmd/report -out ../BENCHMARKS.md
