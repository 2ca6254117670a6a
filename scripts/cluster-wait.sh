#!/usr/bin/env bash
# Waits until the compose cluster answers from the host: a raft leader with 3 voters and
# WORKERS workers alive in the members (default: the running worker containers). Used by
# `make cluster-up` and scripts/e2e.sh.
#   TOKENMILL_ADDR  a coordinator's published gRPC address (default 127.0.0.1:7010)
#   TM              the host's tokenmill binary (default bin/image/tokenmill)
#   WAIT_TIMEOUT    seconds (default 120)
set -euo pipefail
cd "$(dirname "$0")/.."
TM=${TM:-bin/image/tokenmill}
export TOKENMILL_ADDR=${TOKENMILL_ADDR:-127.0.0.1:7010}
deadline=$((SECONDS + ${WAIT_TIMEOUT:-120}))
want=${WORKERS:-}
while :; do
  peers=$("$TM" operator raft list-peers --json 2>/dev/null || true)
  members=$("$TM" members --json 2>/dev/null || true)
  status=$(python3 - "$peers" "$members" "$want" <<'PY'
import json, sys
try:
    peers = json.loads(sys.argv[1])["peers"]
    members = json.loads(sys.argv[2])["members"]
except Exception:
    print("no answer yet"); sys.exit(1)
leaders = sum(p["state"] == "leader" for p in peers)
voters = sum(p["voter"] for p in peers)
workers = sum(m["role"] == "worker" and m["state"] == "alive" for m in members)
want = int(sys.argv[3]) if sys.argv[3] else None
print(f"{leaders} leader, {voters} voters, {workers} workers alive")
sys.exit(0 if leaders == 1 and voters == 3 and (want is None or workers == want) else 1)
PY
) && { echo "cluster ready: $status"; exit 0; }
  if [ $SECONDS -ge $deadline ]; then
    echo "cluster not ready within ${WAIT_TIMEOUT:-120}s: $status" >&2
    exit 1
  fi
  sleep 1
done
