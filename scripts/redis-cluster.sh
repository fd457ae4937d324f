#!/usr/bin/env bash
# A throwaway 3-master/3-replica Redis Cluster on loopback, for running a test
# suite against a cluster by hand:
#   url=$(bash scripts/redis-cluster.sh start)        # prints redis+cluster://…
#   TAREFA__REDIS__URL=$url cargo nextest run -p tarefa-engine --test engine_flow
#   bash scripts/redis-cluster.sh stop
# Ports BASE..BASE+5 (BASE=${REDIS_CLUSTER_PORT:-7100}), data under /tmp/tarefa-redis-cluster-BASE.
# The engine's own cluster tests need none of this: they start their servers
# themselves (engine/src/servers.rs).
set -euo pipefail
base=${REDIS_CLUSTER_PORT:-7100}
dir=/tmp/tarefa-redis-cluster-$base
case "${1:-start}" in
start)
  mkdir -p "$dir"
  hosts=()
  for i in 0 1 2 3 4 5; do
    p=$((base + i))
    mkdir -p "$dir/$p"
    (cd "$dir/$p" && redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 1000 --save "" --appendonly no \
      --daemonize yes --pidfile "$dir/$p/redis.pid" --logfile "$dir/$p/redis.log" >/dev/null)
    hosts+=("127.0.0.1:$p")
  done
  for i in 0 1 2 3 4 5; do
    until redis-cli -p $((base + i)) ping >/dev/null 2>&1; do sleep 0.1; done
  done
  redis-cli --cluster create "${hosts[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log"
  until [ "$(redis-cli -p "$base" cluster info | tr -d '\r' | grep cluster_state)" = "cluster_state:ok" ]; do sleep 0.1; done
  echo "redis+cluster://$(IFS=,; echo "${hosts[*]}")"
  ;;
stop)
  for f in "$dir"/*/redis.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  done
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
