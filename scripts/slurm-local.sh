#!/usr/bin/env bash
# slurm-local.sh: a single-node Slurm cluster on localhost, for dfh's Slurm tests and benchmark.
#
#   scripts/slurm-local.sh start  [DIR]   write the config, start munged, slurmctld and slurmd,
#                                         wait until the node is idle, print `export SLURM_CONF=...`
#   scripts/slurm-local.sh stop   [DIR]   cancel the jobs, stop the daemons by PID (TERM, then KILL)
#   scripts/slurm-local.sh status [DIR]   daemons, sinfo, squeue
#
# DIR (or $DFH_SLURM_DIR) holds everything: config, MUNGE key and socket, state, spool, logs and
# PID files. Nothing is written to /etc and nothing is started through init or systemd; no
# cgroups and no accounting database (sacct is unavailable; dfh polls squeue and scontrol).
# Needs root and Debian's packages: slurmctld slurmd slurm-client munge (Slurm 22.05 on
# Debian 12). Knobs: DFH_SLURM_CTLD_PORT (6817), DFH_SLURM_SLURMD_PORT (6818),
# DFH_SLURM_FAKE_GPUS (2: `--gres=gpu:N` schedules and sets CUDA_VISIBLE_DEVICES; the "GPUs" are
# /dev/null-like character devices, real /dev/nvidiaN are declared instead when present).
#
# Typical use:  eval "$(scripts/slurm-local.sh start /tmp/dfh-slurm)"; cargo test; scripts/slurm-local.sh stop /tmp/dfh-slurm
set -euo pipefail

action=${1:-}
DIR=${2:-${DFH_SLURM_DIR:-}}
if [ -z "$action" ] || [ -z "$DIR" ]; then
  echo "usage: $0 start|stop|status DIR   (or set DFH_SLURM_DIR)" >&2
  exit 2
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
CONF=$DIR/etc/slurm.conf
SOCKET=$DIR/munge/run/munge.socket
CTLD_PORT=${DFH_SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${DFH_SLURM_SLURMD_PORT:-6818}
FAKE_GPUS=${DFH_SLURM_FAKE_GPUS:-2}
export SLURM_CONF=$CONF

say() { printf 'slurm-local: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

# Waits up to $1 seconds for the command after it to succeed.
wait_until() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# The PID in a PID file when that process is alive and has the expected name.
running_pid() { # pidfile name
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 1
  echo "$pid"
}

# TERM, then KILL after 15 s. The PID is remembered first: munged and slurmctld remove their
# PID file before they have finished exiting, and slurmctld stays a zombie leader for about a
# second while its threads save state.
stop_daemon() { # pidfile name
  local pid i
  pid=$(running_pid "$1" "$2") || { rm -f "$1"; return 0; }
  say "stopping $2 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 150); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || { rm -f "$1"; return 0; }
    sleep 0.1
  done
  if [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ]; then
    say "$2 (pid $pid) still alive after 15 s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

write_config() {
  mkdir -p "$DIR"/{etc,state,spool,run,log,gpu} "$DIR"/munge/{etc,run,log,lib}
  # munged: key, log and seed directories private; the socket's directory (and its parents)
  # searchable by everyone, or clients get "Socket is inaccessible".
  chmod 700 "$DIR"/munge/etc "$DIR"/munge/log "$DIR"/munge/lib
  chmod 755 "$DIR" "$DIR"/munge "$DIR"/munge/run
  if [ ! -s "$DIR/munge/etc/munge.key" ]; then
    mungekey --create --keyfile="$DIR/munge/etc/munge.key"
  fi
  chmod 600 "$DIR/munge/etc/munge.key"

  local host hardware memory gpus=0 gres_types="" gres_node="" gres_file="" device index
  host=$(hostname -s)
  # The node as slurmd measures it, with RealMemory at 95% so a wobble never drains it.
  hardware=$(env -u SLURM_CONF slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
  [ -n "$hardware" ] || fail "slurmd -C printed nothing"
  memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")
  hardware=$(sed "s/RealMemory=[0-9]*/RealMemory=$(( memory * 95 / 100 ))/" <<<"$hardware")

  for device in /dev/nvidia[0-9]*; do [ -e "$device" ] && gpus=$((gpus + 1)); done
  if [ "$gpus" -gt 0 ]; then
    gres_file="File=/dev/nvidia[0-$((gpus - 1))]"
  elif [ "$FAKE_GPUS" -gt 0 ]; then
    # gres files must be character devices, or slurmd leaves CUDA_VISIBLE_DEVICES empty.
    [ "$FAKE_GPUS" -le 4 ] || fail "at most 4 fake GPUs"
    gpus=$FAKE_GPUS
    local devices=(/dev/null /dev/zero /dev/full /dev/urandom)
    rm -f "$DIR"/gpu/gpu*
    for index in $(seq 0 $((gpus - 1))); do ln -s "${devices[$index]}" "$DIR/gpu/gpu$index"; done
    gres_file="File=$DIR/gpu/gpu[0-$((gpus - 1))]"
  fi
  if [ "$gpus" -gt 0 ]; then
    gres_types="GresTypes=gpu"
    gres_node="Gres=gpu:$gpus"
    printf 'AutoDetect=off\nNodeName=%s Name=gpu %s\n' "$host" "$gres_file" > "$DIR/etc/gres.conf"
  else
    rm -f "$DIR/etc/gres.conf"
  fi
  # slurmd reads plugstack.conf beside slurm.conf: empty, so nothing comes in from /etc.
  : > "$DIR/etc/plugstack.conf"

  cat > "$CONF.new" <<EOF
# Written by dfh's scripts/slurm-local.sh: one node on localhost, no cgroups, no accounting.
ClusterName=dfhlocal
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
# Finished jobs stay visible to squeue -t all and scontrol for 10 minutes.
MinJobAge=600
SchedulerType=sched/backfill
# The default delay of 3 s would dominate a short job's round trip.
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=5
InactiveLimit=0
SlurmdTimeout=60
$gres_types
NodeName=$host NodeAddr=127.0.0.1 $hardware $gres_node State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  mv "$CONF.new" "$CONF"
}

munge_answers() { munge -n -S "$SOCKET" | unmunge -S "$SOCKET"; }
controller_answers() { scontrol ping | grep -q UP; }
node_ready() { sinfo -h -N -o '%T' | grep -Eq '^(idle|mixed|allocated)$'; }

logs() {
  local file
  for file in "$DIR"/munge/log/munged.log "$DIR"/log/slurmctld.log "$DIR"/log/slurmd.log; do
    [ -f "$file" ] && { echo "== $file"; tail -20 "$file"; } >&2
  done
  return 0
}

start() {
  local binary missing=()
  for binary in munged mungekey munge unmunge slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
    command -v "$binary" >/dev/null || missing+=("$binary")
  done
  [ ${#missing[@]} -eq 0 ] || fail "missing ${missing[*]}: apt-get install --no-install-recommends slurmctld slurmd slurm-client munge"
  [ "$(id -u)" = 0 ] || fail "the daemons run as root here; run this script as root"
  write_config

  if ! running_pid "$DIR/munge/run/munged.pid" munged >/dev/null; then
    rm -f "$SOCKET" "$SOCKET.lock"
    munged --socket="$SOCKET" --key-file="$DIR/munge/etc/munge.key" \
      --log-file="$DIR/munge/log/munged.log" --pid-file="$DIR/munge/run/munged.pid" \
      --seed-file="$DIR/munge/lib/munged.seed" || { logs; fail "munged did not start"; }
  fi
  wait_until 10 munge_answers || { logs; fail "munged does not answer"; }

  if running_pid "$DIR/run/slurmctld.pid" slurmctld >/dev/null; then
    scontrol reconfigure || true
  else
    slurmctld -f "$CONF" || { logs; fail "slurmctld did not start"; }
  fi
  wait_until 20 controller_answers || { logs; fail "slurmctld does not answer"; }

  if ! running_pid "$DIR/run/slurmd.pid" slurmd >/dev/null; then
    slurmd -f "$CONF" || { logs; fail "slurmd did not start"; }
  fi
  if ! wait_until 30 node_ready; then
    # A node left down by an earlier run goes back into service once.
    scontrol update NodeName="$(hostname -s)" State=RESUME 2>/dev/null || true
    wait_until 15 node_ready || { sinfo -R >&2; logs; fail "the node never became idle"; }
  fi
  say "up: munged $(cat "$DIR/munge/run/munged.pid"), slurmctld $(cat "$DIR/run/slurmctld.pid"), slurmd $(cat "$DIR/run/slurmd.pid")"
  echo "export SLURM_CONF=$CONF"
}

stop() {
  local jobs
  if [ -f "$CONF" ] && running_pid "$DIR/run/slurmctld.pid" slurmctld >/dev/null; then
    jobs=$(squeue -h -o '%A' 2>/dev/null | tr '\n' ' ' || true)
    if [ -n "${jobs// /}" ]; then
      say "cancelling jobs $jobs"
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      wait_until 20 bash -c '[ -z "$(squeue -h -t R,CG,S -o %A)" ]' || say "jobs still ending"
    fi
  fi
  # Each live slurmstepd holds a socket in the spool; let the steps end before slurmd goes.
  if [ -d "$DIR/spool" ]; then
    wait_until 15 bash -c '[ -z "$(find "$0" -maxdepth 1 -type s)" ]' "$DIR/spool" \
      || say "slurmstepd sockets remain in $DIR/spool"
  fi
  stop_daemon "$DIR/run/slurmd.pid" slurmd
  stop_daemon "$DIR/run/slurmctld.pid" slurmctld
  stop_daemon "$DIR/munge/run/munged.pid" munged
  rm -f "$SOCKET" "$SOCKET.lock"
  say "stopped"
}

status() {
  local entry name pid
  for entry in munge/run/munged.pid:munged run/slurmctld.pid:slurmctld run/slurmd.pid:slurmd; do
    name=${entry#*:}
    if pid=$(running_pid "$DIR/${entry%:*}" "$name"); then echo "$name: running (pid $pid)"; else echo "$name: stopped"; fi
  done
  if running_pid "$DIR/run/slurmctld.pid" slurmctld >/dev/null; then
    echo "export SLURM_CONF=$CONF"
    sinfo
    squeue -t all
  fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status DIR" >&2; exit 2 ;;
esac
