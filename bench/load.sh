#!/usr/bin/env bash
# load.sh: the load test of BENCHMARKS.md, run by `make load`.
#
# Starts, on 127.0.0.1 only, the counting backend (cmd/loadbackend), the
# corsgate binary with CORS on and with CORS off, and the KrakenD CE-style
# gateway (cmd/krakendce) with the same CORS policy; then runs wrk against
# them, scenario after scenario, REPS times (interleaved), recording the
# backend's request counter around every run. Odd repetitions run the
# scenarios in one order, even ones in the reverse order, so that a drift
# of the machine's speed does not favour one gateway; the report compares
# the gateways repetition by repetition. Everything it starts is
# stopped when it exits. Bounded: REPS x 5 runs of DURATION each.
#
#   REPS      repetitions (default 5)
#   DURATION  wrk -d (default 8s)
#   WRK_ARGS  wrk's other arguments (default -t2 -c32 --latency)
#   PORT_BASE backend on PORT_BASE, gateways on the next three ports
#             (default 18400)
set -euo pipefail
cd "$(dirname "$0")"
REPS=${REPS:-5}
DURATION=${DURATION:-8s}
WRK_ARGS=${WRK_ARGS:-"-t2 -c32 --latency"}
PORT_BASE=${PORT_BASE:-18400}
GO=${GO:-go}

backend_port=$PORT_BASE
on_port=$((PORT_BASE + 1))
off_port=$((PORT_BASE + 2))
ce_port=$((PORT_BASE + 3))

command -v wrk >/dev/null || { echo "load: wrk is not installed (make load installs it)" >&2; exit 1; }
for p in $backend_port $on_port $off_port $ce_port; do
	if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"; then
		echo "load: something already listens on 127.0.0.1:$p; set PORT_BASE" >&2
		exit 1
	fi
done

NAME=load
. ./common.sh
$GO build -o "$tmp/krakendce" ./cmd/krakendce

cors='{"allow_origins": ["https://app.example.com"], "allow_methods": ["GET", "POST", "PUT", "DELETE"], "allow_headers": ["Content-Type", "X-Api-Key"]}'
gateway_config "$on_port" "$backend_port" "\"security/cors\": $cors" >"$tmp/on.json"
gateway_config "$off_port" "$backend_port" >"$tmp/off.json"
gateway_config "$ce_port" "$backend_port" "\"security/cors\": $cors" >"$tmp/ce.json"

"$tmp/loadbackend" -listen "127.0.0.1:$backend_port" >"$tmp/backend.log" 2>&1 &
pids+=($!)
"$tmp/corsgate" run -c "$tmp/on.json" >"$tmp/on.log" 2>&1 &
pids+=($!)
on_pid=$!
"$tmp/corsgate" run -c "$tmp/off.json" >"$tmp/off.log" 2>&1 &
pids+=($!)
off_pid=$!
"$tmp/krakendce" -c "$tmp/ce.json" >"$tmp/ce.log" 2>&1 &
pids+=($!)
ce_pid=$!

wait_ready() {
	local url=$1
	for _ in $(seq 1 100); do
		if curl -s -o /dev/null --max-time 1 "$url"; then return 0; fi
		sleep 0.1
	done
	echo "load: $url did not answer; logs:" >&2
	tail -n 20 "$tmp"/*.log >&2
	exit 1
}
wait_ready "http://127.0.0.1:$backend_port/__count"
for p in $on_port $off_port $ce_port; do wait_ready "http://127.0.0.1:$p/__health"; done

count() { curl -s --max-time 2 "http://127.0.0.1:$backend_port/__count"; }

# check NAME PORT METHOD WANT_STATUS WANT_ACAO [curl args]: one request
# before the load, so that the figures are known to measure the right
# answer.
check() {
	local name=$1 port=$2 method=$3 want_status=$4 want_acao=$5
	shift 5
	local hdrs status acao
	hdrs=$(curl -s -D - -o /dev/null --max-time 2 -X "$method" "$@" "http://127.0.0.1:$port/users/42")
	status=$(printf '%s' "$hdrs" | head -1 | awk '{print $2}')
	acao=$(printf '%s' "$hdrs" | tr -d '\r' | sed -n 's/^[Aa]ccess-[Cc]ontrol-[Aa]llow-[Oo]rigin: //p')
	if [ "$status" != "$want_status" ] || [ "$acao" != "$want_acao" ]; then
		echo "load: $name $method: status $status, Access-Control-Allow-Origin '$acao'; want $want_status, '$want_acao'" >&2
		printf '%s\n' "$hdrs" >&2
		exit 1
	fi
	echo "load: check $name $method: $status, Access-Control-Allow-Origin '$acao'" >&2
}
origin=(-H "Origin: https://app.example.com")
pre=(-H "Origin: https://app.example.com" -H "Access-Control-Request-Method: PUT" -H "Access-Control-Request-Headers: content-type,x-api-key")
check corsgate-cors-on $on_port OPTIONS 204 https://app.example.com "${pre[@]}"
check corsgate-cors-on $on_port GET 200 https://app.example.com "${origin[@]}"
check corsgate-cors-off $off_port GET 200 "" "${origin[@]}"
check krakendce $ce_port OPTIONS 204 https://app.example.com "${pre[@]}"
check krakendce $ce_port GET 200 https://app.example.com "${origin[@]}"

mkdir -p results
out=results/load.txt
{
	echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "# cpu-model: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	echo "# cores: $(nproc)"
	echo "# go: $($GO version)"
	rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	if ! git diff --quiet HEAD -- ../plugin ../schema ../cmd ../go.mod ':(exclude,glob)**/*_test.go' 2>/dev/null; then rev="$rev + uncommitted non-test changes under plugin/, schema/ or cmd/"; fi
	echo "# corsgate-revision: $rev"
	echo "# wrk-args: $WRK_ARGS -d$DURATION"
	echo "# command: $(wrk -v 2>&1 | head -1 | cut -c1-60); $REPS repetitions of 5 runs"
} >"$out"

scenarios=(
	"corsgate-cors-on preflight $on_port $on_pid"
	"corsgate-cors-on actual $on_port $on_pid"
	"corsgate-cors-off actual $off_port $off_pid"
	"krakendce preflight $ce_port $ce_pid"
	"krakendce actual $ce_port $ce_pid"
)

echo "load: warm-up" >&2
for s in "${scenarios[@]}"; do
	read -r name kind port pid <<<"$s"
	wrk -t2 -c32 -d2s -s "wrk/$kind.lua" "http://127.0.0.1:$port/users/42" >/dev/null
done

reversed=()
for ((i = ${#scenarios[@]} - 1; i >= 0; i--)); do reversed+=("${scenarios[$i]}"); done

for rep in $(seq 1 "$REPS"); do
	order=("${scenarios[@]}")
	if ((rep % 2 == 0)); then order=("${reversed[@]}"); fi
	for s in "${order[@]}"; do
		read -r name kind port pid <<<"$s"
		echo "load: rep $rep: $name $kind" >&2
		before=$(count)
		cpu_before=$(cputicks "$pid")
		res=$(wrk $WRK_ARGS -d"$DURATION" -s "wrk/$kind.lua" "http://127.0.0.1:$port/users/42")
		cpu_after=$(cputicks "$pid")
		after=$(count)
		{
			echo "=== run scenario=$name kind=$kind rep=$rep backend_before=$before cpu_before=$cpu_before"
			printf '%s\n' "$res"
			echo "=== end backend_after=$after cpu_after=$cpu_after clk_tck=$clk_tck"
		} >>"$out"
	done
done

for f in on off ce; do
	if grep -qiE 'panic|fatal' "$tmp/$f.log"; then
		echo "load: the $f gateway logged a panic:" >&2
		cat "$tmp/$f.log" >&2
		exit 1
	fi
done

$GO run ./cmd/report -out ../BENCHMARKS.md
