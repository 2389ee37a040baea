"""Real Snakemake runs of the real Snakefile."""

import os
import re
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT, make_mp4, run_local, write_observer


def snakemake(workdir, *args, launcher=False):
    """Run the workflow in `workdir`; `launcher` goes through the `sendflow` entry point."""
    module = "sendflow.cli" if launcher else "snakemake"
    cmd = [sys.executable, "-m", module, "--snakefile", str(PROJECT / "Snakefile"), "--directory", str(workdir), *args]
    return run_local(cmd, cwd=workdir)


def jobs_by_rule(dry_run_stdout: str) -> dict[str, int]:
    """Parse the `job count` table that `snakemake -n` prints."""
    table = dry_run_stdout.split("job ", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def test_default_dag_dry_run(tmp_path):
    proc = snakemake(tmp_path, "-n", "--quiet", "rules")
    assert proc.returncode == 0, proc.stderr
    jobs = jobs_by_rule(proc.stdout + proc.stderr)
    assert jobs["demo_dataset"] == 1 and jobs["index"] == 1 and jobs["folds"] == 1


def test_real_root_skips_the_demo_and_bad_config_fails(tmp_path, foreign_root):
    proc = snakemake(tmp_path, "-n", "--config", f"data={{root: {foreign_root}}}")
    assert proc.returncode == 0, proc.stderr
    assert "demo_dataset" not in jobs_by_rule(proc.stdout + proc.stderr)
    bad = snakemake(tmp_path, "-n", "--config", "cv={mode: loso}")
    assert bad.returncode != 0 and "cv.mode: 'loso' is not one of" in bad.stdout + bad.stderr
    missing = snakemake(tmp_path, "-n", "--config", f"data={{root: {tmp_path / 'gone'}}}")
    assert missing.returncode != 0 and "does not exist" in missing.stdout + missing.stderr


@pytest.mark.slow  # runs Snakemake for real
def test_index_and_folds_run_on_a_foreign_root_via_dotted_config(tmp_path, foreign_root):
    proc = snakemake(
        tmp_path,
        "results/index/folds.parquet",
        "--cores",
        "1",
        "--config",
        f"data.root={foreign_root}",
        "cv.mode=official",
        launcher=True,
    )
    assert proc.returncode == 0, proc.stderr
    clips = pd.read_parquet(tmp_path / "results/index/clips.parquet")
    folds = pd.read_parquet(tmp_path / "results/index/folds.parquet")
    assert len(clips) == 5 and (~clips["has_video"]).sum() == 1
    assert set(folds["role"]) == {"train", "select", "test"}
    log = (tmp_path / "results/logs/index.log").read_text()
    assert "limited-use clips without video" in log and "114_3" in log
    assert (tmp_path / "results/benchmarks/index.tsv").exists()


# Import names whose pip package is named otherwise.
PIP_NAMES = {
    "cv2": "opencv-python-headless",
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "ffmpeg": "ffmpeg-python",
    "imageio_ffmpeg": "imageio-ffmpeg",
    "PIL": "pillow",
}


def _third_party_imports(path) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module.split(".")[0])
    # snakemake comes from the host installation (Snakemake puts it on every script's path)
    return names - set(sys.stdlib_module_names) - {"sendflow", "_workflow", "snakemake"}


def test_each_conda_environment_has_what_its_rules_code_imports():
    import yaml

    from sendflow.code_inputs import code_files

    checked = 0
    for smk in (PROJECT / "rules").glob("*.smk"):
        for block in re.split(r"(?m)^(?=(?:rule|checkpoint) )", smk.read_text()):
            env = re.search(r'conda:\s*\n\s*"\.\./(envs/[\w.]+)"', block)
            script = re.search(r'script:\s*\n\s*"\.\./(workflow_scripts/[\w.]+)"', block)
            if not (env and script):
                continue
            pip = yaml.safe_load((PROJECT / env[1]).read_text())["dependencies"][-1]["pip"]
            provided = {re.split(r"[=<>;\s]", p)[0].lower() for p in pip}
            files = [PROJECT / script[1], *code_files(PROJECT / script[1], PROJECT)]
            needed = {PIP_NAMES.get(n, n).lower() for f in files for n in _third_party_imports(f)}
            assert needed <= provided, f"{env[1]} lacks {sorted(needed - provided)} for {script[1]}"
            checked += 1
    assert checked >= 15


@pytest.mark.slow  # runs Snakemake for real
def test_the_demo_never_replaces_a_folder_it_did_not_make(tmp_path):
    mine = tmp_path / "my_data"
    mine.mkdir()
    (mine / "notes.txt").write_text("a copy of a dataset, and my notes")
    proc = snakemake(
        tmp_path, "--cores", "1", "--until", "demo_dataset", "--config", f"data.demo.dir={mine}", launcher=True
    )
    assert proc.returncode != 0
    log = (tmp_path / "results/logs/demo_dataset.log").read_text()
    assert "not made by sendflow's generator" in log and str(mine) in log
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


@pytest.mark.slow  # runs Snakemake for real
def test_a_changed_dataset_reruns_the_index(tmp_path, foreign_root):
    def plan():
        proc = snakemake(
            tmp_path,
            "results/index/folds.parquet",
            "-n",
            "--config",
            f"data.root={foreign_root}",
            "cv.mode=official",
            launcher=True,
        )
        assert proc.returncode == 0, proc.stderr
        return jobs_by_rule(proc.stdout + proc.stderr) if "job " in proc.stdout + proc.stderr else {}

    done = snakemake(
        tmp_path,
        "results/index/folds.parquet",
        "--cores",
        "1",
        "--config",
        f"data.root={foreign_root}",
        "cv.mode=official",
        launcher=True,
    )
    assert done.returncode == 0, done.stderr
    assert plan() == {}
    make_mp4(foreign_root / "videos/train/ID116_vid1_crop_downsized.mp4", 2)  # a clip added
    write_observer(foreign_root / "ratings/train/observer_EWE/results_116_1.csv", 4)
    assert "index" in plan()
    (foreign_root / "videos/train/ID116_vid1_crop_downsized.mp4").unlink()  # and removed again
    (foreign_root / "ratings/train/observer_EWE/results_116_1.csv").unlink()
    assert plan() == {}
    (foreign_root / "videos/test/ID112_vid1_crop_downsized.mp4").unlink()  # a video deleted
    assert "index" in plan()


@pytest.mark.slow  # runs Snakemake for real
def test_an_edited_rating_or_replaced_video_reruns_that_clip_only(tmp_path, foreign_root):
    """After a finished run, editing one clip's ratings or replacing its video reruns the index
    and that clip's frame job, and leaves every other clip's frames as they were."""
    targets = ["results/index/folds.parquet", "results/frames/face_detection.tsv"]
    config = ["--config", f"data.root={foreign_root}", "cv.mode=official"]

    def run():
        proc = snakemake(tmp_path, *targets, "--cores", "1", *config, launcher=True)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return Counter(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", proc.stdout + proc.stderr))

    run()
    frames = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "results/frames").glob("*.npz")}
    ratings = foreign_root / "ratings/train/observer_EWE/results_111_1.csv"
    ratings.write_text(ratings.read_text().replace(",60,", ",95,"))  # same times, new values
    assert run() == {"index": 1, "frames": 1, "face_report": 1}
    valence = np.load(tmp_path / "results/frames/111_1.npz")["valence"]
    assert np.isclose(valence, 95 / 50 - 1).any()
    make_mp4(foreign_root / "videos/valid/ID115_vid1_crop_downsized.mp4", 2, size="96x72")  # replaced
    assert run() == {"index": 1, "frames": 1, "face_report": 1}
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "results/frames").glob("*.npz")}
    assert sorted(name for name in frames if after[name] != frames[name]) == ["111_1.npz", "115_1.npz"]


@pytest.mark.slow  # runs Snakemake for real
def test_the_same_command_resumes_after_ctrl_c(tmp_path):
    """Ctrl-C during the frame stage (SIGINT to Snakemake and its jobs, as a terminal sends it),
    then the same command finishes without a flag: the workflow profile (profiles/default)
    reruns incomplete jobs instead of stopping with IncompleteFilesException. The test checks
    that the signal landed in the frame stage (a frame job had started, the frame check had not
    finished, and the rerun reruns frame jobs but not demo_dataset), not earlier."""
    import os
    import signal
    import time

    from conftest import TINY, local_env, planned_jobs, sendflow_command

    cmd = sendflow_command(
        tmp_path, "--cores", "1", "results/index/folds.parquet", "results/frames/face_detection.tsv", "--config", *TINY
    )
    run = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, env=local_env()
    )
    frames = tmp_path / "results/logs/frames"
    deadline = time.time() + 120
    while not (frames.is_dir() and any(frames.iterdir())) and time.time() < deadline:
        time.sleep(0.2)
    in_frame_stage = frames.is_dir() and any(frames.iterdir())  # a frame job has started
    os.killpg(run.pid, signal.SIGINT)
    out = run.communicate(timeout=120)[0]
    assert in_frame_stage, f"no frame job started within 120 s; the SIGINT landed before the frame stage: {out[-2000:]}"
    assert run.returncode != 0 and not (tmp_path / "results/frames/face_detection.tsv").exists(), out[-2000:]
    again = run_local(cmd)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "IncompleteFilesException" not in again.stderr
    assert (tmp_path / "results/frames/face_detection.tsv").exists()
    rerun = planned_jobs(again.stdout + again.stderr)
    assert rerun.get("frames", 0) >= 1 and "demo_dataset" not in rerun, rerun


def test_no_shell_and_no_unsafe_unpickling_in_the_code():
    """Dataset paths never reach a shell (no shell=True, os.system or `shell:` rules), and every
    torch.load of a file a user may be handed reads weights only (no pickled code runs)."""
    sources = [
        *(PROJECT / "sendflow").rglob("*.py"),
        *(PROJECT / "workflow_scripts").glob("*.py"),
        *(PROJECT / "rules").glob("*.smk"),
        PROJECT / "Snakefile",
    ]
    for path in sources:
        text = path.read_text()
        assert not re.search(r"shell\s*=\s*True|os\.system\(|os\.popen\(|^\s+shell:", text, re.M), path
        for call in re.findall(r"torch\.load\((?:[^()]|\([^()]*\))*\)", text):  # one level of nesting
            assert "weights_only=True" in call, f"{path}: {call}"


def test_a_lock_left_by_a_killed_run_is_removed_only_when_its_jobs_are_gone(tmp_path, monkeypatch):
    """sendflow.stale_lock on real processes: a dead run's lock goes; a lock stays while a job
    of it still holds a file under results/ (in this process group too: a rerun from the same
    wrapper script or CI step), or runs a job script, or another live Snakemake runs."""
    import socket

    from sendflow import stale_lock

    monkeypatch.chdir(tmp_path)
    (tmp_path / "results/logs").mkdir(parents=True)
    (tmp_path / ".snakemake/scripts").mkdir(parents=True)
    (tmp_path / ".snakemake/scripts/tmpjob.train.py").write_text("import time\ntime.sleep(60)\n")
    host, said = socket.gethostname(), []
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    holder = "import sys, time; f = open(sys.argv[1], 'a'); time.sleep(60)"
    orphans = [  # the same process group as this test and the rerun
        subprocess.Popen([sys.executable, "-c", holder, str(tmp_path / "results/logs/job.log")]),
        subprocess.Popen([sys.executable, ".snakemake/scripts/tmpjob.train.py"], cwd=tmp_path),
    ]
    bystander = subprocess.Popen(["sleep", "60"])  # same group, holds nothing of the workflow
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "snakemake"])
    try:

        def record(pid):
            stale_lock.RUNS.mkdir(parents=True, exist_ok=True)
            (stale_lock.RUNS / f"{host}-{pid}").write_text("")

        stale_lock.LOCKS.mkdir(parents=True, exist_ok=True)
        (stale_lock.LOCKS / "0.output.lock").write_text("results/x")
        record(dead.pid)  # Snakemake gone, two of its jobs still running
        time.sleep(0.5)  # the holder has opened its log
        for orphan in orphans:
            stale_lock.clear_stale_lock(said.append)
            assert (stale_lock.LOCKS / "0.output.lock").exists() and f"{orphan.pid}" in said[-1], said
            orphan.kill()
            orphan.wait()
        record(live.pid)  # and another run, alive
        stale_lock.clear_stale_lock(said.append)
        assert (stale_lock.LOCKS / "0.output.lock").exists()
        live.kill()
        live.wait()
        stale_lock.clear_stale_lock(said.append)  # the bystander is still there, and does not count
        assert not (stale_lock.LOCKS / "0.output.lock").exists() and "removing the lock" in said[-1]
        assert [p.name for p in stale_lock.RUNS.iterdir()] == [f"{host}-{os.getpid()}"]  # this run, recorded
    finally:
        for process in (*orphans, bystander, live):
            process.kill()
