"""Coders: pretrained face networks run on the frame crops. An ONNX and a TorchScript model that
the test exports itself, run as coders by file; then the workflow with the built-in `fer` and
an ONNX coder side by side, their bundles, and `sendflow predict` on a real video with them."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_predicted_as_the_workflow, fold_test_speaker_videos, run_tiny

from sendflow.sources.coder import crops_to_input, load_coder

MEGAMIND = Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")
INPUT = {"size": 24, "channels": 3, "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]}


class TwoHeads(torch.nn.Module):
    """A small face model with two outputs, as HSEmotion's valence-arousal models have."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
        )
        self.valence, self.emotions = torch.nn.Linear(8, 2), torch.nn.Linear(8, 5)

    def forward(self, x):
        h = self.body(x)
        return self.valence(h), self.emotions(h)


def exported(tmp_path, kind: str) -> Path:
    model, x = TwoHeads().eval(), torch.zeros(2, 3, INPUT["size"], INPUT["size"])
    if kind == "onnx":
        path = tmp_path / "va.onnx"
        torch.onnx.export(
            model,
            (x,),
            path,
            input_names=["crops"],
            output_names=["va", "emotions"],
            dynamic_axes={"crops": {0: "batch"}},
            dynamo=False,
        )
    else:
        path = tmp_path / "va.pt"
        torch.jit.trace(model, x).save(str(path))
    return path


def crops(n=7, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (n, 40, 40, 3), dtype=np.uint8)


@pytest.mark.parametrize("kind, names", [("onnx", ("va", "emotions")), ("torchscript", ("output0", "output1"))])
def test_a_coder_by_file_gives_the_models_own_outputs(tmp_path, kind, names):
    path = exported(tmp_path, kind)
    frames = crops()
    with torch.no_grad():
        valence, emotions = (t.numpy() for t in TwoHeads().eval()(torch.from_numpy(crops_to_input(frames, **INPUT))))
    spec = {"model": str(path), "input": INPUT, "outputs": [names[0]], "batch_size": 3}
    np.testing.assert_allclose(load_coder(spec).encode(frames), valence, atol=1e-5)
    both = load_coder({**spec, "outputs": None}).encode(frames)  # null: every output, in order
    np.testing.assert_allclose(both, np.concatenate([valence, emotions], axis=1), atol=1e-5)
    with pytest.raises(ValueError, match=f"no output 'arousal'; it has {names[0]}, {names[1]}"):
        load_coder({**spec, "outputs": ["arousal"]}).encode(frames)


def test_crops_are_resized_turned_grey_and_normalised():
    frames = np.full((2, 40, 40, 3), (200, 100, 50), np.uint8)
    grey = crops_to_input(frames, size=8, channels=1, mean=0.5, std=0.5)
    assert grey.shape == (2, 1, 8, 8)
    expected = (round(0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255 - 0.5) / 0.5
    np.testing.assert_allclose(grey, expected, atol=1e-6)
    rgb = crops_to_input(frames, **INPUT)
    np.testing.assert_allclose(
        rgb[0, :, 0, 0], (np.array([200, 100, 50]) / 255 - INPUT["mean"]) / INPUT["std"], atol=1e-6
    )


@pytest.fixture(scope="module")
def coder_run(tmp_path_factory):
    """A tiny run of the built-in `fer` coder, an ONNX coder, and `fer` fused with `resattn`'s
    features, MS-TCN on each."""
    workdir = tmp_path_factory.mktemp("coder_run")
    onnx = exported(workdir, "onnx")
    config = [
        "extractor.kinds=[fer,va,both]",
        "fusions.both.of=[fer,resattn]",
        "coders.va.model=" + str(onnx),
        *(f"coders.va.input.{key}={json.dumps(value)}" for key, value in INPUT.items()),
        "coders.va.outputs=[va]",
        "classifier.names=[mstcn]",
    ]
    proc = run_tiny(workdir, "--cores", "2", config=config)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir


@pytest.mark.slow  # runs Snakemake for real
def test_coders_are_trained_on_scored_and_bundled_with_their_weights(coder_run):
    results = coder_run / "results"
    summary = pd.read_csv(results / "metrics/summary.csv")
    assert set(summary["extractor"]) == {"fer", "va", "both"} and summary["ccc_mean"].notna().all()
    steps = pd.read_parquet(results / "features/fer/steps.parquet")
    assert steps["feature"].iloc[0].shape == (7,)  # the 7 emotion logits
    for name, coder_file in (("fer", "coder.hdf5"), ("va", "coder.onnx")):
        bundle = results / f"model_zoo/{name}-mstcn-three"
        manifest = json.loads((bundle / "bundle.json").read_text())
        assert manifest["source"]["kind"] == "coder" and coder_file in manifest["files"]
        assert [m["coder"] for m in manifest["members"]] == [coder_file, coder_file]  # one copy for all folds
        assert all(len(m["standardise"]["mean"]) == manifest["feature_dim"] for m in manifest["members"])
    card = (results / "model_zoo/fer-mstcn-three/README.md").read_text()
    assert "mini-Xception" in card and "MIT" in card


@pytest.mark.slow
def test_predict_with_the_fer_bundle_on_a_real_video(coder_run, tmp_path):
    if not MEGAMIND.exists():
        pytest.skip(f"{MEGAMIND} is missing (tests/tools_install.sh installs it)")
    proc = subprocess.run(
        [sys.executable, "-m", "sendflow.cli", "predict", str(MEGAMIND), "--model", "results/model_zoo/fer-mstcn-three"]
        + ["--out", str(tmp_path)],
        cwd=coder_run,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(tmp_path / "Megamind.csv")
    assert len(table) == 23 and table["valence"].between(-1, 1).all()
    assert (tmp_path / "Megamind.png").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("source", ["fer", "both"])
def test_a_coder_or_fusion_bundle_reproduces_the_workflows_test_predictions(coder_run, tmp_path, source):
    """Fold 0's model of the bundle, on the videos of a fold-0 test speaker centred together as
    the workflow centres them: the same valence per step. `both` fuses fer (the base) with
    resattn's features cut to principal components, which the bundle keeps per fold."""
    bundle = coder_run / f"results/model_zoo/{source}-mstcn-three"
    manifest = json.loads((bundle / "bundle.json").read_text())
    if source == "both":
        parts = manifest["members"][0]["parts"]
        assert [p["name"] for p in parts] == ["fer", "resattn"] and "components" in parts[1]["transform"]
        assert "fer-coder.hdf5" in manifest["files"] and "fold0/resattn-extractor.pt" in manifest["files"]
    own = fold_test_speaker_videos(coder_run)
    proc = subprocess.run(
        [sys.executable, "-m", "sendflow.cli", "predict", *own["video_path"], "--model", str(bundle)]
        + ["--fold", "0", "--one-person", "--out", str(tmp_path), "--device", "cpu"],
        cwd=coder_run,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    predictions = coder_run / f"results/classifier/{source}/mstcn/three/fold0/predictions.parquet"
    assert_predicted_as_the_workflow(tmp_path, own, predictions)
