# common.sh: what the load scripts (load.sh, runtime.sh, fleet.sh) share.
# Sourced from bench/ with NAME set (the prefix of the script's messages).
# It makes $tmp, a temporary directory removed at exit with every process
# whose PID is appended to pids, and builds corsgate and the counting
# backend into it. The functions of ../scripts/lib.sh (start_etcd,
# start_replica, wait_up, gateway_config) come with it.

. ../scripts/lib.sh

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "$NAME: building" >&2
(cd .. && $GO build -o "$tmp/corsgate" ./cmd/corsgate)
$GO build -o "$tmp/loadbackend" ./cmd/loadbackend

# cputicks PID: the process's user + system CPU time so far, in clock ticks
# (getconf CLK_TCK a second).
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)
