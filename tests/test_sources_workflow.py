"""Feature sources beyond the built-in ones, through the real Snakefile: OpenFace, eGeMAPS and a
three-member fusion on the files the demo generator writes; a dataset root with a folder of
OpenFace CSVs, given on the command line and nothing else; a source defined in config alone;
and a table format added as one module plus its schema entry, in a copy of the project."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import (
    assert_predicted_as_the_workflow,
    copy_project,
    fold_test_speaker_videos,
    run_local,
    run_tiny,
    sendflow_command,
)

from sendflow.ratings import read_observer

pytestmark = pytest.mark.slow  # each test runs Snakemake for real

OPENFACE = ["tables.openface.format=openface", "tables.openface.path={root}/openface/{stem}.csv"]
EGEMAPS = [
    "tables.egemaps.format=egemaps",
    "tables.egemaps.path={root}/features/{split}/acoustic-egemaps/ID{n}_vid{m}_acousticFeatures.csv",
]
PYFEAT = ["tables.pyfeat.format=pyfeat", "tables.pyfeat.path={root}/pyfeat/{stem}.csv"]
SOURCES = [
    "extractor.kinds=[openface,egemaps,pyfeat,trio]",
    *OPENFACE,
    *EGEMAPS,
    *PYFEAT,
    "fusions.trio.of=[emotient,openface,egemaps]",
    "fusions.trio.components=0",
]


@pytest.fixture(scope="module")
def sources_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sources_run")
    proc = run_tiny(workdir, "--cores", "2", config=SOURCES)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir


def test_openface_egemaps_pyfeat_and_a_three_member_fusion_are_trained_scored_and_compared(sources_run):
    results = sources_run / "results"
    summary = pd.read_csv(results / "metrics/summary.csv")
    assert set(zip(summary["extractor"], summary["classifier"])) == {
        (source, classifier)
        for source in ("openface", "egemaps", "pyfeat", "trio")
        for classifier in ("mstcn", "framewise", "mean")
    }
    assert not (results / "frames").exists()  # tables need no decoded video

    clips = pd.read_parquet(results / "index/clips.parquet")
    openface = pd.read_parquet(results / "features/openface/steps.parquet")
    egemaps = pd.read_parquet(results / "features/egemaps/steps.parquet")
    assert set(openface["clip_id"]) == set(clips.loc[clips["has_video"], "clip_id"])  # {stem}: video clips
    assert set(egemaps["clip_id"]) == set(clips["clip_id"])  # SEND's acoustic files: every clip
    log = (results / "logs/features/openface/steps.log").read_text()
    assert all(c in log for c in clips.loc[~clips["has_video"], "clip_id"])  # the clips left out, named
    assert openface["feature"].iloc[0].shape == (17,) and egemaps["feature"].iloc[0].shape == (88,)
    # py-feat counts frames: the video's frame rate (5.994 fps, ffmpeg shows 5.99) places them on
    # the same steps as OpenFace's timestamps
    pyfeat = pd.read_parquet(results / "features/pyfeat/steps.parquet")
    steps = [table.groupby("clip_id")["step"].agg(["min", "max"]) for table in (openface, pyfeat)]
    pd.testing.assert_frame_equal(*steps)

    meta = pq.read_schema(results / "features/trio/fold0.parquet").metadata
    members = json.loads(meta[b"sendflow.members"])
    assert members == [["openface", 0, 18, True], ["egemaps", 18, 107, True], ["emotient", 107, 127, False]]
    trio = pd.read_parquet(results / "features/trio/fold0.parquet")
    x = np.stack(trio["feature"].to_numpy())
    limited = trio["clip_id"].isin(clips.loc[~clips["has_video"], "clip_id"]).to_numpy()
    assert (x[limited, 17] == 0).all() and (x[limited, :17] == 0).all()  # no video: no OpenFace, mask 0
    assert not (results / "features/trio/fold0-repeat1.parquet").exists()  # a fusion of tables: no repeats

    comparisons = pd.read_csv(results / "metrics/comparisons.csv")
    pairs = comparisons.loc[comparisons["question"] == "sources", ["candidate", "reference"]]
    sources = ("openface", "egemaps", "pyfeat", "trio")
    assert {frozenset(p) for p in pairs.itertuples(index=False)} == {
        frozenset((a, b)) for i, a in enumerate(sources) for b in sources[i + 1 :]
    }
    assert (results / "report_pages/summary.html").exists()


def test_a_root_and_a_folder_of_openface_csvs_are_all_it_takes(sources_run, tmp_path):
    """The acceptance command: data.root, extractor.kinds and the table's format and path; every
    classifier trained and scored. (cv.k and allow_one_class only fit the tiny data set: 8 s
    clips of 6 speakers.)"""
    root, folder = tmp_path / "send", tmp_path / "openface csvs"
    shutil.copytree(sources_run / "data/demo", root, ignore=shutil.ignore_patterns("openface", "pyfeat"))
    shutil.copytree(sources_run / "data/demo/openface", folder)
    config = [
        f"data.root={root}",
        "extractor.kinds=[openface]",
        "tables.openface.format=openface",
        f"tables.openface.path={folder}/{{stem}}.csv",
        "cv.k=2",
        "classifier.training.allow_one_class=true",
    ]
    proc = run_local(sendflow_command(tmp_path / "work", "--cores", "2", "--config", *config))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = pd.read_csv(tmp_path / "work/results/metrics/summary.csv")
    assert set(summary["extractor"]) == {"openface"}
    assert set(summary["classifier"]) == {"mstcn", "sstcn", "bigru", "framewise", "mean"}
    assert summary["ccc_mean"].notna().all()


def write_toy_files(data: Path, folder: Path) -> None:
    """A per-clip CSV at 10 Hz: `a` follows the clip's observer valence, `b` is noise."""
    rng = np.random.default_rng(0)
    for observer in sorted(data.rglob("observer_EWE/results_*.csv")):
        clip = observer.stem.removeprefix("results_")
        ratings = read_observer(observer)
        t = np.arange(0, ratings["time"].iloc[-1], 0.1)
        a = np.interp(t, ratings["time"], ratings["valence"]) + rng.normal(0, 0.1, len(t))
        pd.DataFrame({"time": t, "a": a, "b": rng.normal(size=len(t))}).to_csv(folder / f"{clip}.csv", index=False)


def test_a_source_defined_in_config_alone_is_trained_and_scored(sources_run, tmp_path):
    """No module, no schema entry: a `csv` table named in config only."""
    shutil.copytree(sources_run / "data", tmp_path / "data")
    folder = tmp_path / "toy"
    folder.mkdir()
    write_toy_files(tmp_path / "data", folder)
    config = [
        "extractor.kinds=[toy]",
        "tables.toy.format=csv",
        f"tables.toy.path={folder}/{{clip}}.csv",
        "tables.toy.time_column=time",
        "tables.toy.columns=[a,b]",
        "classifier.names=[framewise]",
    ]
    proc = run_tiny(tmp_path, "--cores", "2", config=config)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = pd.read_csv(tmp_path / "results/metrics/summary.csv")
    assert summary[["extractor", "classifier"]].values.tolist() == [["toy", "framewise"]]
    assert summary["ccc_mean"].iloc[0] > 0.5  # `a` is the valence with a little noise


TOY_FORMAT = '''"""A semicolon-separated toy format: `t;a;b`, times in seconds."""

import numpy as np
import pandas as pd

MODALITY = "visual"
DEFAULT_COLUMNS = ("a", "b")


def read(path, columns, options):
    frame = pd.read_csv(path, sep=";")
    return frame["t"].to_numpy(float), frame[list(columns)].to_numpy(float)
'''


def test_a_table_format_is_one_module_and_its_schema_entry(sources_run, tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "sendflow/sources/formats/semicolons.py").write_text(TOY_FORMAT)
    schema = project / "schemas/config.schema.yaml"
    text = schema.read_text()
    assert text.count("enum: [csv, egemaps, emotient, openface, pyfeat]") == 1
    schema.write_text(
        text.replace(
            "enum: [csv, egemaps, emotient, openface, pyfeat]",
            "enum: [csv, egemaps, emotient, openface, pyfeat, semicolons]",
        )
    )
    shutil.copytree(sources_run / "data", tmp_path / "run/data")
    folder = tmp_path / "semicolons"
    folder.mkdir()
    write_toy_files(tmp_path / "run/data", folder)
    for path in folder.glob("*.csv"):
        pd.read_csv(path).rename(columns={"time": "t"}).to_csv(path, sep=";", index=False)
    config = [
        "extractor.kinds=[semi]",
        "tables.semi.format=semicolons",
        f"tables.semi.path={folder}/{{clip}}.csv",
        "classifier.names=[framewise]",
    ]
    proc = run_tiny(tmp_path / "run", "--cores", "2", config=config, project=project)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = pd.read_csv(tmp_path / "run/results/metrics/summary.csv")
    assert summary["ccc_mean"].iloc[0] > 0.5


def predict(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sendflow.cli", "predict", *map(str, args)], cwd=cwd, capture_output=True, text=True
    )


def test_a_table_bundle_predicts_from_the_files_given_with_table_as_the_workflow_did(sources_run, tmp_path):
    """openface-mstcn-three needs each video's OpenFace CSV: refused without --table, naming it;
    with it, a fold's model reproduces that fold's test predictions (features centred over the
    speaker's clips, as the workflow does)."""
    bundle = "results/model_zoo/openface-mstcn-three"
    manifest = json.loads((sources_run / bundle / "bundle.json").read_text())
    assert manifest["source"]["kind"] == "table" and len(manifest["source"]["table"]["columns"]) == 17
    own = fold_test_speaker_videos(sources_run)
    refused = predict(own["video_path"].iloc[0], "--model", bundle, "--out", tmp_path, cwd=sources_run)
    assert refused.returncode == 2 and "--table openface=PATTERN" in refused.stderr, refused.stderr
    pattern = f"openface={sources_run}/data/demo/openface/{{stem}}.csv"
    args = ["--model", bundle, "--table", pattern, "--fold", 0, "--one-person", "--out", tmp_path]
    proc = predict(*own["video_path"], *args, cwd=sources_run)
    assert proc.returncode == 0, proc.stderr
    predictions = sources_run / "results/classifier/openface/mstcn/three/fold0/predictions.parquet"
    assert_predicted_as_the_workflow(tmp_path, own, predictions)
