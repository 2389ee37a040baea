"""The forest plot of paired comparisons: a real PNG, rows in report order with the right numbers,
a height that grows with the rows, and a valid PNG for an empty table."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sendflow.figures.effects import effects_figure, plot_effects
from sendflow.report.questions import QUESTIONS

COLUMNS = [
    "question",
    "factor",
    "candidate",
    "reference",
    "metric",
    "extractor",
    "classifier",
    "labels",
    "mean_diff",
    "ci_low",
    "ci_high",
    "n_speakers",
    "verdict",
]
NAN = np.nan
ROWS = [  # deliberately not in QUESTIONS order
    ("temporal", "classifier", "mstcn", "framewise", "ccc", "resattn", NAN, "three", 0.04, 0.01, 0.07, 6, "better"),
    (
        "attention",
        "extractor",
        "resattn",
        "resnet",
        "ccc",
        NAN,
        "mstcn",
        "three",
        -0.02,
        -0.05,
        0.01,
        6,
        "the data cannot tell",
    ),
    ("temporal", "classifier", "mstcn", "bigru", "ccc", "resattn", NAN, "three", -0.03, -0.06, -0.01, 6, "worse"),
    ("labels", "labels", "nine", "three", "rmse", "resattn", "mstcn", NAN, -0.05, -0.09, -0.02, 6, "better"),
    (
        "attention",
        "extractor",
        "resattn",
        "resnet",
        "ccc",
        NAN,
        "framewise",
        "three",
        0.01,
        NAN,
        NAN,
        1,
        "the data cannot tell",
    ),
]
TITLE = {key: title for key, *_, title in QUESTIONS}


def table(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def png_shape(path) -> tuple:
    """(height, width) of a real PNG that matplotlib reads back; no temporary left behind."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = plt.imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) >= 60
    assert not [p for p in path.parent.iterdir() if ".tmp-" in p.name]
    return image.shape[:2]


def test_rows_points_and_intervals_in_report_order():
    fig = effects_figure(table())
    ax = fig.axes[0]
    ticks = ax.get_yticklabels()
    expected = [
        TITLE["attention"],
        "resattn vs resnet (mstcn, three; ccc)",
        "resattn vs resnet (framewise, three; ccc)",
        TITLE["temporal"],
        "mstcn vs framewise (resattn, three; ccc)",
        "mstcn vs bigru (resattn, three; ccc)",
        TITLE["labels"],
        "nine vs three (resattn, mstcn; rmse)",
    ]
    assert [t.get_text() for t in ticks] == expected
    headings = {0, 3, 6}
    assert {i for i, t in enumerate(ticks) if t.get_fontweight() == "bold"} == headings
    rows = [4, 1, 5, 7, 2]  # the y of each input row: QUESTIONS order, then input order
    points = {}  # y -> (x, verdict's legend label)
    for line in ax.lines:
        if line.get_marker() == "o":
            points.update({y: (x, line.get_label()) for x, y in zip(line.get_xdata(), line.get_ydata())})
    assert sorted(points) == sorted(rows)  # a point per comparison, none on a heading
    assert [points[y][0] for y in rows] == pytest.approx(table()["mean_diff"].tolist())
    assert [points[y][1] for y in rows] == ["better", "cannot tell", "worse", "better", "cannot tell"]
    segments = {s[0][1]: (s[0][0], s[1][0]) for c in ax.collections for s in c.get_segments()}
    assert sorted(segments) == [1, 4, 5, 7]  # the NaN interval (y 2) draws the point only
    for y, (_, _, _, _, _, _, _, _, _, low, high, _, _) in zip(rows, ROWS):
        if y in segments:
            assert segments[y] == pytest.approx((low, high))
    assert ax.get_ylim() == (len(expected) - 0.5, -0.5)  # first row on top
    vertical = [line.get_xdata() for line in ax.lines if line.get_marker() != "o"]
    assert [list(x) for x in vertical] == [[0, 0]]  # the line of no difference, at x = 0
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["better", "worse", "cannot tell"]
    assert "ccc / rmse (candidate − reference)" in ax.get_xlabel()
    plt.close(fig)


def test_png_and_height_grows_with_rows_labels_never_overlap(tmp_path):
    one_metric = [r for r in ROWS if r[4] == "ccc"][:3]
    few = plot_effects(table(one_metric), tmp_path / "few.png", dpi=50)
    (h_few, w_few), many = png_shape(few), table(one_metric * 20)
    h_many, w_many = png_shape(plot_effects(many, tmp_path / "many.png", dpi=50))
    assert w_many == w_few and h_many > 3 * h_few
    fig = effects_figure(table(one_metric * 20))
    assert fig.axes[0].get_xlabel() == "difference in ccc (candidate − reference)\nmean over test speakers, 95% CI"
    assert fig.axes[0].get_yticklabels()[1].get_text() == "resattn vs resnet (mstcn, three)"
    fig.canvas.draw()
    boxes = sorted((t.get_window_extent() for t in fig.axes[0].get_yticklabels()), key=lambda b: -b.y1)
    assert len(boxes) == 62 and all(upper.y0 >= lower.y1 for upper, lower in zip(boxes, boxes[1:]))
    plt.close(fig)


def test_empty_table_still_writes_a_png(tmp_path):
    fig = effects_figure(pd.DataFrame(columns=COLUMNS))
    assert [t.get_text() for t in fig.texts] == ["no comparison applies"]
    plt.close(fig)
    assert png_shape(plot_effects(pd.DataFrame(columns=COLUMNS), tmp_path / "effects.png", dpi=100)) == (150, 500)


def test_unknown_verdict_is_an_error():
    with pytest.raises(ValueError, match="unknown verdicts"):
        effects_figure(table(ROWS[:1]).assign(verdict="maybe"))


def test_an_unbounded_interval_runs_to_the_edges_with_arrows(tmp_path):
    """Four test speakers cannot bound a 95% sign-flip interval: the row's line spans the plot,
    ending in an arrow each side, and the bounded rows still set the scale."""
    unbounded = ("attention", "extractor", "resattn", "resnet", "ccc", NAN, "bigru", "three", 0.3, -np.inf, np.inf)
    fig = effects_figure(table([*ROWS[:3], (*unbounded, 4, "the data cannot tell")]))
    ax = fig.axes[0]
    left, right = ax.get_xlim()
    assert np.isfinite([left, right]).all() and left < -0.06 and 0.3 < right < 0.5
    arrows = {line.get_marker(): list(line.get_xdata()) for line in ax.lines if line.get_marker() in "<>"}
    assert arrows == {"<": [left], ">": [right]}
    grey = [c for c in ax.collections if c.get_segments() and np.allclose(c.get_color()[0][:3], 0.55)]
    assert any(np.allclose(seg[:, 0], [left, right]) for c in grey for seg in c.get_segments())
    plt.close(fig)
    png_shape(plot_effects(table([*ROWS[:3], (*unbounded, 4, "the data cannot tell")]), tmp_path / "e.png", dpi=50))


def test_a_row_without_runs_that_never_took_off_also_shows_the_interval_with_them():
    rows = table(ROWS[:3]).assign(ci_low_all=[np.nan, -0.2, np.nan], ci_high_all=[np.nan, 0.3, np.nan])
    fig = effects_figure(rows)
    ax = fig.axes[0]
    dotted = [c for c in ax.collections if c.get_label() == "with runs that never took off"]
    (segment,) = dotted[0].get_segments()
    attention_row = rows.index[rows["question"] == "attention"][0]
    y = [t.get_text() for t in ax.get_yticklabels()].index("resattn vs resnet (mstcn, three)")
    assert np.allclose(segment, [[-0.2, y + 0.3], [0.3, y + 0.3]]) and attention_row == 1
    assert ax.get_xlim()[1] > 0.3  # the wider interval sets the scale too
    assert "with runs that never took off" in [t.get_text() for t in fig.legends[0].get_texts()]
    plt.close(fig)
    for plain in (table(ROWS[:3]), table(ROWS[:3]).assign(ci_low_all=np.nan, ci_high_all=np.nan)):
        fig = effects_figure(plain)
        assert not [c for c in fig.axes[0].collections if c.get_label() == "with runs that never took off"]
        assert len(fig.legends[0].get_texts()) == 3
        plt.close(fig)
