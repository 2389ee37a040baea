"""A run killed anywhere resumes with the same command: the tiny workflow is interrupted in the
frame, extractor, feature and MS-TCN stages in turn (one attempt each), in four ways, and must
end with the results of an uninterrupted run, no finished job redone, training resumed from its
checkpoint, and never a partial file under an output's name."""

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from conftest import TINY, group_members, local_env, run_local, sendflow_command

pytestmark = pytest.mark.slow  # every test here runs Snakemake for real

# Enough epochs, with no early stop, that a kill lands in the middle of training; the workflow
# up to the metrics summary (not the report), MS-TCN on the learned features only (the Emotient
# jobs would run beside every stage and blur which one a kill lands in).
CHAIN = [
    "extractor.kinds=[resattn]",
    "extractor.epochs=4",
    "extractor.patience=0",
    "classifier.names=[mstcn]",
    "classifier.training.epochs=20",
    "classifier.training.patience=0",
]

# (stage, its logs, a line meaning its work is under way)
STAGES = [
    ("frames", "results/logs/frames/*.log", "--- job started ---"),
    ("extractor", "results/logs/extractor/*/*.log", "epoch 1/"),
    ("features", "results/logs/features/*/*.log", "--- job started ---"),
    ("mstcn", "results/logs/classifier/*/mstcn/*/*.log", "epoch 1/"),
]


def command(workdir):
    return sendflow_command(workdir, "--cores", "2", "results/metrics/summary.csv", "--config", *TINY, *CHAIN)


def finished_jobs(output: str) -> Counter:
    return Counter(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", output))


def finished_logs(workdir: Path) -> dict[str, str]:
    """The logs of jobs whose last attempt ran to its end (a job's last line names the code it
    used; a failed or interrupted one says "job failed" before it), by path."""
    finished = {}
    for log in workdir.glob("results/logs/**/*.log"):
        last_attempt = (text := log.read_text()).rpartition("--- job started ---")[2]
        if "sendflow code used" in last_attempt and "job failed" not in last_attempt:
            finished[str(log.relative_to(workdir))] = text
    return finished


def reported_finished(output: str, workdir: Path) -> dict[str, str]:
    """The logs of the jobs that Snakemake reported finished in `output`, by path. Only these
    must never run again: an interruption can land after a job's last log line but before it
    exits (Snakemake then rightly counts it failed), or after it ended but before Snakemake
    printed so (the next run rightly keeps it)."""
    log_of = {jobid: log for log, jobid in re.findall(r"^\s+log: (\S+)\n\s+jobid: (\d+)$", output, re.M)}
    finished = re.findall(r"Finished jobid: (\d+) ", output)
    assert set(finished) <= set(log_of), "a finished job's log is not in Snakemake's output"
    return {log_of[jobid]: (workdir / log_of[jobid]).read_text() for jobid in finished}


def assert_not_run_again(finished: dict[str, str], workdir: Path, when: str) -> None:
    """Jobs that had finished were not run again: their logs are as they were (a rerun rewrites
    a job's log, with new times)."""
    again = [log for log, text in finished.items() if (workdir / log).read_text() != text]
    assert not again, f"{when}: finished job(s) run again: {again}"


def wait_for(condition, what, timeout=300):
    deadline = time.time() + timeout
    while not (found := condition()):
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def writes(pid: int, log: Path) -> bool:
    """Whether process `pid` has `log` open: the job whose log it is."""
    try:
        return any(os.readlink(fd) == str(log.resolve()) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def interrupt(run: subprocess.Popen, how: str, log: Path) -> None:
    """Interrupt `run` as `how` says; `log` is the log of a job under way (the one killed alone)."""
    if how == "kill -9 of Snakemake and its jobs":
        os.killpg(run.pid, signal.SIGKILL)
    elif how == "Ctrl-C":
        os.killpg(run.pid, signal.SIGINT)
    elif how == "kill -9 of one job":
        job = wait_for(lambda: [pid for pid in group_members(run.pid) if writes(pid, log)], f"the job writing {log}")[0]
        os.kill(job, signal.SIGKILL)
    elif how == "kill -9 of Snakemake alone":
        os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=300)
    # Jobs orphaned by a killed Snakemake run on; the next run's lock check waits for them.
    wait_for(lambda: not group_members(run.pid), "the interrupted run's jobs to end")


def under_way(workdir: Path, logs: str, marker: str) -> Path | None:
    """A log of the stage whose job has reached `marker`."""
    return next((log for log in workdir.glob(logs) if marker in log.read_text()), None)


def assert_no_partial_outputs(results: Path) -> None:
    """Every file under an output's name reads back whole (temporaries start with a dot)."""
    readers = {
        ".npz": lambda p: [a for a in np.load(p).values()],
        ".parquet": pq.read_table,
        ".json": lambda p: json.loads(p.read_text()),
        ".pt": lambda p: torch.load(p, map_location="cpu", weights_only=True),
        ".csv": pd.read_csv,
    }
    for path in results.rglob("*"):
        if path.is_file() and not path.name.startswith(".") and path.suffix in readers:
            try:
                readers[path.suffix](path)
            except Exception as error:  # noqa: BLE001 - any failure to read is the finding
                pytest.fail(f"{path} looks complete but does not read: {error}")


def outputs(workdir: Path) -> dict[str, bytes]:
    kept = ("metrics.json", "predictions.parquet")
    return {
        str(p.relative_to(workdir)): p.read_bytes()
        for p in sorted(workdir.glob("results/classifier/**/*"))
        if p.name in kept
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the same configuration: its results and jobs per rule."""
    workdir = tmp_path_factory.mktemp("uninterrupted")
    proc = run_local(command(workdir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return outputs(workdir), finished_jobs(proc.stdout + proc.stderr), set(finished_logs(workdir))


@pytest.mark.parametrize(
    "how", ["kill -9 of Snakemake and its jobs", "kill -9 of one job", "Ctrl-C", "kill -9 of Snakemake alone"]
)
def test_a_run_interrupted_in_every_stage_resumes_to_the_same_results(tmp_path, reference, how):
    expected, expected_jobs, expected_logs = reference
    jobs, finished = Counter(), {}
    for stage, logs, marker in STAGES:
        with open(tmp_path / f"attempt_{stage}.out", "w+") as out:
            run = subprocess.Popen(
                command(tmp_path),
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
                env=local_env(),
            )
            log = wait_for(lambda: under_way(tmp_path, logs, marker) or run.poll() is not None, f"the {stage} stage")
            assert run.poll() is None, f"the run ended before its {stage} stage could be interrupted"
            interrupt(run, how, log)
            out.seek(0)
            printed = out.read()
        assert run.returncode != 0, f"{how} in the {stage} stage: the run still succeeded"
        jobs += finished_jobs(printed)
        if how != "kill -9 of Snakemake alone":  # (its orphans' jobs are run again; see below)
            assert_not_run_again(finished, tmp_path, f"{how} in the {stage} stage")
        finished |= reported_finished(printed, tmp_path)
        assert not (tmp_path / "results/metrics/summary.csv").exists(), f"{how} in the {stage} stage"
        assert_no_partial_outputs(tmp_path / "results")

    final = run_local(command(tmp_path))
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    assert "LockException" not in final.stderr
    jobs += finished_jobs(final.stdout + final.stderr)

    assert outputs(tmp_path) == expected  # metrics and predictions byte for byte
    if how == "kill -9 of Snakemake alone":
        # No job is cut short: the orphans finish with no Snakemake to see it (their journal of
        # attempts goes with their success), so the next run runs them again, and each then
        # writes its outputs from its kept checkpoint without training again.
        assert all(jobs[rule] <= n for rule, n in expected_jobs.items()) and set(jobs) <= set(expected_jobs)
        logs = [
            *tmp_path.glob("results/logs/extractor/*/*.log"),
            *tmp_path.glob("results/logs/classifier/*/mstcn/*/*.log"),
        ]
        again = [log for log in logs if "training had finished" in log.read_text()]
        assert again, "no training job that an orphan finished was run again from its checkpoint"
        for log in again:
            assert "epoch 1/" not in log.read_text(), f"{log} trained again"
    else:
        assert_not_run_again(finished, tmp_path, "the resumed run")
        assert set(finished_logs(tmp_path)) == expected_logs, "a job never ran (or one ran that should not)"
        assert all(jobs[rule] <= n for rule, n in expected_jobs.items()) and set(jobs) <= set(expected_jobs)
        for logs in ("results/logs/extractor/*/*.log", "results/logs/classifier/*/mstcn/*/*.log"):
            resumed = [log.read_text() for log in tmp_path.glob(logs) if "resuming from" in log.read_text()]
            assert resumed, f"no job of {logs} resumed from its checkpoint"
            # the earlier attempt is still in the log; it may end between its checkpoint and that
            # epoch's log line (the kill follows another job's log), so no epoch line is required
            assert all(text.count("--- job started ---") >= 2 for text in resumed), (
                "a resumed job's log lost its earlier attempt"
            )
    assert not list((tmp_path / "results").rglob(".*.tmp-*")), "a killed job's temporary was left behind"
