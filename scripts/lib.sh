# shellcheck shell=bash
# lib.sh: shell functions shared by make fleet (scripts/fleet.sh) and the
# load scripts (bench/*.sh). The scripts that source it keep the PIDs of
# what they start in the array pids, and stop them at exit.

# start_etcd NAME DATA_DIR CLIENT_PORT PEER_PORT LOG: a one-member etcd
# ($ETCD_PATH, or etcd in PATH) on 127.0.0.1 in the background (its PID
# appended to pids, and in etcd_pid), then wait until it answers healthy;
# exit 1, with the end of its log, when it stops or does not answer
# within 10 s.
start_etcd() {
	local name=$1 data=$2 client=$3 peer=$4 log=$5
	"${ETCD_PATH:-etcd}" --name "$name" --data-dir "$data" \
		--listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
		--listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
		--initial-cluster "$name=http://127.0.0.1:$peer" \
		--auto-compaction-mode=periodic --auto-compaction-retention=1h >"$log" 2>&1 &
	etcd_pid=$!
	pids+=("$etcd_pid")
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$client/health" 2>/dev/null | grep -q '"health":"true"' && return 0
		kill -0 "$etcd_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "etcd did not start on 127.0.0.1:$client; the end of $log:" >&2
	tail -10 "$log" >&2
	exit 1
}

# wait_up URL [CURL_ARGS...]: wait up to 10 s until URL answers 2xx.
wait_up() {
	local url=$1
	shift
	for _ in $(seq 100); do
		curl -fs -o /dev/null --max-time 1 "$@" "$url" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$url does not answer" >&2
	return 1
}

# start_replica CORSGATE CONFIG ID GATEWAY_PORT ADMIN_PORT STATE_DIR LOG
# [FLAGS...]: corsgate run in the background (its PID appended to pids,
# and in replica_pid) with its admin API on 127.0.0.1:ADMIN_PORT, as
# replica ID of a fleet. The credentials come from CORSGATE_ADMIN_USER
# and CORSGATE_ADMIN_PASSWORD.
start_replica() {
	local bin=$1 config=$2 id=$3 port=$4 admin=$5 state=$6 log=$7
	shift 7
	"$bin" run -c "$config" -p "$port" --admin-listen "127.0.0.1:$admin" \
		--state-dir "$state" --replica-id "$id" "$@" >"$log" 2>&1 &
	replica_pid=$!
	pids+=("$replica_pid")
}

# gateway_config PORT BACKEND_PORT [EXTRA]: a KrakenD v3 configuration on
# 127.0.0.1:PORT with one endpoint, GET /users/{id}, proxied as it is to
# the backend on 127.0.0.1:BACKEND_PORT, the access log off, and EXTRA
# (more members of extra_config, such as a security/cors block) when given.
gateway_config() {
	local port=$1 backend=$2 extra='"router": {"disable_access_log": true}'
	if [ -n "${3:-}" ]; then extra="$extra, $3"; fi
	cat <<JSON
{
  "version": 3,
  "port": $port,
  "listen_ip": "127.0.0.1",
  "timeout": "3s",
  "extra_config": { $extra },
  "endpoints": [{
    "endpoint": "/users/{id}",
    "method": "GET",
    "output_encoding": "no-op",
    "backend": [{ "host": ["http://127.0.0.1:$backend"], "url_pattern": "/users/{id}", "encoding": "no-op" }]
  }]
}
JSON
}
