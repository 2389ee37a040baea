"""Observer ratings, self ratings and Emotient-style per-frame features of one clip.

Observers see the story, not just the face: their estimate follows the true valence
v(t - lag) with a per-clip lag, so a model that looks at one frame at a time is late.
"""

import numpy as np
import pandas as pd

from .signals import ClipSignals, SmoothNoise

AUS = ("AU1 AU2 AU4 AU5 AU6 AU7 AU9 AU10 AU12 AU14 AU15 AU17 AU18 AU20 AU23 AU24 AU25 AU26 AU28 AU43").split()
EVIDENCE = (
    "joyEvidence angerEvidence sadnessEvidence surpriseEvidence fearEvidence "
    "disgustEvidence contemptEvidence neutralEvidence positiveEvidence "
    "negativeEvidence"
).split()

# (smile, frown, mouth opening, blink) loadings per AU: what a face coder would pick up
_AU_DRIVE = {
    "AU1": (0, 2.2, 0, 0),
    "AU2": (0.3, 0.4, 0, 0),
    "AU4": (0, 2.0, 0, 0),
    "AU6": (2.5, 0, 0, 0),
    "AU7": (0.8, 0.6, 0, 0.5),
    "AU10": (0.6, 0, 0, 0),
    "AU12": (3.0, -0.5, 0, 0),
    "AU14": (0.5, 0.3, 0, 0),
    "AU15": (0, 2.4, 0, 0),
    "AU17": (0, 1.5, -0.5, 0),
    "AU25": (0.4, 0, 3.0, 0),
    "AU26": (0, 0, 2.5, 0),
    "AU43": (0, 0, 0, 4.0),
}


def _ar_noise(rng, n, sd, rho):
    """AR(1) noise: rater and coder errors are correlated over neighbouring samples."""
    e = rng.normal(0, sd * np.sqrt(1 - rho**2), n)
    out = np.empty(n)
    acc = rng.normal(0, sd)
    for i in range(n):
        acc = rho * acc + e[i]
        out[i] = acc
    return out


def observer_ratings(sig: ClipSignals, times, rng) -> pd.DataFrame:
    window = np.linspace(-0.5, 0.5, 11)  # raters average over about a second
    v = sig.valence(times[:, None] - sig.lag_s + window).mean(axis=1)
    v = np.clip(v + _ar_noise(rng, len(times), 0.04, 0.7), -1, 1)
    sd = 6 + 4 * np.abs(SmoothNoise(rng, 0.2)(times)) + rng.uniform(0, 1, len(times))
    return pd.DataFrame({"time": times, "evaluatorWeightedEstimate": 50 * (v + 1), "SDofEWE": sd})


def self_ratings(sig: ClipSignals, times, rng, self_bias) -> pd.DataFrame:
    window = np.linspace(-1.5, 1.5, 13)  # a slower, smoother dial than the observers'
    lag = rng.uniform(0.0, 0.8)
    v = sig.valence(times[:, None] - lag + window).mean(axis=1) + self_bias
    v = np.clip(v + _ar_noise(rng, len(times), 0.07, 0.9), -1, 1)
    return pd.DataFrame({"time": times, " rating": (v + 1) / 2})


def emotient_features(sig: ClipSignals, rng, baseline) -> pd.DataFrame:
    """One row per frame; values are evidence-like scores (roughly -3..3). Now and then the
    coder loses the face for a moment: those rows keep their time and have empty values."""
    n = len(sig.t)
    smile, frown = np.clip(sig.expression, 0, None), np.clip(-sig.expression, 0, None)
    drives = np.stack([smile, frown, sig.mouth_open, sig.blink], axis=1)
    cols = {"Frametime": np.arange(n) * 1001 / 30000}
    for k, au in enumerate(AUS):
        load = np.array(_AU_DRIVE.get(au, (0, 0, 0, 0)), dtype=float)
        cols[au] = baseline[k] + drives @ load + _ar_noise(rng, n, 0.35, 0.6)
    noise = lambda: _ar_noise(rng, n, 0.3, 0.6)  # noqa: E731
    joy = -1.2 + 3.2 * smile + noise()
    sad = -1.2 + 2.6 * frown + noise()
    anger = -1.5 + 1.2 * frown + noise()
    cols.update(
        {
            "joyEvidence": joy,
            "angerEvidence": anger,
            "sadnessEvidence": sad,
            "surpriseEvidence": -1.5 + 0.8 * sig.mouth_open + noise(),
            "fearEvidence": -1.8 + 0.5 * frown + noise(),
            "disgustEvidence": -1.6 + 0.6 * frown + noise(),
            "contemptEvidence": -1.4 + noise(),
            "neutralEvidence": 1.0 - 2.5 * np.abs(sig.expression) + noise(),
            "positiveEvidence": joy + 0.2 * noise(),
            "negativeEvidence": np.maximum(sad, anger) + 0.2 * noise(),
        }
    )
    frame = pd.DataFrame(cols)
    frame.loc[_face_lost(rng, n), frame.columns[1:]] = np.nan  # written as empty cells
    return frame


def _face_lost(rng, n) -> np.ndarray:
    """Rows where the coder finds no face: about one run of 0.2-1.5 s per 30 s of video."""
    lost = np.zeros(n, bool)
    for _ in range(rng.poisson(n / 900)):
        start = int(rng.integers(0, n))
        lost[start : start + int(rng.integers(6, 45))] = True
    return lost


def au_baseline(seed, speaker) -> np.ndarray:
    """Per-speaker resting AU levels: face coders are biased per person."""
    return np.random.default_rng([seed, speaker, 0, 99]).uniform(-2.0, -0.5, len(AUS))


def write_csv(df: pd.DataFrame, path, ragged=None):
    """Write with fixed precision (byte-stable); optionally damage it like the real release."""
    lines = df.to_csv(index=False, float_format="%.4f", lineterminator="\n").splitlines()
    if ragged is not None:
        lines = ragged.apply(lines)
    path.write_text("\n".join(lines) + "\n")


class Ragged:
    """How one rating file departs from the clean grid: rows added/dropped, a junk row."""

    def __init__(self, rng, step=0.5):
        self.extra = int(rng.choice([-2, -1, 1, 2])) if rng.random() < 0.2 else 0
        self.junk = str(rng.choice(["blank", "nan", "text"])) if rng.random() < 0.15 else None
        self.where = rng.uniform(0.3, 0.7)
        self.step = step

    @property
    def clean(self):
        return self.extra == 0 and self.junk is None

    def apply(self, lines):
        header, rows = lines[0], lines[1:]
        if self.extra < 0:
            rows = rows[: self.extra]
        for _ in range(max(self.extra, 0)):  # rater kept going after the video ended
            fields = rows[-1].split(",")
            fields[0] = f"{float(fields[0]) + self.step:.4f}"
            rows.append(",".join(fields))
        if self.junk:
            k = int(self.where * len(rows))
            t = rows[k].split(",")[0]
            junk = {"blank": "", "nan": f"{t},NaN,NaN" if header.count(",") == 2 else f"{t},NaN", "text": header}[
                self.junk
            ]
            rows.insert(k, junk)
        return [header] + rows
