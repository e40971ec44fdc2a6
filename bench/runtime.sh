#!/usr/bin/env bash
# runtime.sh: the load test of run-time changes, run by `make load-runtime`.
#
# Starts, on 127.0.0.1 only, the counting backend and corsgate with its
# admin API, then runs wrk (wrk/mixed.lua: GET from two origins in turn)
# REPS times without changes and REPS times while a changer applies a new
# policy through the admin API 10 times a second (alternating policy A,
# https://a.example with X-A exposed, and B), interleaved. It reports, per
# run: requests/s, the gateway's CPU time per request (user + system, from
# /proc), non-2xx answers and answers that mix the two policies; and the
# apply latency the admin API measured (write received to policy in
# place). Bounded: 2 x REPS runs of DURATION each.
#
#   REPS      repetitions (default 5)
#   DURATION  wrk -d (default 8s)
#   WRK_ARGS  wrk's other arguments (default -t2 -c32)
#   PORT_BASE backend on PORT_BASE+10, gateway on +11, admin API on +12
#             (default 18400)
set -euo pipefail
cd "$(dirname "$0")"
REPS=${REPS:-5}
DURATION=${DURATION:-8s}
WRK_ARGS=${WRK_ARGS:-"-t2 -c32"}
PORT_BASE=${PORT_BASE:-18400}
GO=${GO:-go}
backend_port=$((PORT_BASE + 10))
gw_port=$((PORT_BASE + 11))
admin_port=$((PORT_BASE + 12))

command -v wrk >/dev/null || { echo "runtime: wrk is not installed (make load-runtime installs it)" >&2; exit 1; }
NAME=runtime
. ./common.sh

gateway_config "$gw_port" "$backend_port" '"security/cors": {"allow_origins": ["https://a.example"], "expose_headers": ["X-A"]},
    "corsgate/admin": {"store": {"type": "embedded", "path": "'"$tmp/state"'"}}' >"$tmp/gw.json"

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
"$tmp/loadbackend" -listen "127.0.0.1:$backend_port" >"$tmp/backend.log" 2>&1 &
pids+=($!)
CORSGATE_ADMIN_USER=bench CORSGATE_ADMIN_PASSWORD=$password \
	"$tmp/corsgate" run -c "$tmp/gw.json" --admin-listen "127.0.0.1:$admin_port" --no-watch >"$tmp/gw.log" 2>&1 &
pids+=($!)
gw_pid=$!
wait_up "http://127.0.0.1:$gw_port/__health"
wait_up "http://127.0.0.1:$backend_port/__count"

admin=(-s -u "bench:$password" -H 'Content-Type: application/json')
# changer: a new policy through the admin API every 100 ms, with the
# revision it has just applied as If-Match.
changer() {
	local i=0 rev
	rev=$(curl "${admin[@]}" -D - -o /dev/null "http://127.0.0.1:$admin_port/v1/cors/layer" | tr -d '\r' | sed -n 's/^Etag: "\(.*\)"/\1/p')
	while :; do
		local p=a h=X-A
		if [ $((i % 2)) = 0 ]; then p=b h=X-B; fi
		rev=$(curl "${admin[@]}" -D - -o /dev/null -X PUT -H "If-Match: \"$rev\"" \
			-d "{\"service\": {\"allow_origins\": [\"https://$p.example\"], \"expose_headers\": [\"$h\"]}}" \
			"http://127.0.0.1:$admin_port/v1/cors/layer" | tr -d '\r' | sed -n 's/^Etag: "\(.*\)"/\1/p')
		i=$((i + 1))
		sleep 0.06
	done
}

mkdir -p results
out=results/runtime.txt
{
	echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "# cpu-model: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
	echo "# corsgate-revision: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "# wrk $WRK_ARGS -d $DURATION -s wrk/mixed.lua; changes: PUT /v1/cors/layer in a loop paced at about 10 a second (curl, then sleep 60 ms)"
	echo "# run changes requests rps cpu_us_per_req non2xx mixed changes_applied"
} >"$out"
for rep in $(seq 1 "$REPS"); do
	for mode in off on; do
		if [ $(( rep % 2 )) = 0 ]; then mode=$([ $mode = off ] && echo on || echo off); fi
		rev_before=$(curl "${admin[@]}" "http://127.0.0.1:$admin_port/v1/cors/status" | sed -n 's/^  "revision": \([0-9]*\).*/\1/p')
		chg=""
		if [ $mode = on ]; then changer & chg=$!; fi
		t0=$(cputicks $gw_pid)
		res=$(wrk $WRK_ARGS -d "$DURATION" -s wrk/mixed.lua "http://127.0.0.1:$gw_port")
		t1=$(cputicks $gw_pid)
		if [ -n "$chg" ]; then kill $chg; wait $chg 2>/dev/null || true; fi
		rev_after=$(curl "${admin[@]}" "http://127.0.0.1:$admin_port/v1/cors/status" | sed -n 's/^  "revision": \([0-9]*\).*/\1/p')
		reqs=$(printf '%s\n' "$res" | sed -n 's/^counts: requests \([0-9]*\).*/\1/p')
		rps=$(printf '%s\n' "$res" | sed -n 's/^Requests\/sec: *//p')
		non2xx=$(printf '%s\n' "$res" | sed -n 's/.*non2xx \([0-9]*\).*/\1/p')
		mixed=$(printf '%s\n' "$res" | sed -n 's/.*mixed \([0-9]*\).*/\1/p')
		allowed=$(printf '%s\n' "$res" | sed -n 's/.*allowed \([0-9]*\).*/\1/p')
		# The checks can fail only if the answers carry CORS headers: about
		# half of them must be allowed (the origin of the current policy).
		if [ "${allowed:-0}" -lt $((reqs / 4)) ]; then
			echo "runtime: only ${allowed:-0} of $reqs answers carried Access-Control-Allow-Origin; the mixed-policy check cannot be trusted" >&2
			exit 1
		fi
		cpu=$(awk -v d=$((t1 - t0)) -v n="$reqs" -v hz="$clk_tck" 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')
		echo "$rep $mode $reqs $rps $cpu $non2xx $mixed $((rev_after - rev_before))" | tee -a "$out" >&2
	done
done
curl "${admin[@]}" "http://127.0.0.1:$admin_port/v1/cors/status" | tr -d '\n ' | sed 's/.*"apply_latency":\({[^}]*}\).*/# apply latency (ms): \1\n/' >>"$out"
awk '!/^#/ { cpu[$2] += $5; n[$2]++; mixed += $7; bad += $6 } END {
	printf "# mean CPU per request: off %.2f us, on %.2f us, ratio on/off %.3f; non-2xx %d; mixed %d\n", cpu["off"]/n["off"], cpu["on"]/n["on"], (cpu["on"]/n["on"])/(cpu["off"]/n["off"]), bad, mixed
}' "$out" | tee -a "$out" >&2
$GO run ./cmd/report -out ../BENCHMARKS.md
