#!/usr/bin/env bash
# make fleet: etcd and three replicas of the example gateway on loopback,
# sharing their run-time CORS changes (docs/examples/fleet.json), and the
# demo backend they proxy to. Every port is an environment variable (or
# make fleet VAR=PORT):
#   FLEET_ETCD_PORT       2379  etcd's clients  (data in bin/fleet/etcd, fresh each run)
#   FLEET_ETCD_PEER_PORT  2380  etcd's peers
#   FLEET_BACKEND_PORT    8090  the demo backend (make run's is on 8000)
#   FLEET_GATEWAY_PORT    8081  replica rN's gateway on FLEET_GATEWAY_PORT+N-1
#   FLEET_ADMIN_PORT      9101  replica rN's admin API on FLEET_ADMIN_PORT+N-1
# Every port is checked before anything starts. The configuration the
# replicas run is bin/fleet/fleet.json: the example with these ports.
# A process that stops is named, with its exit status and the end of its
# log, and the others are stopped; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
dir=$BIN/fleet
example=docs/examples/fleet.json
me="make fleet"

if ((BASH_VERSINFO[0] < 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] < 1))); then
	echo "$me: needs bash 5.1 or later (wait -n -p); this is bash $BASH_VERSION" >&2
	exit 1
fi

problems=()
# port_of NAME VAR DEFAULT: sets NAME to the value of VAR (DEFAULT when
# unset), or notes the problem when it is not a port number.
port_of() {
	local v=${!2:-$3}
	if ! [[ $v =~ ^[0-9]{1,5}$ ]] || ((10#$v < 1 || 10#$v > 65535)); then
		problems+=("$2=$v is not a port number (1 to 65535)")
		v=0
	fi
	printf -v "$1" '%d' $((10#$v))
}
etcd_port=0 peer_port=0 backend_port=0 gateway_port=0 admin_port=0
port_of etcd_port FLEET_ETCD_PORT 2379
port_of peer_port FLEET_ETCD_PEER_PORT 2380
port_of backend_port FLEET_BACKEND_PORT 8090
port_of gateway_port FLEET_GATEWAY_PORT 8081
port_of admin_port FLEET_ADMIN_PORT 9101
if ((${#problems[@]} > 0)); then
	for p in "${problems[@]}"; do echo "$me: $p" >&2; done
	exit 1
fi

# The ports: each with what uses it and the variable that sets it (the
# replicas' are their variable's value plus 0, 1 and 2).
ports=() labels=() vars=()
add_port() { ports+=("$1") labels+=("$2") vars+=("$3"); }
add_port "$etcd_port" "etcd's client port" FLEET_ETCD_PORT
add_port "$peer_port" "etcd's peer port" FLEET_ETCD_PEER_PORT
add_port "$backend_port" "the demo backend" FLEET_BACKEND_PORT
for n in 1 2 3; do
	off=$((n - 1)) plus=""
	((off == 0)) || plus="+$off"
	add_port $((gateway_port + off)) "r$n's gateway" "FLEET_GATEWAY_PORT$plus"
	add_port $((admin_port + off)) "r$n's admin API" "FLEET_ADMIN_PORT$plus"
done
declare -A base_value=([FLEET_GATEWAY_PORT]=$gateway_port [FLEET_ADMIN_PORT]=$admin_port)

# in_use PORT: something accepts connections on 127.0.0.1:PORT.
in_use() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# held_by PORT: " by NAME (pid N)" when ss can tell.
held_by() {
	local line
	line=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -1) || true
	[[ $line =~ \"([^\"]*)\",pid=([0-9]*) ]] && echo " by ${BASH_REMATCH[1]} (pid ${BASH_REMATCH[2]})"
	return 0
}

# free_from PORT COUNT: the first port from PORT on with COUNT free ports
# in a row, none of them the fleet's.
free_from() {
	local p=$1 count=$2 i ok
	for ((; p + count - 1 <= 65535; p++)); do
		ok=1
		for ((i = 0; i < count; i++)); do
			if [[ " ${ports[*]} " == *" $((p + i)) "* ]] || in_use $((p + i)); then
				ok=0
				break
			fi
		done
		if ((ok)); then
			echo "$p"
			return 0
		fi
	done
	return 0
}

# Before anything is printed or started: every port is the fleet's once,
# within 1 to 65535, and free.
for i in "${!ports[@]}"; do
	p=${ports[$i]} var=${vars[$i]}
	base=${var%%+*}
	count=1
	[[ $base == FLEET_GATEWAY_PORT || $base == FLEET_ADMIN_PORT ]] && count=3
	if ((p > 65535)); then
		problems+=("$var is $p, above 65535: set $base to at most $((65535 - count + 1))")
		continue
	fi
	for ((j = 0; j < i; j++)); do
		if ((ports[j] == p)); then
			problems+=("port $p is both ${labels[$j]} (${vars[$j]}) and ${labels[$i]} ($var): give them different ports")
		fi
	done
	if in_use "$p"; then
		how="stop what listens there"
		suggest=$(free_from $((p + 1)) "$count")
		[[ -n $suggest ]] && how+=", or pick another port: make fleet $base=$suggest (or $base=$suggest scripts/fleet.sh)"
		from=$var
		[[ $var == "$base" ]] || from+="; $base is ${base_value[$base]}"
		problems+=("port $p for ${labels[$i]} ($from) is in use on 127.0.0.1$(held_by "$p"); $how")
	fi
done
if ((${#problems[@]} > 0)); then
	for p in "${problems[@]}"; do echo "$me: $p" >&2; done
	exit 1
fi

rm -rf "$dir" && mkdir -p "$dir"

# The example with this run's ports for etcd and the backend.
config=$dir/fleet.json
sed -e "s|http://127.0.0.1:8090\"|http://127.0.0.1:$backend_port\"|g" \
	-e "s|http://127.0.0.1:2379\"|http://127.0.0.1:$etcd_port\"|g" "$example" >"$config"
if ! grep -q "\"http://127.0.0.1:$backend_port\"" "$config" || ! grep -q "\"http://127.0.0.1:$etcd_port\"" "$config"; then
	echo "$me: $example no longer names the backend http://127.0.0.1:8090 and etcd http://127.0.0.1:2379, which this script replaces with the ports of this run; update scripts/fleet.sh" >&2
	exit 1
fi

pids=()
declare -A name_of log_of
# track PID NAME LOG: a process of the fleet, for the report if it stops.
track() { name_of[$1]=$2 log_of[$1]=$3; }

# report PID STATUS: which process stopped, how, and the end of its log.
report() {
	local pid=$1 status=$2 how
	how="stopped with exit status $status"
	if ((status > 128)); then
		how="was killed by signal $(kill -l $((status - 128)) 2>/dev/null || echo $((status - 128)))"
	fi
	echo "$me: ${name_of[$pid]:-process $pid} $how; the last lines of ${log_of[$pid]:-its log}:" >&2
	if [[ -n ${log_of[$pid]:-} ]]; then
		tail -n 10 "${log_of[$pid]}" | sed 's/^/  /' >&2
	fi
}

stopping=0
cleanup() {
	trap - EXIT INT TERM
	stopping=1
	if ((${#pids[@]} > 0)); then
		kill "${pids[@]}" 2>/dev/null || true
		wait "${pids[@]}" 2>/dev/null || true
	fi
}
# Ctrl-C (or a TERM) is how the fleet is meant to end: stop everything,
# say so in one line, and succeed.
interrupted() {
	cleanup
	echo "$me: stopped"
	exit 0
}
trap cleanup EXIT
trap interrupted INT TERM

# stopped_early: when a process of the fleet has already stopped, report
# it and exit 1.
stopped_early() {
	local pid status
	for pid in "${pids[@]}"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			status=0
			# (2>/dev/null: bash's own "PID Killed COMMAND" notice.)
			wait "$pid" 2>/dev/null || status=$?
			report "$pid" "$status"
			exit 1
		fi
	done
}

# ready PID URL [CURL_ARGS...]: wait up to 15 s until URL, served by
# process PID, answers 2xx; exit 1, naming what stopped or what does not
# answer, when it does not.
ready() {
	local pid=$1 url=$2
	shift 2
	for _ in $(seq 150); do
		curl -fs -o /dev/null --max-time 1 "$@" "$url" 2>/dev/null && return 0
		stopped_early
		sleep 0.1
	done
	echo "$me: ${name_of[$pid]} runs, but $url does not answer after 15 s; the last lines of ${log_of[$pid]}:" >&2
	tail -n 10 "${log_of[$pid]}" | sed 's/^/  /' >&2
	exit 1
}

. scripts/lib.sh
start_etcd fleet "$dir/etcd" "$etcd_port" "$peer_port" "$dir/etcd.log"
track "$etcd_pid" "etcd (127.0.0.1:$etcd_port)" "$dir/etcd.log"

"$BIN/demo-backend" -listen "127.0.0.1:$backend_port" >"$dir/backend.log" 2>&1 &
backend_pid=$!
pids+=("$backend_pid")
track "$backend_pid" "the demo backend (127.0.0.1:$backend_port)" "$dir/backend.log"

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export CORSGATE_ADMIN_USER=admin CORSGATE_ADMIN_PASSWORD=$password
replica_pids=()
for n in 1 2 3; do
	g=$((gateway_port + n - 1)) a=$((admin_port + n - 1))
	start_replica "$BIN/corsgate" "$config" "r$n" "$g" "$a" "$dir/r$n" "$dir/r$n.log"
	replica_pids+=("$replica_pid")
	track "$replica_pid" "r$n (corsgate run, gateway 127.0.0.1:$g, admin API 127.0.0.1:$a)" "$dir/r$n.log"
done
ready "$backend_pid" "http://127.0.0.1:$backend_port/users"
for n in 1 2 3; do
	ready "${replica_pids[$((n - 1))]}" "http://127.0.0.1:$((admin_port + n - 1))/v1/cors/status" -u "admin:$password"
done

a1=$admin_port a2=$((admin_port + 1)) a3=$((admin_port + 2)) g3=$((gateway_port + 2))
cat <<MSG
etcd on 127.0.0.1:$etcd_port; the demo backend on 127.0.0.1:$backend_port; replicas r1, r2, r3:
gateways on 127.0.0.1:$gateway_port-$g3, admin APIs on 127.0.0.1:$a1-$a3 (user admin,
password $password); logs in $dir/.

Add an origin on r1, and answer only once every replica applies it:
  curl -u admin:$password -X PUT -H 'Content-Type: application/json' \\
    'http://127.0.0.1:$a1/_api/v2/user/config/cors?wait=fleet' \\
    -d '{"origins": ["http://localhost:5173", "https://new.example.com"]}'
See it on r3 (the admin API, then a preflight on its gateway):
  curl -u admin:$password http://127.0.0.1:$a3/_api/v2/user/config/cors
  curl -si -X OPTIONS http://127.0.0.1:$g3/users -H 'Origin: https://new.example.com' \\
    -H 'Access-Control-Request-Method: GET' | grep -i access-control-allow-origin
The fleet, and the revision each replica applies:
  CORSGATE_ADMIN_PASSWORD=$password $BIN/corsgate config fleet --admin http://127.0.0.1:$a2
Ctrl-C stops etcd, the backend and the replicas.
MSG

status=0
stopped=""
wait -n -p stopped "${pids[@]}" 2>/dev/null || status=$?
# A Ctrl-C during the wait has run interrupted, which exits; here, one
# of the fleet stopped by itself.
if ((stopping == 0)) && [[ -n $stopped ]]; then
	report "$stopped" "$status"
	others=""
	for pid in "${pids[@]}"; do
		[[ $pid == "$stopped" ]] || others+="${others:+, }${name_of[$pid]%% (*}"
	done
	echo "$me: stopping the others: $others" >&2
	exit 1
fi
