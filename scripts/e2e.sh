#!/usr/bin/env bash
# Chaos end to end on the compose cluster (deploy/compose.yaml), driven from the host's CLI:
#
#   1. a job (three sequence lengths, HF and .npy) over a corpus of tens of MB in .jsonl,
#      .jsonl.zst and .parquet files is submitted; while it runs:
#   2. the raft leader's container is killed (docker kill), and later started again;
#   3. a worker is killed in the middle of a shard;
#   4. a worker is cut off the network for longer than its lease, then reconnected: its stale
#      results are refused;
#   5. the workers are scaled 3 -> 5 -> 2;
#   6. the job succeeds; its outputs are byte-identical to `tokenmill run` of the same job file
#      on the host (run.json aside); the manifest's counts add up; NumPy loads every .npy;
#   7. a second job: every coordinator is stopped in the middle of it and started again from
#      its volume; the job resumes and completes.
#
# Every step prints what it did and what it saw. The trap removes the containers, network,
# volumes and the shared directory, whatever happens. Only 127.0.0.1 (the published gRPC ports)
# and the compose network's own addresses are used.
#
#   TM             the host's tokenmill binary, the image's (default bin/image/tokenmill)
#   IMAGE          the image (default tokenmill:dev; `make e2e` builds it)
#   E2E_PORT_BASE  the coordinators' gRPC ports on 127.0.0.1 are BASE+10, +20, +30 (default 17000)
#   E2E_SCALE      corpus copies of each kind (default 48, at least 6)
#   E2E_LOGS       where a failed run leaves every container's whole log (default bin/e2e-logs)
#
# scripts/e2e-compose.yaml limits each worker to 0.02 CPU, so that the job lasts long enough for
# the chaos to happen in its middle; once the chaos is over the limit is lifted for the job's
# tail, and set to 0.05 CPU for the second job.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

TM=${TM:-$root/bin/image/tokenmill}
IMAGE=${IMAGE:-tokenmill:dev}
base=${E2E_PORT_BASE:-17000}
scale=${E2E_SCALE:-48}
logs=${E2E_LOGS:-$root/bin/e2e-logs}
project=tokenmill-e2e
net=${project}_tokenmill
start=$SECONDS

declare -A port=([c1]=$((base + 10)) [c2]=$((base + 20)) [c3]=$((base + 30)))
shared=$(mktemp -d /tmp/tokenmill-e2e.XXXXXX)
chmod 0777 "$shared"
export TOKENMILL_SHARED=$shared TOKENMILL_IMAGE=$IMAGE TOKENMILL_WORKER_SLOTS=1
export TOKENMILL_SUBNET=${E2E_SUBNET:-172.30.214.0/24}
export TOKENMILL_C1_PORT=${port[c1]} TOKENMILL_C2_PORT=${port[c2]} TOKENMILL_C3_PORT=${port[c3]}
unset TOKENMILL_ADDR

compose() { docker-compose -p "$project" -f deploy/compose.yaml -f scripts/e2e-compose.yaml "$@"; }
say() { printf 'e2e [%3ds] %s\n' $((SECONDS - start)) "$*"; }
step() { printf '\ne2e [%3ds] === %s\n' $((SECONDS - start)) "$*"; }
fail() {
  say "FAIL: $*"
  exit 1
}

cleanup() {
  status=$?
  set +e
  if [ "$status" -ne 0 ]; then
    say "failed (exit $status); the cluster's last log lines:"
    compose logs --tail 15 2>&1 | sed 's/^/    /' | tail -120
    rm -rf "$logs" && mkdir -p "$logs"
    for c in $(docker ps -aq --filter "label=com.docker.compose.project=$project"); do
      docker logs -t "$c" >"$logs/$(docker inspect -f '{{.Config.Hostname}}' "$c")-${c:0:12}.log" 2>&1
    done
    say "every container's whole log is in $logs"
  fi
  compose down -v --remove-orphans -t 5 >/dev/null 2>&1 # no drains: the run is over
  rm -rf "$shared"
  say "removed the containers, network, volumes and $shared"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for TIMEOUT WHAT CMD...: runs CMD every second until it succeeds, or fails the test
# after TIMEOUT seconds. CMD's last line of output says what it saw.
wait_for() {
  local timeout=$1 what=$2
  shift 2
  local deadline=$((SECONDS + timeout)) out=""
  while :; do
    if out=$("$@" 2>&1); then
      say "$what: ${out##*$'\n'}"
      return 0
    fi
    [ $SECONDS -ge $deadline ] && fail "$what: not within ${timeout}s; last: ${out##*$'\n'}"
    sleep 1
  done
}

# addr: the published address of a coordinator that answers and knows a leader.
addr() {
  local c
  for c in c1 c2 c3; do
    if "$TM" operator raft list-peers --addr "127.0.0.1:${port[$c]}" --json 2>/dev/null | grep -q '"leader"'; then
      echo "127.0.0.1:${port[$c]}"
      return 0
    fi
  done
  return 1
}

# q PY ARGS...: runs a Python expression over the JSON on stdin, bound to j.
q() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

job() { "$TM" job status --addr "$(addr)" "$1" --json; }
job_line() {
  job "$1" | q '"%s: %d/%d shards, %d failed or lost attempts, %d tasks leased" % (j["state"], j["shards_done"], j["shards"], j["failed_attempts"], j["tasks"]["leased"])'
}
leader() { "$TM" operator raft list-peers --addr "$(addr)" --json | q '[p["id"] for p in j["peers"] if p["state"] == "leader"][0]'; }
members() { "$TM" members --addr "$(addr)" --json; }
workers_alive() { members | q 'len([m for m in j["members"] if m["role"] == "worker" and m["state"] == "alive"])'; }
# busy_worker: the id (the container's host name) of an alive worker running a task, by the
# leader (its last heartbeat) and by its own log, that started the task less than a second
# ago (see running_task): the fault that follows hits it in the middle of the shard, not
# while its result is being committed.
busy_worker() {
  local w
  for w in $(members | q '" ".join(m["id"] for m in j["members"] if m["role"] == "worker" and m["state"] == "alive" and m["busy"] > 0)'); do
    if [ -n "$(running_task "$w" 1)" ]; then
      echo "$w"
      return 0
    fi
  done
  return 1
}

# The check functions wait_for runs: they succeed when the cluster is as wanted.
leader_is_not() {
  local l
  l=$(leader) && [ "$l" != "$1" ] && echo "leader $l"
}
three_voters_alive() {
  "$TM" operator raft list-peers --addr "$(addr)" --json |
    q '"%d voters, leader %s" % (len(j["peers"]), [p["id"] for p in j["peers"] if p["state"] == "leader"])' |
    grep '^3 voters' && members | q '" ".join(sorted(m["id"] for m in j["members"] if m["role"] == "coordinator" and m["state"] == "alive"))' | grep -x 'c1 c2 c3'
}
worker_state_is() { # ID STATE...
  local s
  s=$(members | q "[m['state'] for m in j['members'] if m['id'] == '$1'][0]")
  echo "worker $1 is $s"
  shift
  [[ " $* " == *" $s "* ]]
}
workers_are() {
  local n
  n=$(workers_alive)
  echo "$n workers alive"
  [ "$n" = "$1" ]
}
shards_done_at_least() {
  local line
  line=$(job_line "$1")
  echo "$line"
  [ "$(job "$1" | q 'j["shards_done"]')" -ge "$2" ]
}
job_ended() {
  local line
  line=$(job_line "$1")
  echo "$line"
  [[ $line == succeeded:* || $line == failed:* || $line == canceled:* ]]
}
still_running() { # ID STEP
  local line
  line=$(job_line "$1")
  say "job: $line"
  [[ $line == running:* ]] || fail "the job is no longer running before $2 (${line%%:*}): the chaos must happen in its middle; raise E2E_SCALE or lower the workers' CPU quota (scripts/e2e-compose.yaml)"
}
failed_attempts() { job "$1" | q 'j["failed_attempts"]'; }
# taken_back SINCE: the coordinators' log lines of leases taken back since SINCE (UTC).
taken_back() {
  local c
  for c in c1 c2 c3; do docker logs --since "$1" "$(compose ps -q "$c")" 2>&1 | grep 'msg="leases taken back"' || true; done
}
# throttle QUOTA: sets every worker's CPU quota per 100 ms period, in microseconds (-1: none).
throttle() {
  local c
  for c in $(compose ps -q worker); do docker update --cpu-quota "$1" "$c" >/dev/null; done
}
# running_task W: the task worker W runs by its log (its last task line starts one), or nothing:
# the worker busy_worker picked may have ended its task just before the fault hit it, and
# then had no lease to lose.
# With a second argument S, only a task started less than S seconds ago.
running_task() {
  docker logs -t "$1" 2>&1 |
    grep -E 'msg="(starting a task|task committed|task stopped|task failed|result refused|task refused by the coordinator|no coordinator answered the commit[^"]*)"' |
    tail -1 | grep 'msg="starting a task"' |
    python3 -c '
import datetime, re, sys
line = sys.stdin.read()
if line:
    t = datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d*", r"\1", line.split()[0]).replace("Z", "+00:00"))
    age = (datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()
    if len(sys.argv) < 2 or age < float(sys.argv[1]):
        print(re.search(r"task=\S+", line).group(0))
' ${2:+"$2"} || true
}
failed_attempts_above() {
  local n
  n=$(failed_attempts "$1")
  echo "$n failed or lost attempts"
  [ "$n" -gt "$2" ]
}

step "setup"
command -v docker-compose >/dev/null || fail "docker-compose is not installed"
/usr/bin/python3 -c 'import numpy' 2>/dev/null || fail "NumPy is missing (apt-get install python3-numpy)"
[ -x "$TM" ] || fail "$TM is missing: run make image"
docker image inspect "$IMAGE" >/dev/null || fail "image $IMAGE is missing: run make image"

# The corpus: the jargon sample as .jsonl variants (each document prefixed with its copy's
# number), the same as .parquet (tokenmill convert), and copies of the .jsonl.zst file.
corpus=$shared/corpus
mkdir -p "$corpus"
"$TM" convert testdata/corpus/jargon.jsonl.zst --to jsonl "$shared/jargon.jsonl" >/dev/null
for i in $(seq 1 "$scale"); do
  python3 - "$shared/jargon.jsonl" "$corpus/a$i.jsonl" "$i" <<'PY'
import json, sys
src, dst, i = sys.argv[1], sys.argv[2], sys.argv[3]
with open(src) as f, open(dst, "w") as out:
    for line in f:
        d = json.loads(line)
        d["text"] = f"[copy {i}] " + d["text"]
        out.write(json.dumps(d) + "\n")
PY
  "$TM" convert "$corpus/a$i.jsonl" --to parquet "$corpus/b$i.parquet" >/dev/null
  cp testdata/corpus/jargon.jsonl.zst "$corpus/c$i.jsonl.zst"
done
rm "$shared/jargon.jsonl"
chmod -R a+rwX "$shared"
say "corpus: $(ls "$corpus" | wc -l) files, $(du -sh --apparent-size "$corpus" | cut -f1) ($(ls "$corpus" | sed 's/.*\.\(jsonl\.zst\|jsonl\|parquet\)$/\1/' | sort | uniq -c | xargs))"

# The job file: three sequence lengths, both formats, small shards, max_attempts 5: a task hit by
# both the worker kill and the cut-off has attempts left, also when a throttled worker that ran it
# is declared dead by gossip and sends no heartbeat after (a lost attempt); the leader kill and
# scaling cost none.
write_job() { # FILE NAME OUTDIR INPUTS...
  local file=$1 name=$2 out=$3
  shift 3
  {
    echo "name: $name"
    echo "inputs:"
    for p in "$@"; do echo "  - path: $p"; done
    cat <<EOF
tokenizer: cl100k_base
max_attempts: 5
sequence_lengths: [256, 1024, 4096]
val_fraction: 0.02
seed: 7
shard_size: 384KiB
output:
  dir: $out
  formats: [hf, npy]
  dtype: int32
EOF
  } >"$file"
}
write_job "$shared/chaos.yaml" chaos out/chaos "corpus/*.jsonl" "corpus/*.parquet" "corpus/*.jsonl.zst"
write_job "$shared/restart.yaml" restart out/restart corpus/a{1..6}.jsonl "corpus/b1.parquet"
mkdir -p "$shared/out" && chmod 0777 "$shared/out"

compose up -d --scale worker=3 2>&1 | sed 's/^/    /'
wait_for 120 "cluster up" env TM="$TM" TOKENMILL_ADDR="127.0.0.1:${port[c1]}" WORKERS=3 WAIT_TIMEOUT=5 scripts/cluster-wait.sh

step "1. submit the chaos job (3 sequence lengths, hf and npy) from the host"
start_utc=$(date -u +%Y-%m-%dT%H:%M:%S)
id=$("$TM" job submit --addr "$(addr)" "$shared/chaos.yaml")
say "submitted job $id"
wait_for 180 "the job runs" shards_done_at_least "$id" 1 # tokenizers load at 0.02 CPU
say "shards planned: $(job "$id" | q 'j["shards"]')"

step "2. kill the raft leader's container"
since=$(date -u +%Y-%m-%dT%H:%M:%S)
old=$(leader)
oldc=$(compose ps -q "$old")
docker kill "$oldc" >/dev/null
say "docker kill $old (container ${oldc:0:12})"
t0=$SECONDS
wait_for 60 "a new leader" leader_is_not "$old"
say "new leader after $((SECONDS - t0))s"
done_before=$(job "$id" | q 'j["shards_done"]')
wait_for 90 "the job goes on under the new leader" shards_done_at_least "$id" $((done_before + 1))
# The new leader gives every lease a grace of 20s; a worker that has not renewed its leases
# with it by then loses them. Past that, the kill must have cost no lease.
while [ $((SECONDS - t0)) -lt 25 ]; do sleep 1; done
still_running "$id" "step 3"
lost=$(taken_back "$since" | grep -v 'cause="worker [^ ]* died' || true)
[ -z "$lost" ] || fail "the leader's kill cost leases: $(printf '%s\n' "$lost" | grep -o 'leases=.*' | head -3)"
say "no lease lost to the leader's kill (the leases taken back since: $(taken_back "$since" | grep -c . || true), all of workers gossip declared dead that sent no heartbeat after)"

step "3. kill a worker in the middle of a shard"
fa=$(failed_attempts "$id")
w=$(wait_for 60 "a worker that just started a task" busy_worker | sed 's/.*: //')
docker kill "$w" >/dev/null
t=$(running_task "$w")
say "docker kill worker $w (running ${t:-no task: it had just ended one})"
wait_for 60 "the killed worker is dead to the cluster" worker_state_is "$w" dead left
if [ -n "$t" ]; then wait_for 60 "its lease is taken back" failed_attempts_above "$id" "$fa"; fi
still_running "$id" "the leader's restart"

step "2 (later). start the killed leader's container again"
docker start "$oldc" >/dev/null
say "docker start $old (container ${oldc:0:12}, now at $(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$oldc"))"
wait_for 90 "$old back as a voter, every coordinator alive" three_voters_alive
still_running "$id" "step 4"

step "4. cut a worker off the network for longer than its lease, then reconnect it"
fa=$(failed_attempts "$id")
w=$(wait_for 60 "a worker that just started a task" busy_worker | sed 's/.*: //')
ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$w")
docker network disconnect "$net" "$w"
t0=$SECONDS
t=$(running_task "$w")
say "docker network disconnect $net $w (at $ip, running ${t:-no task: it had just ended one})"
wait_for 60 "the cut-off worker is dead to the cluster" worker_state_is "$w" dead suspect
if [ -n "$t" ]; then wait_for 60 "its lease is taken back (lost)" failed_attempts_above "$id" "$fa"; fi
while [ $((SECONDS - t0)) -lt 15 ]; do sleep 1; done # the lease TTL is 10s
docker network connect --ip "$ip" "$net" "$w"
say "docker network connect $net $w (again at $ip) after $((SECONDS - t0))s off the network"
wait_for 60 "the reconnected worker is alive again" worker_state_is "$w" alive
refused=$(docker logs "$w" 2>&1 | grep -E 'refused|lease lost|lost its lease' | tail -3 || true)
if [ -n "$refused" ]; then
  say "the worker's log on its stale lease:"
  printf '%s\n' "$refused" | sed 's/^/    /' | cut -c1-300
else
  say "the worker's log has no refused result: its task was still running when the lease was taken back; the byte comparison below checks that nothing stale was committed"
fi
still_running "$id" "step 5"

step "5. scale the workers 3 -> 5 -> 2"
compose up -d --no-recreate --scale worker=5 2>&1 | sed 's/^/    /'
wait_for 90 "scaled up" workers_are 5
still_running "$id" "the scale down"
compose up -d --no-recreate --scale worker=2 2>&1 | sed 's/^/    /'
wait_for 120 "scaled down (the stopped workers drained)" workers_are 2

step "6. the job succeeds, as tokenmill run on the host"
throttle -1
say "the chaos is over: the workers' CPU limit is lifted (docker update), for the job's tail"
wait_for 600 "the job ends" job_ended "$id"
[[ $(job_line "$id") == succeeded:* ]] || fail "job $id: $(job "$id" | q 'j.get("error", "")')"
"$TM" job status --addr "$(addr)" "$id" | sed 's/^/    /'
say "the leases taken back during the job, by cause:"
taken_back "$start_utc" | grep -o 'cause="[^"]*"' | sed 's/worker [0-9a-f]\{12\}/worker W/' | sort | uniq -c | sed 's/^/    /'
mv "$shared/out/chaos" "$shared/out/chaos.cluster"
t0=$SECONDS
"$TM" run --progress none "$shared/chaos.yaml" >/dev/null
say "host tokenmill run of the same job file: $((SECONDS - t0))s"
diff -r -x run.json "$shared/out/chaos.cluster" "$shared/out/chaos" >/dev/null ||
  fail "the cluster's outputs differ from tokenmill run's: $(diff -rq -x run.json "$shared/out/chaos.cluster" "$shared/out/chaos" | head -5)"
say "outputs byte-identical to tokenmill run's: $(cd "$shared/out/chaos" && find . -type f ! -name run.json | wc -l) files, $(du -sh --apparent-size "$shared/out/chaos" | cut -f1)"
job "$id" >"$shared/status.json"
/usr/bin/python3 - "$shared/out/chaos.cluster" "$shared/status.json" <<'PY'
import json, os, sys
import numpy as np
out, status = sys.argv[1], json.load(open(sys.argv[2]))
m = json.load(open(os.path.join(out, "manifest.json")))
d = m["documents"]
assert d["read"] == d["written"] + d["rejected"], d
assert m["shards"] == status["shards"], (m["shards"], status["shards"])
assert status["progress"]["documents"] == d["read"], (status["progress"], d)
assert m["rejects"]["count"] == d["rejected"]
for b in m["buckets"]:
    tokens = m["tokens"][b["split"]]
    assert b["tokens"] == tokens, b
    assert b["sequences"] * b["seq_len"] + b["dropped_tail_tokens"] - b["padded_tail_tokens"] == tokens, b
    npy = [p for p in b["paths"] if p.endswith(".npy")][0]
    a = np.load(os.path.join(out, npy))
    assert a.shape == (b["sequences"], b["seq_len"]) and a.dtype == np.int32, (npy, a.shape, a.dtype)
    assert int(a.max(initial=0)) < m["tokenizer"]["vocab_size"], npy
print("e2e        manifest: %d shards, %d documents read = %d written + %d rejected; train %d and val %d tokens = "
      "sequences x length + dropped tail, in every bucket; NumPy loaded %d .npy files of the shapes the manifest says"
      % (m["shards"], d["read"], d["written"], d["rejected"], m["tokens"]["train"], m["tokens"]["val"], len(m["buckets"])))
PY

step "7. stop every coordinator in the middle of a job, start them again from their volumes"
throttle 5000
say "the workers limited to 0.05 CPU (docker update), so that the restart happens in the job's middle"
id2=$("$TM" job submit --addr "$(addr)" "$shared/restart.yaml")
say "submitted job $id2"
wait_for 90 "the job runs" shards_done_at_least "$id2" 2
compose stop -t 10 c1 c2 c3 2>&1 | sed 's/^/    /'
say "every coordinator stopped; the workers keep their tasks: $("$TM" members --addr 127.0.0.1:${port[c1]} 2>&1 | head -1)"
sleep 3
compose start c1 c2 c3 2>&1 | sed 's/^/    /'
say "started c1 c2 c3 again on their volumes (now at $(for c in c1 c2 c3; do docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$(compose ps -q $c)"; done | xargs))"
wait_for 90 "a leader and every coordinator alive" three_voters_alive
wait_for 600 "the job ends" job_ended "$id2"
[[ $(job_line "$id2") == succeeded:* ]] || fail "job $id2: $(job "$id2" | q 'j.get("error", "")')"
mv "$shared/out/restart" "$shared/out/restart.cluster"
"$TM" run --progress none "$shared/restart.yaml" >/dev/null
diff -r -x run.json "$shared/out/restart.cluster" "$shared/out/restart" >/dev/null ||
  fail "the restarted cluster's outputs differ from tokenmill run's"
say "job $id2 resumed and succeeded after the restart; outputs byte-identical to tokenmill run's"

step "passed in $((SECONDS - start))s"
