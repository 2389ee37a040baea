"""Resume after `kill -9` or a power loss without `--unlock`.

Snakemake locks the working directory for a run and removes the lock when it ends; a run that
is killed outright leaves the lock behind and the next run refuses to start. Each main Snakemake
process of this workflow records itself (host and pid) when it parses the Snakefile; a later run
on the same host removes the lock only when every recorded run is gone and no process still
works for one: none holds a file open under `results/` (every job writes its log there from its
start) or runs one of this folder's job scripts (`.snakemake/scripts/`). Jobs are found by what
they hold, not by process group, so a rerun from the same wrapper script or CI step (the killed
run's process group) waits for them too.
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


def _ancestors(pid: int) -> set[int]:
    """`pid` and the processes above it: the run now starting and whatever launched it."""
    chain = set()
    while pid > 0 and pid not in chain:
        chain.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            break
    return chain


def workflow_jobs(workdir: Path) -> list[int]:
    """Live processes, other than this run and its ancestors, that hold a file open under
    `workdir`/results/ or run a job script of `workdir`/.snakemake/scripts/."""
    results = str(workdir.resolve() / "results") + os.sep
    scripts = str(workdir.resolve() / ".snakemake" / "scripts") + os.sep
    mine, jobs = _ancestors(os.getpid()), []
    for proc in Path("/proc").glob("[0-9]*"):
        if int(proc.name) in mine:
            continue
        try:
            cwd = os.readlink(proc / "cwd")
            args = [os.path.join(cwd, a.decode(errors="replace")) for a in (proc / "cmdline").read_bytes().split(b"\0")]
            held = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:  # gone meanwhile, or another user's
            continue
        if any(a.startswith(scripts) for a in args) or any(f.startswith(results) for f in held):
            jobs.append(int(proc.name))
    return sorted(jobs)


def clear_stale_lock(log=print) -> None:
    """Remove Snakemake's lock when the run that left it is dead and none of its jobs still
    runs, then record this run."""
    if not Path("/proc/self").exists():  # no /proc: cannot tell live runs from dead ones
        return
    host, me = socket.gethostname(), os.getpid()
    live, dead = False, []
    for record in RUNS.glob("*"):
        record_host, _, pid = record.name.rpartition("-")
        if record_host != host or not pid.isdigit():
            live = live or record_host != host  # another host's run: cannot tell, keep its lock
            continue
        if int(pid) == me:  # this process, recorded by an earlier call
            continue
        if _is_snakemake(int(pid)):
            live = True
        else:
            dead.append(record)
    locks = list(LOCKS.glob("*.lock"))
    if locks and dead and not live and (orphans := workflow_jobs(Path.cwd())):
        live = True
        log(
            f"sendflow: jobs of a killed run still run here: pids {' '.join(map(str, orphans))}; "
            "its lock stays until they end or are killed"
        )
    if locks and dead and not live:
        log(f"sendflow: removing the lock left by a killed run ({len(locks)} lock files in {LOCKS})")
        for lock in locks:
            lock.unlink(missing_ok=True)
    if not live:
        for record in dead:
            record.unlink(missing_ok=True)
    RUNS.mkdir(parents=True, exist_ok=True)
    (RUNS / f"{host}-{me}").write_text("")
