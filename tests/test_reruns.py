"""A change reruns exactly the stages it invalidates: real `snakemake --dry-run` plans (jobs
per rule) after a real finished run of the tiny configuration, from a copy of the project whose
files the tests really edit (Snakemake reruns on new content, not on a touched mtime alone)."""

import os
from contextlib import contextmanager

import pytest

from conftest import planned_jobs, run_tiny

REPORT = {"aggregate", "compare", "manifest", "figure_comparison", "figure_confusion",
          "figure_curves", "figure_timelines"}
AFTER_CLASSIFIER = {"classifier", *REPORT, "all"}
AFTER_EXTRACTOR = {"train_extractor", "features", "figure_attention", *AFTER_CLASSIFIER}
AFTER_FRAMES = {"frames", "face_report", *AFTER_EXTRACTOR}
FIGURES = {"figure_comparison", "figure_confusion", "figure_curves", "figure_timelines",
           "figure_attention", "all"}


@pytest.fixture
def plan(tiny_run, tiny_project):
    def planned(config=()) -> dict[str, int]:
        proc = run_tiny(tiny_run, "--cores", "2", "--dry-run", config=config, project=tiny_project)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return planned_jobs(proc.stdout)
    return planned


@pytest.fixture
def edited(tiny_project):
    """A context that appends a comment to files of the project copy, then restores them
    (content and modification time) for the other tests of the session."""
    @contextmanager
    def edit(*relative_paths):
        paths = [tiny_project / p for p in relative_paths]
        saved = [(p.read_bytes(), p.stat().st_mtime_ns) for p in paths]
        try:
            for p in paths:
                p.write_text(p.read_text() + "\n# edited by test_reruns\n")
            yield
        finally:
            for p, (content, mtime) in zip(paths, saved):
                p.write_bytes(content)
                os.utime(p, ns=(mtime, mtime))
    return edit


def test_nothing_is_planned_after_a_finished_run(plan):
    assert plan() == {}


@pytest.mark.parametrize("setting, expected", [
    ("classifier.mstcn.layers=5", AFTER_CLASSIFIER),  # an MS-TCN setting
    ("extractor.lr=0.002", AFTER_EXTRACTOR),  # an extractor setting
    ("frames.margin=0.3", AFTER_FRAMES),  # a frame setting
    ("report.dpi=60", FIGURES),  # a figure setting
    ("report.include_faces=false", {"figure_attention", "all"}),
    ("extractor.mem_mb=5000", set()),  # resources are not results
])
def test_a_setting_reruns_only_what_it_invalidates(plan, setting, expected):
    assert set(plan([setting])) == expected


def test_an_mstcn_setting_reruns_only_mstcn_jobs(plan):
    jobs = plan(["classifier.mstcn.layers=5"])
    assert jobs["classifier"] == 2  # mstcn on each of the 2 folds; framewise and mean stay
    assert jobs["figure_timelines"] == 2  # the timelines draw mstcn's predictions


def test_a_frame_setting_reruns_every_clip(plan, tiny_run):
    clips = len(list((tiny_run / "results/frames").glob("*.npz")))
    assert plan(["frames.margin=0.3"])["frames"] == clips


def test_editing_the_mstcn_module_reruns_only_classifier_jobs(plan, edited):
    with edited("sendflow/models/mstcn.py"):
        jobs = plan()
    assert set(jobs) == AFTER_CLASSIFIER and jobs["classifier"] == 2


def test_editing_docs_or_tests_reruns_nothing(plan, edited):
    with edited("README.md", "tests/test_pipeline.py", "tests/conftest.py"):
        assert plan() == {}
