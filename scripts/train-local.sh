#!/usr/bin/env bash
# scripts/train-local.sh [--ranks N] VIDCOLOR_TRAIN_ARGS...
# vidcolor-train on every core of this machine as N data-parallel processes of one thread each
# (c10d Gloo over loopback; docs/TRAINING.md, "Distributed"), instead of one process with N
# intra-op threads: f's small convolutions scale poorly across threads, processes do not
# (measured on 2 cores in docs/TRAINING.md, "Both cores as two processes").
#   --ranks N   processes (default: nproc). `--batch` is per process: with 2 ranks, --batch 8
#               trains on the same global batch of 16 as one process with --batch 16.
# Every rank's output goes to OUT/rank-R.log (OUT from --out); rank 0's is also shown here.
# Ctrl-C (SIGINT) reaches every rank, so they stop together and rank 0 writes the model. If a
# rank fails, the others are stopped and the exit status is the failing rank's.
# VIDCOLOR_TRAIN overrides the trainer (default build/tools/vidcolor-train).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
train=${VIDCOLOR_TRAIN:-$ROOT/build/tools/vidcolor-train}
ranks=$(nproc)
if [ "${1:-}" = --ranks ]; then
  [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "train-local: --ranks needs a count" >&2; exit 2; }
  ranks=$2
  shift 2
fi
[ -x "$train" ] || { echo "train-local: $train not built (scripts/build.sh)" >&2; exit 1; }
out=
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[i]}" = --out ] && [ $((i + 1)) -lt ${#args[@]} ] && out=${args[i + 1]}
done
[ -n "$out" ] || { echo "train-local: give the trainer's --out DIR (the ranks' logs go there)" >&2; exit 2; }
mkdir -p "$out"
# A free loopback port for the rendezvous (the kernel picks it).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

pids=()
interrupted=0
stop_all() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; }
on_signal() {
  interrupted=1
  stop_all
}
trap on_signal INT TERM
for ((r = 0; r < ranks; r++)); do
  # --threads 1 first: a --threads in the caller's arguments still wins (the last one counts).
  RANK=$r LOCAL_RANK=$r WORLD_SIZE=$ranks MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    "$train" --threads 1 "$@" > "$out/rank-$r.log" 2>&1 &
  pids+=($!)
done
echo "train-local: $ranks processes, logs in $out/rank-*.log"
tail -n +1 -f "$out/rank-0.log" --pid "${pids[0]}" &
shower=$!

declare -A running
for p in "${pids[@]}"; do running[$p]=1; done
status=0
while [ ${#running[@]} -gt 0 ]; do
  rc=0 done_pid=
  wait -n -p done_pid "${!running[@]}" || rc=$?
  [ -n "${done_pid:-}" ] || continue  # a signal came in (and was passed on), no rank ended
  unset "running[$done_pid]"
  if [ "$rc" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$rc
    [ "$interrupted" -eq 1 ] && continue  # stopped on request: the ranks say so themselves
    echo "train-local: a rank exited with status $rc; stopping the others" >&2
    stop_all
  fi
done
wait "$shower" 2>/dev/null || true
if [ "$status" -ne 0 ] && [ "$interrupted" -eq 0 ]; then
  for ((r = 1; r < ranks; r++)); do
    echo "--- rank $r (last lines)" >&2
    tail -n 5 "$out/rank-$r.log" >&2
  done
fi
exit "$status"
