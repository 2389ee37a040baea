"""Hidden time courses of one clip: true valence, what the face shows, talking, blinks, head, light.

Everything is a deterministic function of (seed, speaker, clip), so a clip comes out the
same whichever worker renders it.
"""

from dataclasses import dataclass

import numpy as np

FPS = 30000 / 1001  # NTSC rate of the real release
RATING_STEP = 0.5  # observer and self ratings come at 2 Hz

# independent random streams per clip, so adding e.g. video noise never shifts the ratings
STREAM_SIGNALS, STREAM_RATINGS, STREAM_FEATURES, STREAM_VIDEO, STREAM_RAGGED = range(1, 6)
STREAM_OPENFACE, STREAM_EGEMAPS, STREAM_PYFEAT = 6, 7, 8  # other tools' files (synth/tool_formats.py)


def clip_rng(seed: int, speaker: int, clip: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, speaker, clip, stream])


def frame_times(seconds: float) -> np.ndarray:
    return np.arange(int(round(seconds * FPS))) / FPS


def rating_times(seconds: float) -> np.ndarray:
    """0, 0.5, ... up to the end of the video (the video lasts n_frames / FPS)."""
    duration = len(frame_times(seconds)) / FPS
    return np.arange(int(np.floor(duration / RATING_STEP + 1e-9)) + 1) * RATING_STEP


def smoothstep(x):
    """Cosine ramp 0 -> 1 over x in [0, 1]."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


class SmoothNoise:
    """Sum of a few slow sinusoids: a smooth, roughly unit-variance random curve defined for any t."""

    def __init__(self, rng, max_hz, terms=5):
        self.f = rng.uniform(0.1 * max_hz, max_hz, terms)
        self.ph = rng.uniform(0, 2 * np.pi, terms)
        a = rng.normal(size=terms)
        self.a = a / np.sqrt((a**2).sum() / 2)

    def __call__(self, t):
        t = np.asarray(t, dtype=float)
        return (self.a * np.sin(2 * np.pi * self.f * t[..., None] + self.ph)).sum(-1)


class Valence:
    """Narrative plateaus (5-20 s) joined by 1-3 s cosine turns, in [-1, 1]."""

    def __init__(self, rng, end, bias):
        def level(prev):
            while True:  # successive plateaus differ visibly, otherwise there is no turn to see
                x = float(np.clip(bias + rng.normal(0, 0.5), -0.95, 0.95))
                if prev is None or abs(x - prev) >= 0.25:
                    return x

        self.levels, self.starts, self.widths = [level(None)], [], []
        t = -8.0  # start before 0: observers at t rate v(t - lag)
        while t < end + 4:
            t += rng.uniform(5, 20)
            self.starts.append(t)
            self.widths.append(rng.uniform(1, 3))
            self.levels.append(level(self.levels[-1]))

    def __call__(self, t):
        t = np.asarray(t, dtype=float)
        v = np.full(t.shape, self.levels[0])
        for start, width, lo, hi in zip(self.starts, self.widths, self.levels, self.levels[1:]):
            v += (hi - lo) * smoothstep((t - start) / width)
        return np.clip(v, -1, 1)


class Bursts:
    """Smooth bumps covering roughly two thirds of the time: when the face shows the feeling."""

    def __init__(self, rng, end):
        self.centres, self.widths, self.amps = [], [], []
        t = -4.0
        while t < end + 4:
            t += rng.uniform(0.5, 2.0)  # quiet gap
            w = rng.uniform(3.0, 7.0)
            self.centres.append(t + w / 2)
            self.widths.append(w)
            self.amps.append(rng.uniform(0.7, 1.0))
            t += w

    def __call__(self, t):
        t = np.asarray(t, dtype=float)[..., None]
        x = np.clip((t - np.array(self.centres)) / np.array(self.widths), -0.5, 0.5)
        return np.clip(1.6 * (np.array(self.amps) * np.cos(np.pi * x) ** 2).sum(-1), 0, 1)


@dataclass
class ClipSignals:
    """Per-frame drives of the renderer and feature writer, plus the continuous curves."""

    t: np.ndarray  # frame times (s)
    valence: Valence
    bursts: Bursts
    expressiveness: float
    face_bias: float
    lag_s: float  # observer lag for this clip
    expression: np.ndarray  # shown expression in [-1, 1] per frame (+ smile, - frown)
    mouth_open: np.ndarray  # 0..1, talking
    talking: np.ndarray  # 0..1 speech envelope
    blink: np.ndarray  # 0..1 eye closure
    head: np.ndarray  # (n, 4): dx, dy (fraction of frame), roll (deg), scale
    light: np.ndarray  # (n, 2): global gain, left-right gradient
    gain: float = 2.0  # a burst shows the mood plainly (a smile, not a twitch): the style's
    leak: float = 0.35  # how much valence shows outside bursts: the style's

    def shown(self, t):
        """Shown expression at arbitrary times (same formula as the per-frame array)."""
        v = self.valence(t)
        gate = self.leak + (1 - self.leak) * self.bursts(t)
        return np.clip(self.gain * self.expressiveness * v * gate + self.face_bias, -1, 1)


def _segments_mask(rng, t, end, on_range, off_range, ramp):
    """Smooth 0/1 envelope of alternating on/off segments (speech and pauses)."""
    env = np.zeros_like(t)
    s = -rng.uniform(0, on_range[1])
    while s < end + 1:
        e = s + rng.uniform(*on_range)
        env = np.maximum(env, smoothstep((t - s) / ramp) * (1 - smoothstep((t - e) / ramp)))
        s = e + rng.uniform(*off_range)
    return env


def make_clip_signals(seed, speaker, clip, seconds, identity) -> ClipSignals:
    rng = clip_rng(seed, speaker, clip, STREAM_SIGNALS)
    t = frame_times(seconds)
    end = float(seconds)
    valence = Valence(rng, end, identity.valence_bias)
    bursts = Bursts(rng, end)
    lag = float(rng.uniform(1.0, 2.5))

    talking = _segments_mask(rng, t, end, (1.5, 6.0), (0.3, 1.5), 0.15)
    hz = 4.5 + 1.5 * np.tanh(SmoothNoise(rng, 0.5)(t))  # syllable rate 3..6 Hz
    phase = 2 * np.pi * np.cumsum(hz) / FPS + rng.uniform(0, 2 * np.pi)
    loud = 0.6 + 0.4 * np.tanh(SmoothNoise(rng, 1.0)(t))
    mouth_open = talking * (0.5 - 0.5 * np.cos(phase)) * loud

    blink = np.zeros_like(t)
    b = rng.uniform(0, 3)
    while b < end + 1:
        blink = np.maximum(blink, np.cos(np.pi * np.clip((t - b) / 0.15, -0.5, 0.5)) ** 2)
        b += rng.uniform(2, 6)

    head = np.stack(
        [
            0.035 * np.tanh(SmoothNoise(rng, 0.3)(t)),
            0.025 * np.tanh(SmoothNoise(rng, 0.3)(t)),
            7.0 * np.tanh(SmoothNoise(rng, 0.25)(t) / 1.5),
            1.0 + 0.05 * np.tanh(SmoothNoise(rng, 0.08)(t)),
        ],
        axis=1,
    )
    light = np.stack(
        [
            1.0 + 0.08 * np.tanh(SmoothNoise(rng, 0.05)(t)),
            0.15 * np.tanh(SmoothNoise(rng, 0.04)(t)),
        ],
        axis=1,
    )

    sig = ClipSignals(
        t,
        valence,
        bursts,
        identity.expressiveness,
        identity.face_bias,
        lag,
        np.empty(0),
        mouth_open,
        talking,
        blink,
        head,
        light,
        identity.style.gain,
        identity.style.leak,
    )
    sig.expression = sig.shown(t)
    return sig
