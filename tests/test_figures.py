"""Report figures from real (tiny) result files: valid PNGs, the right numbers, no face pixels
when faces are left out, and Grad-CAM that leaves the model as it found it."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer

from sendflow.atomic import write_json
from sendflow.checkpoints import save_torch
from sendflow.extractor.augment import MEAN, STD
from sendflow.extractor.data import preprocess
from sendflow.extractor.train import HISTORY_COLUMNS
from sendflow.figures import comparison, confusion, curves, timelines
from sendflow.figures.attention import attention_figure, plot_attention, sample_frames
from sendflow.figures.comparison import plot_comparison
from sendflow.figures.confusion import normalise_rows, plot_confusion, pooled_confusions
from sendflow.figures.curves import (
    load_classifier_histories,
    load_extractor_histories,
    plot_classifier_curves,
    plot_extractor_curves,
)
from sendflow.figures.gradcam import cam_stage, grad_cam
from sendflow.figures.output import save_figure
from sendflow.figures.timelines import plot_timelines
from sendflow.frames.files import skipped_clip, write_clip
from sendflow.labels import classify
from sendflow.metrics import ccc
from sendflow.models.resnet_attention import attention_gates, build_extractor, load_extractor

SCHEME = {"edges": [-0.15, 0.15], "names": ["negative", "neutral", "positive"]}
SIZE = 32  # crop side: layer4 maps are 1x1 here, so Grad-CAM must fall back to layer3


def assert_png(path, min_side=100):
    """A real PNG that matplotlib reads back as an image of sensible size."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = plt.imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) >= min_side
    assert not [p for p in path.parent.iterdir() if ".tmp-" in p.name]  # no temporary left behind


@pytest.fixture
def drawn(monkeypatch):
    """The Figures the plotting functions hand to save_figure (still saved for real), so a test
    can check what they draw, not only that a PNG decodes."""
    figures = []

    def keep(fig, path, dpi):
        figures.append(fig)
        return save_figure(fig, path, dpi)

    for module in (comparison, confusion, curves, timelines):
        monkeypatch.setattr(module, "save_figure", keep)
    return figures


def line_data(ax) -> list:
    """(x, y) of every line drawn on `ax`, as float arrays."""
    return [(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)) for line in ax.lines]


def predictions(clips=("a_1", "b_1", "c_2"), steps=12, seed=0) -> pd.DataFrame:
    """A random-walk truth with two unrated steps (c_2: none rated, so no CCC), noisy predictions."""
    rng = np.random.default_rng(seed)
    frames = []
    for k, clip in enumerate(clips):
        truth = np.clip(np.cumsum(rng.normal(0, 0.1, steps)), -1, 1)
        truth[slice(None) if clip == "c_2" else slice(3, 5)] = np.nan
        probs = rng.dirichlet(np.ones(3), steps)
        frames.append(
            pd.DataFrame(
                dict(
                    clip_id=clip,
                    speaker=100 + k,
                    step=np.arange(steps),
                    t=0.5 * np.arange(steps),
                    valence_true=truth,
                    valence_pred=0.5 * np.nan_to_num(truth) + rng.normal(0, 0.05, steps),
                    class_true=classify(truth, SCHEME["edges"]),
                    class_pred=probs.argmax(1),
                    **{f"prob_{c}": probs[:, c] for c in range(3)},
                )
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_timelines_one_png_per_clip_and_replace_the_folder(tmp_path, drawn):
    out = tmp_path / "timelines"
    frame = predictions(clips=("a_1", "b_1", "c_2", "d_1"))
    written = plot_timelines(frame, SCHEME, out, dpi=60, context="resattn / mstcn / three, fold 0")
    scores = {c: ccc(g["valence_true"], g["valence_pred"]) for c, g in frame.groupby("clip_id")}
    ranked = sorted((c for c in scores if not np.isnan(scores[c])), key=scores.get, reverse=True)
    expected = [ranked[0], ranked[-1], ranked[1], "c_2"]  # best, worst, the rest; no CCC last
    assert [p.name.split("_ccc")[0][3:] for p in written] == expected
    for clip_id, fig in zip(expected, drawn):  # drawn in the order of the files
        clip = frame[frame["clip_id"] == clip_id]
        ax, strip = fig.axes[:2]
        lines = {line.get_label(): line for line in ax.lines}
        np.testing.assert_array_equal(lines["rated"].get_xdata(), clip["t"])
        np.testing.assert_array_equal(lines["rated"].get_ydata(), clip["valence_true"])  # NaN where unrated
        np.testing.assert_array_equal(lines["predicted"].get_ydata(), clip["valence_pred"])
        dashed = sorted(line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--")
        assert dashed == SCHEME["edges"]  # a line at each class edge
        strip_classes = strip.collections[0].get_array()
        expected_classes = clip[["class_true", "class_pred"]].to_numpy().T
        np.testing.assert_array_equal(strip_classes.filled(-1).reshape(2, -1), expected_classes)
        assert (strip_classes.mask.reshape(2, -1) == (expected_classes < 0)).all()  # unrated drawn grey
        score = "n/a" if np.isnan(scores[clip_id]) else f"{scores[clip_id]:.3f}"
        assert fig._suptitle.get_text().endswith(f"clip {clip_id} · speaker {clip['speaker'].iloc[0]} · CCC {score}")
    assert written[0].name == f"01_{ranked[0]}_ccc{scores[ranked[0]]:+.3f}.png" and written[-1].name.endswith("nan.png")
    for path in written:
        assert_png(path)
    # A rerun replaces the folder as a whole: no stale clip survives, no temporary folder stays.
    plot_timelines(predictions(clips=("z_9",)), SCHEME, out, dpi=60)
    assert [p.name.split("_ccc")[0] for p in out.iterdir()] == ["01_z_9"]
    assert [p.name for p in tmp_path.iterdir()] == ["timelines"]


def test_normalise_rows_by_hand_without_warnings():
    counts = [[2, 2, 0], [0, 0, 0], [1, 0, 3]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty row must not divide by zero
        fractions = normalise_rows(counts)
    np.testing.assert_allclose(fractions, [[0.5, 0.5, 0], [0, 0, 0], [0.25, 0, 0.75]])


def _write_metrics(root, extractor, classifier, labels, fold, confusion):
    path = root / f"classifier/{extractor}/{classifier}/{labels}/fold{fold}/metrics.json"
    write_json(
        dict(
            confusion=confusion,
            scheme=labels,
            classifier=classifier,
            extractor=extractor,
            fold=fold,
            ccc=0.1,
            accuracy=0.5,
        ),
        path,
    )
    return path


def test_confusion_pools_folds_per_model(tmp_path, drawn):
    paths = []
    for extractor in ("resattn", "resnet"):
        for classifier in ("mean", "mstcn"):
            for fold in (0, 1):
                confusion = np.full((3, 3), fold + 1)
                confusion[1] = 0  # class 1 never occurs in the truth
                paths.append(_write_metrics(tmp_path, extractor, classifier, "three", fold, confusion.tolist()))
    pooled = pooled_confusions(paths, "three")
    assert sorted(pooled) == [("resattn", "mean"), ("resattn", "mstcn"), ("resnet", "mean"), ("resnet", "mstcn")]
    np.testing.assert_array_equal(pooled["resnet", "mstcn"], [[3, 3, 3], [0, 0, 0], [3, 3, 3]])
    plot_confusion(pooled, "three", tmp_path / "confusion.png", dpi=60, class_names=SCHEME["names"])
    assert_png(tmp_path / "confusion.png")
    (fig,) = drawn
    panels = [ax for ax in fig.axes if ax.get_images()]  # the colour bar has none
    titles = [f"{e} · {c} (n=18)" for e in ("resattn", "resnet") for c in ("mean", "mstcn")]
    assert [ax.get_title() for ax in panels] == titles
    for ax in panels:  # 3 per cell in the true classes 0 and 2: each row a third; row 1 empty
        np.testing.assert_allclose(ax.get_images()[0].get_array(), [[1 / 3] * 3, [0] * 3, [1 / 3] * 3])
        assert [t.get_text() for t in ax.texts] == ["0.33"] * 6 + ["no samples"]
        assert [t.get_text() for t in ax.get_yticklabels()] == SCHEME["names"]

    other = _write_metrics(tmp_path, "resnet", "mstcn", "nine", 0, np.eye(9, dtype=int).tolist())
    with pytest.raises(ValueError, match="'nine', expected 'three'"):
        pooled_confusions([*paths, other], "three")


def test_training_curves(tmp_path, drawn):
    extractor_paths = []
    for kind in ("resattn", "resnet"):
        for fold in (0, 1):
            folder = tmp_path / f"extractor/{kind}/fold{fold}"
            epochs = np.arange(1, 6)
            curve = np.linspace(1, 0.5, 5) + fold  # a curve per column and fold, to find in the figure
            history = pd.DataFrame({c: curve + j / 10 for j, c in enumerate(HISTORY_COLUMNS)}).assign(epoch=epochs)
            folder.mkdir(parents=True)
            history.to_csv(folder / "history.csv", index=False)
            if fold == 0:  # fold 1 has no summary: its best epoch is unknown, not an error
                write_json(dict(best_epoch=3), folder / "summary.json")
            extractor_paths.append(folder / "history.csv")
    extractors = load_extractor_histories(extractor_paths)
    assert extractors.groupby(["extractor", "scope"]).size().tolist() == [5, 5, 5, 5]
    assert extractors.loc[extractors["scope"] == "fold0", "best_epoch"].eq(3).all()
    assert extractors.loc[extractors["scope"] == "fold1", "best_epoch"].isna().all()

    classifier_paths = []
    for extractor in ("resattn", "resnet"):
        folder = tmp_path / f"classifier/{extractor}/mstcn/three/fold0"
        folder.mkdir(parents=True)
        pd.DataFrame(
            dict(
                epoch=[1, 2, 3],
                train_loss=[3.0, 2.0, 1.5],
                select_f1=[0.2, 0.4, 0.3],
                best_epoch=[1, 2, 2],
                seconds=0.1,
            )
        ).to_csv(folder / "history.csv", index=False)
        classifier_paths.append(folder / "history.csv")
        folder = tmp_path / f"classifier/{extractor}/mean/three/fold0"
        folder.mkdir(parents=True)
        pd.DataFrame(dict(epoch=[0], select_ccc=[0.0])).to_csv(folder / "history.csv", index=False)
        classifier_paths.append(folder / "history.csv")
    classifiers = load_classifier_histories(classifier_paths)
    assert set(classifiers["select_metric"]) == {"f1", "ccc"}
    mstcn = classifiers[classifiers["classifier"] == "mstcn"]
    assert mstcn["select_score"].tolist() == [0.2, 0.4, 0.3] * 2

    plot_extractor_curves(extractors, tmp_path / "extractor.png", dpi=60)
    plot_classifier_curves(classifiers, tmp_path / "classifier.png", dpi=60)
    baselines_only = classifiers[classifiers["classifier"] == "mean"].dropna(axis=1, how="all")
    plot_classifier_curves(baselines_only, tmp_path / "none.png", dpi=60)
    for name in ("extractor.png", "classifier.png"):
        assert_png(tmp_path / name)
    assert_png(tmp_path / "none.png", min_side=60)

    extractor_fig, classifier_fig, _ = drawn
    loss, accuracy = extractor_fig.axes[4:6]  # row 2 (resnet): loss, accuracy, select F1, select CCC
    assert (loss.get_title(), accuracy.get_title()) == ("resnet: loss", "resnet: accuracy")
    for ax, columns in ((loss, ["train_loss", "select_loss"]), (accuracy, ["train_acc", "select_acc"])):
        curves_drawn = [(x.tolist(), y.round(6).tolist()) for x, y in line_data(ax) if len(x) > 1]
        histories = extractors[extractors["extractor"] == "resnet"]
        expected = [
            (run["epoch"].tolist(), run[c].round(6).tolist()) for _, run in histories.groupby("scope") for c in columns
        ]
        assert curves_drawn == expected  # per fold, train and select
        stars = [(x.tolist(), y.tolist()) for x, y in line_data(ax) if len(x) == 1]
        best = histories[(histories["scope"] == "fold0") & (histories["epoch"] == 3)]
        assert stars == [([3.0], best[columns[1]].tolist())]  # fold 0's best epoch, on the select curve only
    select = classifier_fig.axes[1]
    assert select.get_title() == "mstcn, labels three: select f1"
    assert [y.tolist() for x, y in line_data(select)] == [[0.2, 0.4, 0.3], [0.4], [0.2, 0.4, 0.3], [0.4]]


def test_comparison_bars_with_single_fold_and_unknown_metric(tmp_path, drawn):
    rows = [
        dict(
            extractor=e,
            classifier=c,
            labels=s,
            n_folds=1 if s == "nine" else 3,
            ccc_mean=0.1 * i,
            ccc_std=np.nan if s == "nine" else 0.05,
            rmse_mean=0.3,
            rmse_std=0.01,
        )
        for i, (e, c, s) in enumerate(
            (e, c, s) for s in ("three", "nine") for e in ("resattn", "resnet") for c in ("framewise", "mean", "mstcn")
        )
    ]
    summary = pd.DataFrame(rows).drop(index=[4])  # a missing model leaves a gap, not a crash
    summary.to_csv(tmp_path / "summary.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NaN sd (one fold) must not reach matplotlib
        folds = pd.DataFrame([dict(r, fold=k, ccc=r["ccc_mean"] + 0.01 * k) for r in rows for k in range(3)])
        plot_comparison(pd.read_csv(tmp_path / "summary.csv"), "ccc", tmp_path / "ccc.png", dpi=60, folds=folds)
    assert_png(tmp_path / "ccc.png")
    (fig,) = drawn
    order = ["mstcn", "framewise", "mean"]  # CLASSIFIERS order
    table = {(r["labels"], r["extractor"], r["classifier"]): r["ccc_mean"] for r in summary.to_dict("records")}
    for ax, scheme in zip(fig.axes, ("three", "nine")):
        assert ax.get_title() == f"labels {scheme}"
        assert [t.get_text() for t in ax.get_xticklabels()] == order
        bars = [c for c in ax.containers if isinstance(c, BarContainer)]
        assert [c.get_label() for c in bars] == ["resattn", "resnet"]
        for container in bars:
            heights = [bar.get_height() for bar in container]
            wanted = [table.get((scheme, container.get_label(), c), np.nan) for c in order]
            np.testing.assert_allclose(heights, wanted)  # NaN: the missing model's gap
        assert [y.tolist() for _, y in line_data(ax) if len(y) == 2 and y[0] == y[1]] == [[0.0, 0.0]]  # zero line
        points = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections if isinstance(c, PathCollection)])
        np.testing.assert_allclose(sorted(points), sorted(folds.loc[folds["labels"] == scheme, "ccc"]))
    with pytest.raises(ValueError, match="it has ccc, rmse"):
        plot_comparison(summary, "f1@25", tmp_path / "f1.png", dpi=60)


# Attention: a real (untrained) extractor saved as the trainer saves it, and real frame files.

EXTRACTOR_EDGES = [-0.3, 0.3]
CLIPS = {  # clip: (role, detected pattern, skipped)
    "t_1": ("test", "mixed", False),
    "t_2": ("test", "all", False),
    "t_3": ("test", "all", True),
    "r_1": ("train", "all", False),
}


def _save_model(path, kind):
    torch.manual_seed(0)
    model = build_extractor(kind, depth=18, num_classes=3, reduction=16)
    save_torch(
        dict(
            config=model.config,
            edges=EXTRACTOR_EDGES,
            mean=MEAN,
            std=STD,
            image_size=SIZE,
            state_dict=model.state_dict(),
            epoch=1,
        ),
        path,
    )
    return path


@pytest.fixture(scope="module")
def fold_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("attention")
    rng = np.random.default_rng(1)
    rows, frame_paths = [], []
    for clip, (role, detected, skipped) in CLIPS.items():
        path = root / "frames" / f"{clip}.npz"
        if skipped:
            write_clip(skipped_clip("corrupt video", SIZE), path)
        else:
            n = 10
            write_clip(
                dict(
                    frames=rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8),
                    times=np.arange(n) * 0.5,
                    steps=np.arange(n, dtype=np.int32),
                    valence=np.linspace(-0.9, 0.9, n).astype(np.float32),
                    detected=np.arange(n) % 2 == 0 if detected == "mixed" else np.ones(n, bool),
                    skipped=np.bool_(False),
                ),
                path,
            )
        frame_paths.append(path)
        rows.append(dict(fold=0, clip_id=clip, speaker=1, split="Train", role=role))
    return dict(
        folds=pd.DataFrame(rows),
        frames=frame_paths,
        resattn=load_extractor(_save_model(root / "resattn.pt", "resattn")),
        resnet=load_extractor(_save_model(root / "resnet.pt", "resnet")),
    )


def test_sample_frames_deterministic_detected_test_frames_over_classes(fold_files):
    samples = sample_frames(fold_files["folds"], fold_files["frames"], 0, 6, seed=3, edges=EXTRACTOR_EDGES)
    again = sample_frames(fold_files["folds"], fold_files["frames"], 0, 6, seed=3, edges=EXTRACTOR_EDGES)
    assert [(s.clip_id, s.index) for s in samples] == [(s.clip_id, s.index) for s in again]
    assert len(samples) == 6 and {s.clip_id for s in samples} <= {"t_1", "t_2"}  # test, not skipped
    assert all(s.clip_id == "t_2" or s.index % 2 == 0 for s in samples)  # detected faces only
    assert sorted(s.true_class for s in samples) == [0, 0, 1, 1, 2, 2]  # classes taken in turn
    assert all(s.image.shape == (SIZE, SIZE, 3) and s.image.dtype == np.uint8 for s in samples)
    with pytest.raises(ValueError, match="fold 5"):
        sample_frames(fold_files["folds"], fold_files["frames"], 5, 6, seed=3, edges=EXTRACTOR_EDGES)


def test_grad_cam_range_shape_and_no_side_effects(fold_files):
    model = fold_files["resattn"]
    assert cam_stage(model, SIZE) == ("layer3", 2)  # layer4 would be 1x1 on 32 px crops
    assert cam_stage(model, 64) == ("layer4", 2)
    images = preprocess(np.random.default_rng(0).integers(0, 256, (4, SIZE, SIZE, 3), dtype=np.uint8))
    model.train()  # Grad-CAM must run in eval mode, leave BatchNorm alone and restore the mode
    running = [m.running_mean.clone() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with attention_gates(model) as gates:
        cams, predicted = grad_cam(model, images, "layer3")
    assert model.training
    model.eval()
    after = [m.running_mean for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(torch.equal(a, b) for a, b in zip(running, after))
    assert all(p.grad is None for p in model.parameters())
    assert cams.shape == (4, SIZE, SIZE) and cams.min() >= 0 and cams.max() <= 1
    assert all(cam.max() == pytest.approx(1.0) or not cam.any() for cam in cams)
    with torch.no_grad():
        np.testing.assert_array_equal(predicted, model(images)["logits"].argmax(1).numpy())
    assert len(gates) == 8 and gates[0][0] == "backbone.layer1.0.attention" and gates[-1][1].shape == (4, 512)


def _drawn_images(fig):
    return [np.asarray(image.get_array()) for ax in fig.axes for image in ax.get_images()]


@pytest.mark.parametrize("include_faces", [False, True])
def test_attention_figure_shows_faces_only_when_asked(fold_files, include_faces, tmp_path):
    samples = sample_frames(fold_files["folds"], fold_files["frames"], 0, 4, seed=3, edges=EXTRACTOR_EDGES)
    fig = attention_figure(fold_files["resattn"], samples, include_faces, title="resattn, fold 0")
    drawn = _drawn_images(fig)
    crops_drawn = [any(np.array_equal(image, s.image) for image in drawn) for s in samples]
    plt.close(fig)
    # Per sample: the crop, the heatmap and the overlay (crop + heatmap), or the heatmap alone.
    assert len(drawn) == len(samples) * (4 if include_faces else 1)
    assert all(crops_drawn) if include_faces else not any(crops_drawn)
    if not include_faces:
        assert all(image.ndim == 2 for image in drawn)  # heatmaps only: nothing with colour channels
    path = plot_attention(fold_files["resattn"], samples, include_faces, tmp_path / "attention.png", dpi=60)
    assert_png(path)


def test_attention_figure_for_plain_resnet_says_it_has_no_gates(fold_files):
    samples = sample_frames(fold_files["folds"], fold_files["frames"], 0, 2, seed=0, edges=EXTRACTOR_EDGES)
    fig = attention_figure(fold_files["resnet"], samples, include_faces=False)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    plt.close(fig)
    assert "plain ResNet: no channel-attention gates" in texts
