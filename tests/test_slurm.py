"""The tiny workflow on a real SLURM cluster through `--profile profiles/slurm`, checked against
SLURM's own records (slurmctld's log and `scontrol show job`) and against the local run.

`tests/cluster/slurm_up.sh` (run by `.ci/run`) brings up a single-node cluster with one fake
GPU. Without a cluster this module skips, except under CI=true, where it fails."""

import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT, run_tiny

pytestmark = pytest.mark.slow  # every test here runs Snakemake for real

GPU_RULES = {"train_extractor", "features", "classifier"}  # classifier: the torch models


def cluster_problem() -> str | None:
    """Why no SLURM cluster can take jobs here, or None when one can."""
    missing = [c for c in ("sbatch", "squeue", "sinfo", "scontrol") if shutil.which(c) is None]
    if missing:
        return f"no SLURM client commands ({', '.join(missing)})"
    proc = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        return f"the SLURM controller does not answer: {proc.stderr.strip()}"
    if not {"idle", "mix", "alloc"} & set(proc.stdout.split()):
        return f"no SLURM node can take jobs (states: {proc.stdout.split()})"
    return None


@pytest.fixture(scope="module")
def cluster():
    problem = cluster_problem()
    if problem and os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but no SLURM cluster: {problem}. .ci/run starts one with tests/cluster/slurm_up.sh")
    if problem:
        pytest.skip(f"{problem}; start a test cluster with `sudo tests/cluster/slurm_up.sh`")


def controller_log() -> Path:
    config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, check=True).stdout
    return Path(re.search(r"^SlurmctldLogFile\s*=\s*(\S+)", config, re.M).group(1))


def job_record(job_id: str) -> dict[str, str]:
    """`scontrol show job` as key=value pairs (finished jobs stay listed for MinJobAge)."""
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, check=True).stdout
    return dict(field.split("=", 1) for field in out.split() if "=" in field)


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm_run")
    log = controller_log()
    offset = log.stat().st_size
    started = time.monotonic()
    proc = run_tiny(workdir, "--profile", str(PROJECT / "profiles/slurm"), env=dict(os.environ))  # the real controller
    wall = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    with open(log) as f:
        f.seek(offset)
        submitted = re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+)", f.read())
    print(f"tiny workflow on SLURM: {wall:.0f} s, {len(submitted)} sbatch submissions")
    return {"workdir": workdir, "output": output, "records": [job_record(j) for j in submitted]}


def rule_of(comment: str, rules: set[str]) -> str:
    """The rule a job ran, from the comment the SLURM plugin sets: rule_<rule>[_wildcards_...]."""
    matches = [r for r in rules if comment == f"rule_{r}" or comment.startswith(f"rule_{r}_")]
    assert matches, f"job comment {comment!r} names no rule of the workflow"
    return max(matches, key=len)


def jobs_run(output: str, kind: str) -> Counter:
    """Jobs per rule that Snakemake's log shows started remotely ('rule'/'checkpoint') or on
    the submitting machine ('localrule'/'localcheckpoint')."""
    words = ("rule", "checkpoint") if kind == "remote" else ("localrule", "localcheckpoint")
    return Counter(rule for word, rule in re.findall(r"^\s*(\w+) (\w+):$", output, re.M) if word in words)


def test_every_job_went_through_sbatch_and_finished(slurm_run):
    remote = jobs_run(slurm_run["output"], "remote")
    assert set(jobs_run(slurm_run["output"], "local")) == {"all"}  # it only collects targets
    records = slurm_run["records"]
    assert {rule_of(r.get("Comment", ""), set(remote)) for r in records} == set(remote)
    assert all(r["JobState"] == "COMPLETED" and r["ExitCode"] == "0:0" for r in records)
    told = re.findall(r"submitted with SLURM jobid (\d+)", slurm_run["output"])
    assert sorted(told) == sorted(r["JobId"] for r in records)
    # the per-clip frame jobs went as groups, not one sbatch each
    frame_submissions = sum(rule_of(r["Comment"], set(remote)) == "frames" for r in records)
    assert 0 < frame_submissions < remote["frames"]


def test_gpu_rules_asked_for_a_gpu_and_cpu_rules_did_not(slurm_run):
    rules = set(jobs_run(slurm_run["output"], "remote"))
    for record in slurm_run["records"]:
        comment = record["Comment"]
        rule = rule_of(comment, rules)
        wants_gpu = rule in GPU_RULES  # not per_step_classifier, which runs no torch
        asked = "gpu" in record.get("TresPerJob", "") + record.get("TresPerNode", "")
        assert asked == wants_gpu, f"{comment}: GPU asked {asked}, expected {wants_gpu}"


def test_results_equal_the_local_run(slurm_run, tiny_run):
    cluster, local = slurm_run["workdir"] / "results", tiny_run / "results"
    metrics = sorted(p.relative_to(local) for p in local.glob("classifier/**/metrics.json"))
    assert metrics
    for path in metrics:
        assert json.loads((cluster / path).read_text()) == json.loads((local / path).read_text()), path
        predictions = path.with_name("predictions.parquet")
        pd.testing.assert_frame_equal(pd.read_parquet(cluster / predictions), pd.read_parquet(local / predictions))
    pd.testing.assert_frame_equal(
        pd.read_csv(cluster / "metrics/summary.csv"), pd.read_csv(local / "metrics/summary.csv")
    )
