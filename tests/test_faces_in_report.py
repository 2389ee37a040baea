"""SEND's licence forbids sharing faces: a report built on a real dataset (any `data.root` but
the demo) must hold no face crop. The videos here are solid magenta, a colour no plot of the
report uses, so any crop that reaches a figure shows as magenta pixels."""

import base64
import io
import re
import subprocess

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from conftest import run_local, sendflow_command

from sendflow.ffmpeg_bin import ffmpeg_path

pytestmark = pytest.mark.slow  # every test here runs Snakemake for real

MAGENTA = np.array([1.0, 0.0, 1.0])
CONFIG = [
    "cv.mode=official",
    "frames.size=32",
    "extractor.kinds=[resattn]",
    "extractor.epochs=1",
    "extractor.batch_size=16",
    "classifier.names=[mstcn,mean]",
    "classifier.training.epochs=2",
]


def magenta_pixels(png: bytes) -> int:
    image = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]
    return int((np.abs(image - MAGENTA).max(axis=-1) < 0.12).sum())


def embedded_pngs(report_html: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r"iVBORw0KGgo[A-Za-z0-9+/=]+", report_html)]


@pytest.fixture(scope="module")
def magenta_root(tmp_path_factory):
    from conftest import write_observer

    root = tmp_path_factory.mktemp("real") / "SENDv1"
    for split, clip, seconds in [
        ("train", "111_1", 4),
        ("train", "113_1", 4),
        ("valid", "115_1", 4),
        ("test", "112_1", 4),
    ]:
        speaker, number = clip.split("_")
        video = root / f"videos/{split}/ID{speaker}_vid{number}_crop_downsized.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                ffmpeg_path(),
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "color=c=magenta:size=64x48:rate=30000/1001",
                "-t",
                str(seconds),
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                str(video),
            ],
            check=True,
        )
        write_observer(root / f"ratings/{split}/observer_EWE/results_{clip}.csv", 2 * seconds)
    return root


def report(workdir, root, *config):
    """Run the workflow, then build its report; return the report's HTML."""
    for report_args in ([], ["--report", "results/report.html"]):
        cmd = sendflow_command(workdir, "--cores", "2", *report_args, "--config", f"data.root={root}", *CONFIG, *config)
        run = run_local(cmd)
        assert run.returncode == 0, run.stderr[-3000:]
    return (workdir / "results/report.html").read_text()


def test_a_report_on_real_data_holds_no_face(magenta_root, tmp_path):
    pngs = embedded_pngs(report(tmp_path, magenta_root))
    summary = (tmp_path / "results/report_pages/summary.html").read_text()
    assert "Beside the published SENDv1 results" in summary  # official mode
    # cv.mode official: one fold, trained on Train, tested on the Test split (speaker 112 alone)
    scored = tmp_path / "results/classifier/resattn/mstcn/three"
    assert [p.name for p in scored.iterdir()] == ["fold0"]
    assert set(pd.read_parquet(scored / "fold0/predictions.parquet")["clip_id"]) == {"112_1"}
    assert (tmp_path / "results/figures/attention_resattn.png").read_bytes() in pngs
    assert len(pngs) >= 5 and all(magenta_pixels(png) == 0 for png in pngs)
    # The same report with faces switched on does show them: the check above can fail.
    shown = embedded_pngs(report(tmp_path, magenta_root, "report.include_faces=true"))
    assert max(magenta_pixels(png) for png in shown) > 1000
