"""Trained models kept and applied to new videos: model files, model zoo bundles and
`sendflow predict`, on the tiny run's real outputs and real videos."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import PROJECT, make_mp4, make_phone_copy, run_tiny

from sendflow.atomic import file_sha256
from sendflow.ffmpeg_bin import ffmpeg_path, probe_duration
from sendflow.zoo.bundle import read_manifest

BUNDLE = "results/model_zoo/resattn-mstcn-three"
DOC = PROJECT / "docs/reliability.md"  # its second table quotes each message below
# Debian's opencv-doc ships this face video; .ci/run installs it.
MEGAMIND = Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")


def predict(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sendflow.cli", "predict", *map(str, args)], cwd=cwd, capture_output=True, text=True
    )


def test_every_classifier_job_keeps_a_safely_loadable_model(tiny_run):
    extractor = torch.load(tiny_run / "results/extractor/resattn/fold0/model.pt", weights_only=True)["config"]
    feature_dim = 8 * extractor["width"]  # ResNet's last stage: 8 times the first's channels
    for name, kind in (("mstcn", "model.pt"), ("framewise", "model.npz"), ("mean", "model.npz")):
        for fold in (0, 1):
            path = tiny_run / f"results/classifier/resattn/{name}/three/fold{fold}/{kind}"
            if kind == "model.pt":
                saved = torch.load(path, weights_only=True)
                mean, std = saved["mean"], saved["std"]
            else:  # the baselines' arrays and a JSON header; nothing pickled
                with np.load(path, allow_pickle=False) as arrays:
                    saved, mean, std = json.loads(str(arrays["header"])), arrays["mean"], arrays["std"]
            assert saved["settings"]["name"] == name and saved["about"]["fold"] == fold
            assert mean.shape == std.shape == (feature_dim,)
            assert set(saved["about"]["clips"]) == {"train", "select", "test"}


def test_a_bundle_describes_itself(tiny_run):
    bundle = tiny_run / BUNDLE
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert [m["fold"] for m in manifest["members"]] == [0, 1]
    assert manifest["frames"]["fps"] == 2 and manifest["frames"]["size"] == 32
    assert manifest["labels"]["names"] == ["negative", "neutral", "positive"]
    folds = [
        json.loads((tiny_run / f"results/classifier/resattn/mstcn/three/fold{k}/metrics.json").read_text())["ccc"]
        for k in (0, 1)
    ]
    assert manifest["metrics"]["ccc"]["per_fold"] == pytest.approx(folds)
    card = (bundle / "README.md").read_text()
    assert f"{np.mean(folds):.3f}" in card and "licence" in card.lower()


def bundle_arguments(tiny_run, out) -> list:
    """write_bundle's arguments (as JSON values) for the tiny run's resattn-mstcn-three bundle,
    written to `out`, from the training jobs' outputs as model_zoo.py gathers them."""
    manifest = json.loads((tiny_run / BUNDLE / "bundle.json").read_text())
    members, metrics = [], []
    for fold in (0, 1):
        trained = tiny_run / f"results/classifier/resattn/mstcn/three/fold{fold}"
        extractor = tiny_run / f"results/extractor/resattn/fold{fold}"
        metrics.append(json.loads((trained / "metrics.json").read_text()))
        sha256 = {
            "classifier": metrics[-1]["model_sha256"],
            "extractor": json.loads((extractor / "summary.json").read_text())["model_sha256"],
        }
        members.append(
            {"fold": fold, "extractor": f"{extractor}/model.pt", "classifier": f"{trained}/model.pt", "sha256": sha256}
        )
    own = {"format", "format_version", "name", "sendflow_version", "created", "task", "feature_dim", "members", "files"}
    description = {key: value for key, value in manifest.items() if key not in own}
    return [str(out), "copy", members, description, metrics[0]["task"], metrics[0]["feature_dim"]]


def test_a_bundle_is_written_without_torch_and_states_its_models_task_and_feature_size(tiny_run, tmp_path):
    """write_bundle never loads torch (2 s of import per bundle job; model_zoo's own imports are
    checked in test_dependencies.py): the task and feature size come from the training jobs'
    metrics.json."""
    manifest = json.loads((tiny_run / BUNDLE / "bundle.json").read_text())
    saved = torch.load(tiny_run / "results/classifier/resattn/mstcn/three/fold0/model.pt", weights_only=True)
    assert manifest["task"] == saved["settings"]["task"] and manifest["feature_dim"] == len(saved["mean"])
    arguments = bundle_arguments(tiny_run, tmp_path / "bundle")
    script = (
        "import json, sys\n"
        "from sendflow.zoo import write_bundle\n"
        "written = write_bundle(*json.loads(sys.argv[1]))\n"
        "print(json.dumps([written['task'], written['feature_dim'], 'torch' in sys.modules]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(arguments)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == [manifest["task"], manifest["feature_dim"], False]


def test_a_bundle_write_killed_part_way_leaves_no_partial_bundle_and_the_next_writes_it_whole(tiny_run, tmp_path):
    """`kill -9` during model_zoo (docs/reliability.md): the bundle folder is written whole or
    not at all, an old bundle stays until a new one is complete, and the next attempt clears
    the killed one's temporary and writes the bundle again. The kill lands after the model
    files and bundle.json are written, before the model card."""
    out = tmp_path / "bundle"
    killed_before_the_card = (
        "import json, os, signal, sys\n"
        "import sendflow.zoo.bundle as bundle\n"
        "bundle.model_card = lambda manifest: os.kill(os.getpid(), signal.SIGKILL)\n"
        "bundle.write_bundle(*json.loads(sys.argv[1]))\n"
    )
    whole = "import json, sys\nfrom sendflow.zoo import write_bundle\nwrite_bundle(*json.loads(sys.argv[1]))\n"

    def job(code):
        arguments = json.dumps(bundle_arguments(tiny_run, out))
        return subprocess.run([sys.executable, "-c", code, arguments], capture_output=True, text=True)

    assert job(killed_before_the_card).returncode == -signal.SIGKILL
    [left] = tmp_path.glob(".bundle.tmp-*")  # the killed job's temporary folder, its models in it
    assert not out.exists() and (left / "fold1/classifier.pt").exists() and (left / "bundle.json").exists()
    assert job(whole).returncode == 0
    assert not list(tmp_path.glob(".bundle.tmp-*"))
    manifest = read_manifest(out)  # every checksum holds
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "bundle.json", "bundle.sha256", "fold0", "fold1"]
    assert job(killed_before_the_card).returncode == -signal.SIGKILL  # while replacing a whole bundle
    assert read_manifest(out) == manifest and (out / "README.md").exists()


def test_predict_reproduces_the_workflow_test_predictions(tiny_run, tmp_path):
    folds = pd.read_parquet(tiny_run / "results/index/folds.parquet")
    clips = pd.read_parquet(tiny_run / "results/index/clips.parquet").set_index("clip_id")
    test = folds[(folds["fold"] == 0) & (folds["role"] == "test")]
    speaker = test["speaker"].iloc[0]
    own = clips[(clips["speaker"] == speaker) & clips["has_video"]]
    # The workflow centres features over each test speaker's clips: give predict all of them.
    proc = predict(
        *own["video_path"],
        "--model",
        BUNDLE,
        "--fold",
        0,
        "--one-person",
        "--out",
        tmp_path,
        "--device",
        "cpu",
        cwd=tiny_run,
    )
    assert proc.returncode == 0, proc.stderr
    workflow = pd.read_parquet(tiny_run / "results/classifier/resattn/mstcn/three/fold0/predictions.parquet")
    for clip_id, row in own.iterrows():
        ours = pd.read_csv(tmp_path / f"{Path(row['video_path']).stem}.csv")
        theirs = workflow[workflow["clip_id"] == clip_id].sort_values("step")
        np.testing.assert_allclose(ours["t"], theirs["t"])
        np.testing.assert_allclose(ours["valence"], theirs["valence_pred"], atol=1e-4)
        probs = ours[["prob_negative", "prob_neutral", "prob_positive"]].to_numpy()
        np.testing.assert_allclose(probs, theirs[["prob_0", "prob_1", "prob_2"]], atol=1e-4)
        assert (ours["class"] == np.array(["negative", "neutral", "positive"])[theirs["class_pred"]]).all()


def test_a_phone_video_shot_upright_is_predicted_as_the_upright_original(tiny_run, tmp_path):
    """The same clip stored sideways with a display-rotation tag, as phones write it: the same
    predictions (its faces were once squeezed 1.8x; in the issue's probe valence moved up to 0.58)."""
    clips = pd.read_parquet(tiny_run / "results/index/clips.parquet")
    original = tiny_run / clips.loc[clips["has_video"], "video_path"].iloc[0]
    phone = make_phone_copy(original, tmp_path / "phone.mp4", 90)
    proc = predict(original, phone, "--model", BUNDLE, "--fold", 0, "--out", tmp_path / "out", cwd=tiny_run)
    assert proc.returncode == 0, proc.stderr
    ours, theirs = (pd.read_csv(tmp_path / "out" / f"{name}.csv") for name in ("phone", original.stem))
    np.testing.assert_allclose(ours["t"], theirs["t"])
    # Its crops are the original's (tests/test_rotation.py), here exactly: so are its predictions. The
    # tiny run's models barely respond to faces, so squeezed ones moved its valence by only 0.009.
    np.testing.assert_allclose(ours["valence"], theirs["valence"], atol=1e-4)
    np.testing.assert_allclose(ours.filter(like="prob_"), theirs.filter(like="prob_"), atol=1e-4)
    assert (ours["face_found"] == theirs["face_found"]).all()


def _assert_png(path: Path):
    assert matplotlib.image.imread(path).shape[0] > 100  # decodes as an image


def test_predict_on_a_real_video_this_project_did_not_make(tiny_run, tmp_path):
    if not MEGAMIND.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MEGAMIND} is missing: .ci/run installs Debian's opencv-doc")
        pytest.skip(f"{MEGAMIND} not installed (apt-get install opencv-doc)")
    proc = predict(MEGAMIND, "--model", BUNDLE, "--out", tmp_path, cwd=tiny_run)  # both folds
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "Megamind.csv")
    assert len(table) == int(np.ceil(probe_duration(MEGAMIND) * 2))  # a row per 0.5 s step
    np.testing.assert_allclose(np.diff(table["t"]), 0.5)
    assert table["valence"].between(-1, 1).all() and table["face_found"].mean() > 0.5
    np.testing.assert_allclose(table.filter(like="prob_").sum(axis=1), 1, atol=1e-5)
    _assert_png(tmp_path / "Megamind.png")


def test_a_bad_file_fails_alone_and_a_faceless_video_warns(tiny_run, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(os.urandom(4096))
    faceless = make_mp4(tmp_path / "pattern.mp4", 3, size="160x120")  # a test pattern: no face
    out = tmp_path / "out"
    proc = predict(broken, faceless, "--model", BUNDLE, "--out", out, cwd=tiny_run)
    assert proc.returncode == 1
    assert f"{broken}:" in proc.stderr and "1 of 2 videos failed" in proc.stderr
    assert "no face found" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["pattern.csv", "pattern.png"]
    table = pd.read_csv(out / "pattern.csv")
    assert len(table) == 6 and not table["face_found"].any()


def test_a_tampered_or_foreign_bundle_is_refused(tiny_run, tmp_path):
    video = tmp_path / "v.mp4"
    make_mp4(video, 1)

    def refused(bundle, *needles):
        proc = predict(video, "--model", bundle, "--out", tmp_path / "out", cwd=tiny_run)
        assert proc.returncode == 2 and not (tmp_path / "out").exists()
        for needle in needles:
            assert needle in proc.stderr, proc.stderr

    tampered = tmp_path / "tampered"
    shutil.copytree(tiny_run / BUNDLE, tampered)
    weights = tampered / "fold1/classifier.pt"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    refused(tampered, str(weights), "sha256")

    newer = tmp_path / "newer"
    shutil.copytree(tiny_run / BUNDLE, newer)
    manifest = json.loads((newer / "bundle.json").read_text())
    (newer / "bundle.json").write_text(json.dumps({**manifest, "format_version": 99}))
    refused(newer, "format version 99", "reads version 3")

    older = tmp_path / "older"  # format 1: no bundle.sha256
    shutil.copytree(tiny_run / BUNDLE, older)
    (older / "bundle.json").write_text(json.dumps({**manifest, "format_version": 1}))
    (older / "bundle.sha256").unlink()
    refused(older, "format version 1", "reads version 3; rebuild the bundle: delete its folder and rerun the workflow")

    refused(tiny_run / "results/classifier", "not a sendflow model bundle")
    refused(tmp_path / "nowhere", f"{tmp_path / 'nowhere'}: no such folder")


def predict_here(*args, capsys) -> tuple[int, str]:
    """`sendflow predict` called in this process (no interpreter and torch import per call):
    its exit status and what it printed to stderr."""
    from sendflow.predict import build_parser, run

    try:
        status = run(build_parser().parse_args([str(a) for a in args]))
    except SystemExit as exit:  # argparse's refusal
        status = exit.code
    return status, capsys.readouterr().err


def documented(message: str, **placeholders) -> None:
    """docs/reliability.md quotes `message`, its paths written as <placeholder>s."""
    for name, path in placeholders.items():
        message = message.replace(str(path), f"<{name}>")
    assert f"`{message}`" in DOC.read_text(), f"docs/reliability.md should quote `{message}`"


def rewrite_manifest(bundle: Path, edit) -> None:
    """`edit` bundle.json's dict in place and write it back, as a hand edit would."""
    manifest = json.loads((bundle / "bundle.json").read_text())
    edit(manifest)
    (bundle / "bundle.json").write_text(json.dumps(manifest, indent=2))


def reseal(bundle: Path) -> None:
    """Rewrite bundle.sha256 for the current bundle.json, as a forger would, so that the checks
    after it are reached."""
    (bundle / "bundle.sha256").write_text(f"{file_sha256(bundle / 'bundle.json')}  bundle.json\n")


def test_an_edited_bundle_json_is_refused(tiny_run, tmp_path, capsys):
    """bundle.json's class names, label edges and frame settings decide what predict writes; a
    hand edit (here: classes reordered, so prob_positive would hold the negative probability;
    the margin of the face crops) is caught by bundle.sha256."""
    video = make_mp4(tmp_path / "v.mp4", 1)
    recorded = (tiny_run / BUNDLE / "bundle.sha256").read_text()
    assert recorded == f"{file_sha256(tiny_run / BUNDLE / 'bundle.json')}  bundle.json\n"  # sha256sum -c form
    edits = {
        "classes reordered": lambda m: m["labels"]["names"].reverse(),
        "frames.margin changed": lambda m: m["frames"].update(margin=m["frames"]["margin"] + 0.1),
    }
    for name, edit in edits.items():
        bundle = tmp_path / name.replace(" ", "_")
        shutil.copytree(tiny_run / BUNDLE, bundle)
        rewrite_manifest(bundle, edit)
        status, stderr = predict_here(video, "--model", bundle, "--out", tmp_path / "out", capsys=capsys)
        assert status == 2 and not (tmp_path / "out").exists(), stderr
        message = stderr.strip().splitlines()[-1].removeprefix("error: ")
        assert message.startswith(f"{bundle / 'bundle.json'}: changed after the bundle was written"), stderr
        documented(message, bundle=bundle)


class Forged:
    """A Python object in a model file: unpickling it would import and run its class's code."""


def test_a_model_file_of_pickled_objects_is_refused_by_name(tiny_run, tmp_path, capsys):
    """A classifier.pt holding Python objects, its checksums updated as a forger would: nothing
    is unpickled, and the message names the file instead of torch's advice to retry unsafely."""
    bundle = tmp_path / "pickled"
    shutil.copytree(tiny_run / BUNDLE, bundle)
    forged = bundle / "fold0/classifier.pt"
    torch.save({"mean": torch.zeros(3), "hook": Forged()}, forged)
    rewrite_manifest(bundle, lambda m: m["files"].update({"fold0/classifier.pt": file_sha256(forged)}))
    reseal(bundle)
    video = make_mp4(tmp_path / "v.mp4", 1)
    status, stderr = predict_here(video, "--model", bundle, "--out", tmp_path / "out", capsys=capsys)
    assert status == 2 and not (tmp_path / "out").exists(), stderr
    message = stderr.strip().splitlines()[-1].removeprefix("error: ")
    assert message == (
        f"{forged}: not a plain tensor file; refusing to unpickle it (it holds {Forged.__module__}.Forged, which a "
        "model file never holds)"
    ), stderr
    assert "weights_only=False" not in stderr
    documented(message, bundle=bundle)


def _truncate_features(bundle: Path) -> Path:
    """fold0's classifier cut to read one feature fewer (its normalisation and first layer), its
    checksums updated: a file that loads, made for another extractor's feature size."""
    classifier = bundle / "fold0/classifier.pt"
    saved = torch.load(classifier, weights_only=True)
    size = len(saved["mean"])
    saved["mean"], saved["std"] = saved["mean"][:-1], saved["std"][:-1]
    first = [key for key, w in saved["state_dict"].items() if key.endswith("conv_in.weight") and w.shape[1] == size]
    assert first, "the first layer of the temporal model reads the features"
    for key in first:
        saved["state_dict"][key] = saved["state_dict"][key][:, :-1].clone()
    torch.save(saved, classifier)
    rewrite_manifest(bundle, lambda m: m["files"].update({"fold0/classifier.pt": file_sha256(classifier)}))
    reseal(bundle)
    return classifier


def _missing_model(b):
    (b / "fold1/extractor.pt").unlink()
    return f"{b / 'fold1/extractor.pt'}: missing from the bundle"


def _missing_seal(b):
    (b / "bundle.sha256").unlink()
    return f"{b / 'bundle.sha256'}: missing from the bundle; rebuild the bundle"


def _invalid_json(b):
    text = (b / "bundle.json").read_text()
    (b / "bundle.json").write_text(text[: len(text) // 2])
    return f"{b / 'bundle.json'}: not valid JSON ("


def _foreign_format(b):
    rewrite_manifest(b, lambda m: m.update(format="someone-elses-bundle"))
    reseal(b)
    return f"{b / 'bundle.json'}: format 'someone-elses-bundle' is not 'sendflow-model-bundle'"


def _other_folds_extractor(b):
    rewrite_manifest(b, lambda m: m["members"][0].update(extractor="fold1/extractor.pt"))
    reseal(b)
    return f"{b / 'fold0/classifier.pt'}: trained on features of another extractor than fold1/extractor.pt"


def _feature_size(b):
    size = torch.load(b / "fold0/classifier.pt", weights_only=True)["mean"].shape[0]
    classifier = _truncate_features(b)
    return (
        f"{classifier}: reads {size - 1} features per step, but fold 0's extractor fold0/extractor.pt "
        f"gives {size}; rebuild the bundle"
    )


@pytest.mark.parametrize(
    "breaks", [_missing_model, _missing_seal, _invalid_json, _foreign_format, _other_folds_extractor, _feature_size]
)
def test_a_broken_bundle_is_refused_naming_the_file_and_the_problem(tiny_run, tmp_path, capsys, breaks):
    """Each way a copied bundle can be incomplete, damaged or mismatched is refused before any
    video is read, with a message naming the file at fault and what is wrong with it."""
    video = make_mp4(tmp_path / "v.mp4", 1)
    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_run / BUNDLE, bundle)
    expected = breaks(bundle)
    status, stderr = predict_here(video, "--model", bundle, "--out", tmp_path / "out", capsys=capsys)
    assert status == 2 and not (tmp_path / "out").exists(), stderr
    assert stderr.strip().splitlines()[-1].startswith(f"error: {expected}"), stderr


def test_a_bundle_copied_anywhere_predicts_as_in_place(tiny_run, tmp_path):
    """A bundle is self-contained: copied to another folder and used from another working
    directory (where neither the run's results/ nor its data exist), it writes the same CSV."""
    clips = pd.read_parquet(tiny_run / "results/index/clips.parquet")
    video = tiny_run / clips.loc[clips["has_video"], "video_path"].iloc[0]
    elsewhere, workdir = tmp_path / "copies/my bundle", tmp_path / "somewhere else"
    shutil.copytree(tiny_run / BUNDLE, elsewhere)
    workdir.mkdir()
    in_place = predict(video, "--model", BUNDLE, "--out", tmp_path / "in_place", cwd=tiny_run)
    assert in_place.returncode == 0, in_place.stderr
    copied = predict(video, "--model", os.path.relpath(elsewhere, workdir), "--out", "out", cwd=workdir)
    assert copied.returncode == 0, copied.stderr
    ours = (workdir / "out" / f"{video.stem}.csv").read_text()
    assert ours == (tmp_path / "in_place" / f"{video.stem}.csv").read_text()
    table = pd.read_csv(workdir / "out" / f"{video.stem}.csv")
    assert len(table) > 1 and table["valence"].between(-1, 1).all()


def test_a_still_image_given_as_a_video_is_named(tiny_run, tmp_path):
    out = tmp_path / "out"
    stills = []
    for name in ("photo.png", "photo_named.mp4"):  # a JPEG with a video's name: ffmpeg reads the bytes
        stills.append(tmp_path / name)
        encode = ["-c:v", "mjpeg", "-f", "image2"] if name.endswith(".mp4") else []
        subprocess.run(
            [ffmpeg_path(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120", "-frames:v", "1"]
            + [*encode, str(stills[-1])],
            check=True,
        )
    proc = predict(*stills, "--model", BUNDLE, "--out", out, cwd=tiny_run)  # its progress bar needs a real stderr
    status, stderr = proc.returncode, proc.stderr
    assert status == 1, stderr
    png = next(line for line in stderr.splitlines() if line.startswith(f"error: {stills[0]}:"))
    assert png == f"error: {stills[0]}: a still image (png_pipe), not a video: it has a single frame"
    assert f"error: {stills[1]}: a still image (jpeg_pipe), not a video" in stderr
    assert not out.exists() or not list(out.iterdir())
    documented(png.removeprefix("error: "), video=stills[0])


def test_a_bad_command_line_is_refused_before_the_bundle_or_any_video_is_read(tmp_path, capsys, monkeypatch):
    """--device, --batch-size and --out are checked first (the bundle here does not even exist):
    before, a missing CUDA or a file as --out surfaced as a traceback, the latter after all the
    decoding."""
    a_file = tmp_path / "taken.csv"
    a_file.write_text("not a folder\n")
    video, bundle = make_mp4(tmp_path / "v.mp4", 1), tmp_path / "nowhere"
    no_cuda = "--device cuda: this machine has no CUDA device that torch can use; use cpu or auto"
    cases = {
        ("--batch-size", "0"): "sendflow predict: error: argument --batch-size: '0' is not a positive whole number",
        ("--batch-size", "-1"): "argument --batch-size: '-1' is not a positive whole number",
        ("--out", a_file): f"--out {a_file}: {a_file} is a file, not a folder",
        ("--out", a_file / "sub"): f"--out {a_file / 'sub'}: {a_file} is a file, not a folder",
        ("--device", "cuda:99"): "--device cuda:99: this machine has ",
        **({} if torch.cuda.is_available() else {("--device", "cuda"): no_cuda}),
    }
    monkeypatch.chdir(tmp_path)  # the default --out, ./predictions, must not appear
    for option, message in cases.items():
        status, stderr = predict_here(video, "--model", bundle, *option, capsys=capsys)
        assert status == 2 and message in stderr, stderr
    assert a_file.read_text() == "not a folder\n" and not (tmp_path / "predictions").exists()
    for message in (cases[("--batch-size", "0")], cases[("--out", a_file)], no_cuda):
        documented(message, file=a_file)


def test_bundle_files_are_copies_and_an_edited_training_output_is_refused(tiny_run, tmp_path_factory, tiny_project):
    """Editing a bundle file must not reach the training output (no hard links), and a training
    output edited after its job recorded its sha256 is refused by model_zoo, not re-blessed."""
    trained = tiny_run / "results/classifier/resattn/mstcn/three/fold1/model.pt"
    for role, source in (("classifier", trained), ("extractor", tiny_run / "results/extractor/resattn/fold1/model.pt")):
        copy = tiny_run / BUNDLE / f"fold1/{role}.pt"
        assert copy.read_bytes() == source.read_bytes() and not os.path.samefile(copy, source)
    assert (
        json.loads((trained.parent / "metrics.json").read_text())["model_sha256"]
        == hashlib.sha256(trained.read_bytes()).hexdigest()
    )

    # a copy beside the run (same depth: the code inputs' relative paths stay the same, so only
    # what the edit invalidates reruns)
    run = tmp_path_factory.mktemp("copied_run")
    shutil.copytree(tiny_run, run, symlinks=True, dirs_exist_ok=True)
    edited = run / trained.relative_to(tiny_run)
    data = bytearray(edited.read_bytes())
    data[-100] ^= 0xFF
    edited.write_bytes(bytes(data))
    proc = run_tiny(run, "--cores", "1", BUNDLE, project=tiny_project)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert f"{edited.relative_to(run)}: its sha256 is not the one its training job recorded" in proc.stderr
    assert not (run / BUNDLE).exists() or json.loads((run / BUNDLE / "bundle.json").read_text()) == json.loads(
        (tiny_run / BUNDLE / "bundle.json").read_text()
    )


def test_predict_help_documents_every_option():
    from sendflow.predict import build_parser

    proc = subprocess.run([sys.executable, "-m", "sendflow.cli", "predict", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    actions = [a for a in build_parser()._actions if a.option_strings and a.dest != "help"]
    assert {"--model", "--out", "--device", "--fold", "--one-person", "--batch-size"} <= {
        a.option_strings[0] for a in actions
    }
    for action in actions:
        assert action.option_strings[0] in proc.stdout and action.help
    assert "VIDEO" in proc.stdout and "Exit status" in proc.stdout
