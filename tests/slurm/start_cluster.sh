#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine (Debian 12, root, no systemd, no cgroups) for tests/test_slurm.py.
#
#   tests/slurm/start_cluster.sh          install (if missing), configure, start; idempotent
#   tests/slurm/start_cluster.sh --stop   stop the daemons (see the note below before doing that)
#
# Partitions `cpu` (default) and `gpu`; the node declares 32 CPUs, 128 GB and two GPUs (gres.conf points them at
# /dev/null and /dev/zero, so a GPU-less node accepts --gres=gpu:1; two, so both MD jobs of the micro run overlap) and slurmd trusts those numbers (SlurmdParameters=config_overrides),
# so profiles/slurm's real requests (16 CPUs, 36 GB for a DFT bundle) are accepted unchanged on a 2-core machine.
# Nothing is enforced (proctrack/linuxproc, task/none): jobs use the threads the rules ask for.
# No accounting database: job status comes from squeue, which keeps finished jobs for MinJobAge=3600 s.
#
# Note: once slurm-client is installed, every `import snakemake` with the SLURM plugin runs `scontrol show config`;
# with no controller answering that waits ~9 s. So the daemons are LEFT RUNNING after the tests (cheap: idle
# slurmctld+slurmd+munged use ~0 CPU and ~20 MB). Stop them with --stop only together with `apt-get remove slurm-client`.
# Exit codes: 0 cluster up; 3 not allowed (not root, apt failed, a foreign /etc/slurm/slurm.conf); 4 did not come up.
set -uo pipefail
CONF_DIR=/etc/slurm
STATE=/var/lib/slurm-linmr
LOGS=/var/log/slurm-linmr
HOST=$(hostname -s)

stop() {
  for d in slurmd slurmctld; do
    [ -f /run/$d.pid ] && kill "$(cat /run/$d.pid)" 2>/dev/null
  done
  return 0
}
if [ "${1:-}" = "--stop" ]; then stop; exit 0; fi

if [ "$(id -u)" != 0 ]; then echo "not root: cannot install or start SLURM" >&2; exit 3; fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
   || ! command -v munged >/dev/null; then
  echo "installing slurmctld slurmd slurm-client munge (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1 \
         || { apt-get update -qq >/dev/null 2>&1 \
              && apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1; }; }; then
    echo "apt-get install slurmctld slurmd slurm-client munge failed" >&2; exit 3
  fi
fi

# never overwrite a SLURM configuration this script did not write (a real cluster's login node, say)
if [ -f "$CONF_DIR/slurm.conf" ] && ! grep -q "written by tests/slurm/start_cluster.sh" "$CONF_DIR/slurm.conf"; then
  echo "$CONF_DIR/slurm.conf exists and was not written by this script: not touching it" >&2; exit 3
fi
mkdir -p "$CONF_DIR" "$STATE/ctld" "$STATE/d" "$LOGS" /run/munge
tmp=$(mktemp "$CONF_DIR/.slurm.conf.XXXXXX")
cat > "$tmp" <<CONF
# one-node test cluster for linmr (written by tests/slurm/start_cluster.sh)
ClusterName=linmr
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
GresTypes=gpu
ReturnToService=2
MinJobAge=3600
MaxJobCount=100000
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGS/jobcomp.log
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=$HOST CPUs=32 RealMemory=128000 Gres=gpu:2 State=UNKNOWN
PartitionName=cpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=gpu Nodes=$HOST MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
printf 'NodeName=%s Name=gpu File=/dev/null\nNodeName=%s Name=gpu File=/dev/zero\n' "$HOST" "$HOST" > "$CONF_DIR/.gres.conf.tmp"
# a changed configuration needs both daemons restarted (slurmctld keeps its job list in StateSaveLocation)
if ! cmp -s "$tmp" "$CONF_DIR/slurm.conf" || ! cmp -s "$CONF_DIR/.gres.conf.tmp" "$CONF_DIR/gres.conf"; then
  stop; sleep 1
fi
mv "$tmp" "$CONF_DIR/slurm.conf"
mv "$CONF_DIR/.gres.conf.tmp" "$CONF_DIR/gres.conf"

# munge: a key, then the daemon (as root; --force because /run/munge may be group-writable on a fresh box)
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge && dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null
chmod 400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- munged --force 2>/dev/null || munged --force || { echo "munged did not start" >&2; exit 4; }
  sleep 0.5
fi

# by name, not only by PID: a stale pid file whose PID a later process reuses would leave slurmd unstarted and the
# node "not responding" (seen on a long-lived machine, 2026-12-05)
running() { [ -f "/run/$1.pid" ] && [ "$(ps -o comm= -p "$(cat "/run/$1.pid")" 2>/dev/null)" = "$1" ]; }
running slurmctld || slurmctld
running slurmd || slurmd
for _ in $(seq 60); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null | head -1)
  case "$state" in idle*|mixed*|allocated*) echo "SLURM up: node $HOST $state"; sinfo; exit 0;; esac
  case "$state" in drain*|down*) scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1;; esac
  sleep 0.5
done
echo "SLURM did not come up (node state: ${state:-none}); see $LOGS" >&2
exit 4
