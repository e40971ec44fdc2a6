#!/usr/bin/env bash
# make fleet: etcd and three replicas of the example gateway on loopback,
# sharing their run-time CORS changes (docs/examples/fleet.json).
#   etcd        http://127.0.0.1:2379   (data in bin/fleet/etcd, fresh each run)
#   demo backend 127.0.0.1:8000
#   replica rN  gateway 127.0.0.1:808N, admin API 127.0.0.1:910N, state bin/fleet/rN
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
dir=$BIN/fleet
rm -rf "$dir" && mkdir -p "$dir"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

. scripts/lib.sh
start_etcd fleet "$dir/etcd" 2379 2380 "$dir/etcd.log"

"$BIN/demo-backend" -listen 127.0.0.1:8000 >"$dir/backend.log" 2>&1 &
pids+=($!)

password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export CORSGATE_ADMIN_USER=admin CORSGATE_ADMIN_PASSWORD=$password
for n in 1 2 3; do
	start_replica "$BIN/corsgate" docs/examples/fleet.json "r$n" "808$n" "910$n" "$dir/r$n" "$dir/r$n.log"
done
for n in 1 2 3; do
	wait_up "http://127.0.0.1:910$n/v1/cors/status" -u "admin:$password" || true
done

cat <<MSG
etcd on 127.0.0.1:2379; replicas r1, r2, r3: gateways on 127.0.0.1:8081-8083,
admin APIs on 127.0.0.1:9101-9103 (user admin, password $password); logs in $dir/.

Add an origin on r1, and answer only once every replica applies it:
  curl -u admin:$password -X PUT -H 'Content-Type: application/json' \\
    'http://127.0.0.1:9101/_api/v2/user/config/cors?wait=fleet' \\
    -d '{"origins": ["http://localhost:5173", "https://new.example.com"]}'
See it on r3 (the admin API, then a preflight on its gateway):
  curl -u admin:$password http://127.0.0.1:9103/_api/v2/user/config/cors
  curl -si -X OPTIONS http://127.0.0.1:8083/users -H 'Origin: https://new.example.com' \\
    -H 'Access-Control-Request-Method: GET' | grep -i access-control-allow-origin
The fleet, and the revision each replica applies:
  CORSGATE_ADMIN_USER=admin CORSGATE_ADMIN_PASSWORD=$password bin/corsgate config fleet --admin http://127.0.0.1:9102
Ctrl-C stops etcd, the backend and the replicas.
MSG
wait -n "${pids[@]}" || true
echo "a process stopped; see the logs in $dir/"
