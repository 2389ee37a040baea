"""Resume after `kill -9` or a power loss without `--unlock`.

Snakemake locks the working directory for a run and removes the lock when it ends; a run that
is killed outright leaves the lock behind and the next run refuses to start. Each main Snakemake
process of this workflow records itself (host and pid) when it parses the Snakefile; a later run
on the same host removes the lock only when every recorded run is gone, together with every
process of its process group (the jobs it started), so a lock held by a live run is never touched.
"""

import os
import socket
from pathlib import Path

RUNS = Path(".snakemake/sendflow_runs")
LOCKS = Path(".snakemake/locks")


def _is_snakemake(pid: int) -> bool:
    try:
        return b"snakemake" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid` (a killed run's orphaned jobs)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # field 5 of stat: the group; skip zombies
            members.append(int(stat.parent.name))
    return members


def clear_stale_lock(log=print) -> None:
    """Remove Snakemake's lock when the run that left it is dead, then record this run."""
    if not Path("/proc/self").exists():  # no /proc: cannot tell live runs from dead ones
        return
    host, me = socket.gethostname(), os.getpid()
    live, dead = False, []
    for record in RUNS.glob("*"):
        record_host, _, pid = record.name.rpartition("-")
        if record_host != host or not pid.isdigit():
            live = live or record_host != host  # another host's run: cannot tell, keep its lock
            continue
        pid, group = int(pid), int(record.read_text() or pid)
        if pid == me:  # this process, recorded by an earlier call
            continue
        if _is_snakemake(pid):
            live = True
        elif group != os.getpgid(0) and (orphans := group_members(group)):
            live = True
            log(f"sendflow: jobs of a killed run (Snakemake pid {pid}) still run: pids "
                f"{' '.join(map(str, orphans))}; its lock stays until they end or are killed")
        else:
            dead.append(record)
    locks = list(LOCKS.glob("*.lock"))
    if locks and dead and not live:
        log(f"sendflow: removing the lock left by a killed run ({len(locks)} lock files in {LOCKS})")
        for lock in locks:
            lock.unlink(missing_ok=True)
    for record in dead:
        record.unlink(missing_ok=True)
    RUNS.mkdir(parents=True, exist_ok=True)
    (RUNS / f"{host}-{me}").write_text(str(os.getpgid(0)))
