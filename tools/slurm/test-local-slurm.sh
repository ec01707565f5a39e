#!/bin/bash
# Opt-in test (make slurm-test; needs root): a real single-node Slurm from Debian's packages
# (slurm-wlm, munge), started here; a small study submitted with submit.sh as an array with a
# dependent merge, one cell requeued while it trains (as a preemption would); the merged store
# must equal the same study run on one machine, epoch for epoch and checksum for checksum.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
[ "$(id -u)" = 0 ] || { echo "test-local-slurm.sh: needs root (it installs and starts Slurm)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
dpkg -s slurm-wlm munge >/dev/null 2>&1 || { apt-get update && apt-get install -y slurm-wlm munge; }
swift build -c release --product optilog >/dev/null
export OPTILOG="$root/.build/release/optilog"
host=$(hostname -s)
work=$(mktemp -d /tmp/optilog-slurm-XXXXXX)

# munge and Slurm, as root, without systemd.
[ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown munge:munge /run/munge
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=optilog-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
KillWait=30
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
stop() { pkill -x slurmctld || true; pkill -x slurmd || true; }
trap stop EXIT
stop; sleep 1
slurmctld -c; slurmd -c
for _ in $(seq 60); do sinfo -h -o %t 2>/dev/null | grep -qE "idle|mix" && break; sleep 1; done
sinfo

export OPTILOG_STUDY_ARGS="--name slurm-test --tasks jena --optimizers adam sgd rmsprop nadam --seeds 1 2 --epochs 12"
export OPTILOG_SHARDS="$work/shards" OPTILOG_RESULT="$work/merged.sqlite"
bash tools/slurm/submit.sh --cpus-per-task=1
# Preempt cell 0 once it is training: Slurm sends SIGTERM, the cell checkpoints, publishes and
# is requeued; when it runs again it resumes its shard.
for _ in $(seq 120); do squeue -h -t R -o %i | grep -q "_0$" && break; sleep 0.5; done
sleep 2
scontrol requeue "$(squeue -h -t R -o %i | grep "_0$" | head -1)" && echo "requeued cell 0"
for _ in $(seq 600); do [ -z "$(squeue -h)" ] && break; sleep 1; done
[ -z "$(squeue -h)" ] || { echo "jobs still queued after 10 minutes"; squeue; exit 1; }
cat "$OPTILOG_SHARDS/merge.log"

# The same study on one machine.
# shellcheck disable=SC2086
"$OPTILOG" study $OPTILOG_STUDY_ARGS --db "$work/single.sqlite" >/dev/null 2>&1
query="SELECT r.task, r.optimizer, r.seed, s.name, e.epoch, e.val_loss, e.optimizer_checksum FROM epochs e
       JOIN runs r ON r.id = e.run_id LEFT JOIN studies s ON s.id = r.study_id ORDER BY 1, 2, 3, 5"
"$OPTILOG" sql "$query" --db "$OPTILOG_RESULT" --format csv > "$work/merged.csv"
"$OPTILOG" sql "$query" --db "$work/single.sqlite" --format csv > "$work/single.csv"
epochs=$(($(wc -l < "$work/single.csv") - 1))
if cmp -s "$work/merged.csv" "$work/single.csv" && [ "$epochs" = 96 ]; then
    echo "slurm test: the merged store equals the single-machine study ($epochs epochs of 8 runs, identical checksums)"
else
    echo "slurm test: FAILED — merged and single-machine stores differ:"; diff "$work/merged.csv" "$work/single.csv" | head -20; exit 1
fi
# Cell 0 ran twice: stopped by the requeue (checkpointed and published), then resumed.
echo "cell 0's log:"; sed 's/^/  /' "$OPTILOG_SHARDS/cell-0.log"
starts=$(grep -c "^study slurm-test" "$OPTILOG_SHARDS/cell-0.log" || true)
if [ "$starts" -lt 2 ] || ! grep -q "interrupted" "$OPTILOG_SHARDS/cell-0.log"; then
    echo "slurm test: FAILED — cell 0 was not stopped and resumed by the requeue"; exit 1
fi
rm -rf "$work"
