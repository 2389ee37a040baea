#!/usr/bin/env bash
# Bring up a real single-node SLURM cluster on this machine for tests/test_slurm.py:
# Debian's slurmctld + slurmd + munge, one partition, one fake GPU (gres File=/dev/null), no
# accounting database (the profile asks squeue for job states). Needs root and Debian/Ubuntu;
# no systemd needed. Idempotent: a second call restarts the daemons with the same config.
# Usage: tests/cluster/slurm_up.sh   (then: sinfo; tests/cluster/slurm_down.sh to stop)
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "slurm_up.sh: needs root (it installs packages and starts daemons)" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v sinfo >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

HOST=$(hostname -s)
getent hosts "$HOST" >/dev/null || echo "127.0.0.1 $HOST" >> /etc/hosts  # slurmd must resolve it

# No systemd: the runtime folders the units would make, made by hand.
mkdir -p /run/munge /etc/munge /run/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /etc/slurm
chown munge:munge /run/munge /etc/munge
chown slurm:slurm /run/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key

# The node line from the hardware, with memory about 5% under what slurmd sees (or it drains).
read -r CPUS BOARDS SOCKETS CORES THREADS MEM < <(slurmd -C | awk '
    /NodeName/ { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    END { print v["CPUs"], v["Boards"], v["SocketsPerBoard"], v["CoresPerSocket"], v["ThreadsPerCore"], v["RealMemory"] }')
MEM=$((MEM * 95 / 100))

cat > /etc/slurm/slurm.conf <<CONF
ClusterName=sendflow-test
SlurmctldHost=$HOST
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
DefMemPerCPU=1000
# Finished jobs stay in slurmctld's memory for an hour, so tests can read them with scontrol.
MinJobAge=3600
GresTypes=gpu
NodeName=$HOST CPUs=$CPUS Boards=$BOARDS SocketsPerBoard=$SOCKETS CoresPerSocket=$CORES ThreadsPerCore=$THREADS RealMemory=$MEM Gres=gpu:1 State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
# A GPU on a machine without one: SLURM needs a device file to count, any will do.
echo "NodeName=$HOST Name=gpu Count=1 File=/dev/null" > /etc/slurm/gres.conf

pkill -x slurmd 2>/dev/null || true
pkill -x slurmctld 2>/dev/null || true
pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged
for _ in $(seq 50); do pgrep -x slurmctld >/dev/null || break; sleep 0.1; done
slurmctld
slurmd

for _ in $(seq 60); do
    state=$(sinfo -h -n "$HOST" -o %t 2>/dev/null || true)
    case "$state" in
        idle|mix|alloc) echo "SLURM is up: node $HOST ($CPUS CPUs, ${MEM} MB, 1 GPU) in partition main"; exit 0 ;;
        drain*|down*) scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
done
echo "slurm_up.sh: node $HOST did not become idle (state: ${state:-none}); see /var/log/slurm/" >&2
exit 1
