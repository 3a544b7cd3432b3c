#!/usr/bin/env bash
# A private single-node Slurm for the cluster tests, from Debian's slurm-wlm and munge (as root):
#   bash scripts/slurm.sh install          the packages, when missing
#   bash scripts/slurm.sh start FOLDER     munged (if not running), slurmctld and slurmd, their
#                                          configuration, state and logs in FOLDER; prints the
#                                          SLURM_CONF to export
#   bash scripts/slurm.sh stop FOLDER      the two Slurm daemons of FOLDER
set -euo pipefail
command=${1:?install, start FOLDER or stop FOLDER}

if [ "$command" = install ]; then
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
  fi
  exit 0
fi

folder=$(realpath -m "${2:?the folder of this Slurm}")
if [ "$command" = stop ]; then
  for daemon in slurmd slurmctld; do
    [ -f "$folder/$daemon.pid" ] && kill "$(cat "$folder/$daemon.pid")" 2>/dev/null || true
  done
  exit 0
fi

mkdir -p "$folder/state" "$folder/spool"
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
if ! pgrep -x munged >/dev/null; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged
fi
node=$(hostname -s)
cpus=$(nproc)
memory=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
cat >"$folder/slurm.conf" <<CONF
ClusterName=pvlr-test
SlurmctldHost=$node
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=3600
StateSaveLocation=$folder/state
SlurmdSpoolDir=$folder/spool
SlurmctldPidFile=$folder/slurmctld.pid
SlurmdPidFile=$folder/slurmd.pid
SlurmctldLogFile=$folder/slurmctld.log
SlurmdLogFile=$folder/slurmd.log
NodeName=$node CPUs=$cpus RealMemory=$((memory * 9 / 10)) State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
echo "CgroupPlugin=cgroup/v1" >"$folder/cgroup.conf"
export SLURM_CONF=$folder/slurm.conf
rm -f "$folder/state/clustername"
slurmctld
slurmd
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
    echo "$SLURM_CONF"
    exit 0
  fi
  sleep 1
done
echo "scripts/slurm.sh: the node did not come up idle; see $folder/slurmctld.log and slurmd.log" >&2
exit 1
