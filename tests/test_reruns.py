"""A change reruns exactly the stages it invalidates: real `snakemake --dry-run` plans (jobs
per rule) after a real finished run of the tiny configuration, from a copy of the project whose
files the tests really edit (Snakemake reruns on new content, not on a touched mtime alone)."""

import json
import os
import re
import shutil
from contextlib import contextmanager

import pytest
from conftest import planned_jobs, run_local, run_tiny, sendflow_command

REPORT = {
    "aggregate",
    "compare",
    "manifest",
    "report_pages",
    "figure_comparison",
    "figure_effects",
    "figure_confusion",
    "figure_curves",
    "figure_timelines",
}
AFTER_CLASSIFIER = {"classifier", "model_zoo", *REPORT, "all"}
AFTER_FEATURES = {"features", "fusion_features", "per_step_classifier", *AFTER_CLASSIFIER}
AFTER_EXTRACTOR = {"train_extractor", "figure_attention", "figure_curves_extractor", *AFTER_FEATURES}
AFTER_FRAMES = {"frames", "face_report", *AFTER_EXTRACTOR}
# The action units need no video and no extractor; only the sources built on them rerun.
AFTER_UNITS = {
    "table_steps",
    "table_features",
    "fusion_features",
    "classifier",
    "per_step_classifier",
    "model_zoo",  # emotient's bundles (fused, with a table member, has none)
    *REPORT - {"figure_timelines"},
    "all",
}  # the timelines draw resattn's predictions
FIGURES = {
    "figure_comparison",
    "figure_effects",
    "figure_confusion",
    "figure_curves",
    "figure_curves_extractor",
    "figure_timelines",
    "figure_attention",
    "all",
}


_DRY_RUNS: dict[tuple[str, ...], str] = {}  # printed plans of the unedited project, per config
_EDITING = []  # files of the project copy now edited (their plans are not kept)


@pytest.fixture
def dry_run(tiny_run, tiny_project):
    """What `snakemake --dry-run` prints after the tiny run with `config`; one real dry run per
    config while the project copy is unedited, kept for the other tests that ask for it."""

    def printed(config=()) -> str:
        key = tuple(config)
        if _EDITING or key not in _DRY_RUNS:
            proc = run_tiny(tiny_run, "--cores", "2", "--dry-run", config=config, project=tiny_project)
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
            if _EDITING:
                return proc.stdout
            _DRY_RUNS[key] = proc.stdout
        return _DRY_RUNS[key]

    return printed


@pytest.fixture
def plan(dry_run):
    def planned(config=()) -> dict[str, int]:
        return planned_jobs(dry_run(config))

    return planned


@pytest.fixture
def plan_outputs(dry_run):
    """The output files of every job a dry run plans."""

    def planned(config=()) -> list[str]:
        lines = [line.strip() for line in dry_run(config).splitlines()]
        return [
            path for line in lines if line.startswith("output:") for path in line.removeprefix("output:").split(", ")
        ]

    return planned


@pytest.fixture
def edited(tiny_project):
    """A context that appends a comment to files of the project copy, then restores them
    (content and modification time) for the other tests of the session."""

    @contextmanager
    def edit(*relative_paths):
        paths = [tiny_project / p for p in relative_paths]
        saved = [(p.read_bytes(), p.stat().st_mtime_ns) for p in paths]
        _EDITING.append(relative_paths)
        try:
            for p in paths:
                p.write_text(p.read_text() + "\n# edited by test_reruns\n")
            yield
        finally:
            for p, (content, mtime) in zip(paths, saved):
                p.write_bytes(content)
                os.utime(p, ns=(mtime, mtime))
            _EDITING.remove(relative_paths)

    return edit


def test_nothing_is_planned_after_a_finished_run(plan):
    assert plan() == {}


@pytest.mark.parametrize(
    "setting, expected",
    [
        ("classifier.mstcn.layers=5", AFTER_CLASSIFIER),  # an MS-TCN setting
        ("extractor.lr=0.003", AFTER_EXTRACTOR),  # an extractor setting
        ("frames.margin=0.3", AFTER_FRAMES),  # a frame setting
        ("report.dpi=60", FIGURES),  # a figure setting
        ("report.include_faces=false", {"figure_attention", "all"}),
        ("extractor.mem_mb=5000", set()),  # resources are not results
        ("extractor.feature_batch_size=64", AFTER_FEATURES),  # read by the feature cache only
        ("extractor.scope=per_fold", set()),  # the default, spelled out
        ("classifier.training.epochs=3", AFTER_CLASSIFIER),  # only the torch models read it
        ("tables.emotient.columns=[AU1,AU12,joyEvidence]", AFTER_UNITS),
        ("tables.emotient.mem_mb=3000", set()),
        ("fusions.fused.mem_mb=3000", set()),
        ("fusions.fused.modality_dropout=0.3", {"classifier", *REPORT - {"figure_timelines"}, "all"}),
    ],
)
def test_a_setting_reruns_only_what_it_invalidates(plan, setting, expected):
    assert set(plan([setting])) == expected


def test_an_mstcn_setting_reruns_only_mstcn_jobs(plan):
    jobs = plan(["classifier.mstcn.layers=5"])
    assert jobs["classifier"] == 6  # mstcn on each of 3 sources x 2 folds; framewise and mean stay
    assert jobs["figure_timelines"] == 2  # the timelines draw mstcn's predictions


def test_a_frame_setting_reruns_every_clip(plan, tiny_run):
    clips = len(list((tiny_run / "results/frames").glob("*.npz")))
    assert plan(["frames.margin=0.3"])["frames"] == clips


def test_editing_the_mstcn_module_reruns_only_classifier_jobs(plan, edited):
    with edited("sendflow/models/mstcn.py"):
        jobs = plan()
    assert set(jobs) == AFTER_CLASSIFIER and jobs["classifier"] == 6


def test_editing_docs_or_tests_reruns_nothing(plan, edited):
    with edited("README.md", "tests/test_pipeline.py", "tests/conftest.py"):
        assert plan() == {}


def test_a_training_setting_of_the_torch_models_leaves_the_baselines(plan):
    jobs = plan(["classifier.training.epochs=3"])
    assert jobs["classifier"] == 6 and jobs["model_zoo"] == 2  # mstcn's of resattn and emotient; the baselines stay


def test_new_action_units_retrain_only_the_models_that_read_them(plan):
    jobs = plan(["tables.emotient.columns=[AU1,AU12,joyEvidence]"])
    assert jobs["table_features"] == 2 and jobs["fusion_features"] == 2
    assert jobs["classifier"] == 4 and jobs["per_step_classifier"] == 8  # emotient and fused, 2 folds


def test_adding_an_extractor_kind_trains_only_the_new_one(plan):
    jobs = plan(["extractor.kinds=[resattn,resnet,emotient,fused]"])
    assert jobs["train_extractor"] == 2 and jobs["features"] == 2  # resnet, per fold
    assert jobs["classifier"] == 2 and jobs["per_step_classifier"] == 4  # its 3 classifiers x 2 folds
    assert jobs["model_zoo"] == 3


@pytest.mark.parametrize(
    "module, first",
    [
        ("sendflow/ffmpeg_bin.py", "index"),  # durations of the videos
        ("sendflow/synth/face.py", "demo_dataset"),  # draws the demo's faces
    ],
)
def test_editing_a_module_reruns_the_rules_whose_scripts_import_it(plan, edited, module, first):
    with edited(module):
        assert first in plan()


@pytest.mark.parametrize(
    "module, expected",
    [
        ("sendflow/sources/formats/openface.py", set()),  # no table of the run reads OpenFace files
        ("sendflow/sources/formats/emotient.py", AFTER_UNITS),
        ("sendflow/sources/fusion.py", {"fusion_features", "classifier", "per_step_classifier", *REPORT, "all"}),
    ],
)
def test_editing_a_source_module_reruns_that_sources_jobs_only(plan, edited, module, expected):
    with edited(module):
        assert set(plan()) == expected - {"figure_timelines"}


@pytest.mark.parametrize(
    "module, expected",
    [
        ("sendflow/metrics.py", AFTER_EXTRACTOR),  # picks the extractor's best epoch, scores every classifier
        # makes the fold table (rule folds), which Emotient's per-fold standardisation reads too
        ("sendflow/folds.py", {"folds", "table_features", *AFTER_EXTRACTOR}),
    ],
)
def test_editing_metrics_or_folds_reruns_extractor_training_and_after_but_not_frames(plan, edited, module, expected):
    """docs/reliability.md: "extractor training, features, classifiers and everything after;
    not frames" (nor the index, the Emotient action units or the demo)."""
    with edited(module):
        assert set(plan()) == expected


def test_the_shared_scope_trains_one_extractor_for_all_folds(plan, plan_outputs):
    """extractor.scope: shared (docs/configuration.md): one resattn extractor, on the Train split,
    feeds both folds; the frames stay."""
    config = ["extractor.scope=shared"]
    jobs = plan(config)
    assert set(jobs) == AFTER_EXTRACTOR and jobs["train_extractor"] == 1 and jobs["features"] == 2, jobs
    extractors = {p.split("/")[3] for p in plan_outputs(config) if p.startswith("results/extractor/resattn/")}
    assert extractors == {"shared"}, extractors


def test_an_edited_emotient_file_reruns_only_what_reads_action_units(tiny_run, tiny_project, tmp_path):
    """An Emotient file of the demo is an input of `emotient_steps` (listed per file from the
    index): editing one reruns the action units and what is built on them, nothing with video."""
    run = tmp_path  # the tiny run's depth below the session folder: its relative code paths hold
    shutil.copytree(tiny_run, run, symlinks=True, dirs_exist_ok=True)
    [unit_file, *_] = sorted((run / "data").rglob("features/*/emotient/*.txt"))
    lines = unit_file.read_text().splitlines()
    lines[1] = ",".join(lines[1].split(",")[:-1] + ["0.5"])  # one value of the first step
    unit_file.write_text("\n".join(lines) + "\n")
    proc = run_tiny(run, "--cores", "2", "--dry-run", project=tiny_project)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert set(planned_jobs(proc.stdout)) == AFTER_UNITS, proc.stdout[-3000:]


def test_a_moved_project_plans_nothing(tiny_run, tiny_project, tmp_path):
    """Project and results copied elsewhere (keeping modification times, as cp -a does)."""
    moved_project = tmp_path / tiny_project.parent.name / tiny_project.name
    moved_run = tmp_path / tiny_run.name
    assert os.path.relpath(tiny_project, tiny_run) == os.path.relpath(moved_project, moved_run)
    shutil.copytree(tiny_project, moved_project, symlinks=True)
    shutil.copytree(tiny_run, moved_run, symlinks=True)
    proc = run_tiny(moved_run, "--cores", "2", "--dry-run", project=moved_project)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert planned_jobs(proc.stdout) == {}, proc.stdout[-3000:]


def test_every_rule_declares_the_code_its_jobs_ran(tiny_run, tiny_project):
    """Each job logs the sendflow files it imported (sendflow.logs); each must be an input
    of its rule, or editing it would not rerun the job."""
    checked = set()
    for record in (tiny_run / ".snakemake/metadata").iterdir():
        meta = json.loads(record.read_text())
        if not meta.get("log"):
            continue
        text = (tiny_run / meta["log"][0]).read_text()
        used = re.search(r"sendflow code used: (.*)", text)
        assert used, f"{meta['log'][0]} does not say which code ran"
        declared = {
            str((tiny_run / p).resolve().relative_to(tiny_project))
            for p in meta["input"]
            if (tiny_run / p).resolve().is_relative_to(tiny_project / "sendflow")
        }
        missing = set(used.group(1).split()) - declared
        assert not missing, f"rule {meta['rule']} runs {sorted(missing)} without declaring them"
        checked.add(meta["rule"])
    assert {
        "demo_dataset",
        "index",
        "frames",
        "train_extractor",
        "features",
        "classifier",
        "per_step_classifier",
        "model_zoo",
        "aggregate",
        "figure_attention",
    } <= checked


def test_raising_repeats_trains_only_the_new_repeats(plan, plan_outputs):
    """repeats 1 -> 3 trains repeats 1 and 2 of every extractor; the feature and classifier jobs
    hold every repeat of their fold, so they run again (test_repeats.py checks that repeat 0's
    files come out unchanged, its torch models loaded, not trained); then the report."""
    jobs = plan(["repeats=3"])
    assert set(jobs) == {
        "train_extractor",
        "features",
        "fusion_features",
        "classifier",
        "per_step_classifier",
        "model_zoo",
        *REPORT,
        "all",
    }
    # TINY: 2 folds; resattn is the one learned extractor; sources resattn, emotient, fused.
    # Repeat 0's fused features follow its rewritten resattn features (the same bytes again).
    assert (jobs["train_extractor"], jobs["features"], jobs["fusion_features"]) == (4, 2, 2 * 3)
    assert (jobs["classifier"], jobs["per_step_classifier"]) == (2 * 3, 2 * 3 * 2)
    extractors = [p for p in plan_outputs(["repeats=3"]) if p.startswith("results/extractor")]
    assert extractors and all(re.search(r"/fold\d+-repeat[12]/", p) for p in extractors), extractors


@pytest.mark.slow  # runs Snakemake for real
def test_a_dataset_file_replaced_by_an_older_copy_reruns_the_index_and_its_clip(foreign_root, tmp_path):
    """`cp -p`, `rsync -a` or unzipping the release again puts a corrected file in place with an
    older modification time than the outputs: the index and that clip's frames still rerun."""
    frames = [f"results/frames/{c}.npz" for c in ("111_1", "113_2", "115_1", "112_1")]
    config = ["--config", f"data.root={foreign_root}", "cv.mode=official"]

    def run():
        proc = run_local(sendflow_command(tmp_path, "--cores", "2", "results/index/clips.parquet", *frames, *config))
        assert proc.returncode == 0, proc.stderr[-3000:]
        return re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", proc.stdout + proc.stderr)

    assert sorted(run()) == ["frames"] * 4 + ["index"]
    ratings = foreign_root / "ratings/test/observer_EWE/results_112_1.csv"
    before = ratings.stat().st_mtime_ns
    ratings.write_text(ratings.read_text().replace(",60,", ",65,"))  # the corrected release's file ...
    os.utime(ratings, ns=(before - 86_400 * 10**9,) * 2)  # ... a day older than the first copy
    assert sorted(run()) == ["frames", "index"]  # 112_1's frames only
    assert run() == []


@pytest.mark.parametrize(
    "setting, check, output",
    [
        ("data.min_rating_span=4", "index", "results/index/clips.parquet"),
        ("frames.max_rating_overhang_s=5", "face_report", "results/frames/face_detection.tsv"),
    ],
)
def test_a_check_only_setting_that_changes_no_clip_reruns_its_check_alone(
    tiny_run, tiny_project, tmp_path, setting, check, output
):
    """A setting that only decides whether a clip passes (data.min_rating_span: the whole index;
    frames.max_rating_overhang_s: each clip's frames) reruns its check. A value that lets the
    same clips through leaves the check's table the same, and then nothing after it runs: a real
    run, not a plan, since Snakemake plans what follows a checkpoint after it has run."""
    run = tmp_path  # the tiny run's depth below the session folder: its relative code paths hold
    shutil.copytree(tiny_run, run, symlinks=True, dirs_exist_ok=True)  # keeps modification times
    results = [p for p in (run / "results").rglob("*") if p.is_file() and p.parts[-3:-1] != ("results", "logs")]
    kept = [p for p in results if "benchmarks" not in p.parts and "logs" not in p.parts and p != run / output]
    before = {path: path.stat().st_mtime_ns for path in kept}
    table = (run / output).read_bytes()
    proc = run_tiny(run, "--cores", "2", config=[setting], project=tiny_project)
    printed = proc.stdout + proc.stderr
    assert proc.returncode == 0, printed[-3000:]
    assert f"checkpoint {check}:" in printed and len(before) > 100, printed[-3000:]
    assert (run / output).read_bytes() == table
    changed = sorted(str(p.relative_to(run)) for p in kept if p.stat().st_mtime_ns != before[p])
    assert not changed, changed
