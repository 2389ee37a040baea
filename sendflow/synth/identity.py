"""Per-speaker look and temperament, drawn once from (seed, speaker)."""

from dataclasses import dataclass

import numpy as np

from .styles import MIXED, STYLES, Style, get_style

# BGR skin tones from very dark to light; a speaker gets a jittered mix of two neighbours
SKIN = np.array(
    [(45, 60, 88), (55, 78, 120), (75, 110, 160), (100, 140, 190), (125, 165, 215), (155, 190, 235)], dtype=float
)
# The unreal palette: green, teal, purple and blue skins at the human table's luminances
UNREAL_SKIN = np.array(
    [(60, 110, 50), (120, 140, 40), (150, 70, 140), (200, 120, 80), (170, 210, 120), (230, 160, 210)], dtype=float
)
HAIR = np.array(
    [(20, 20, 25), (30, 45, 70), (40, 75, 120), (90, 150, 200), (40, 70, 150), (160, 160, 165)], dtype=float
)  # black, dark brown, brown, blonde, red, grey
HAIR_STYLES = ("short", "long", "bun", "buzz")
BACKGROUNDS = ("gradient", "stripes", "blobs", "tiles")


def luma(bgr) -> float:
    b, g, r = bgr
    return 0.114 * b + 0.587 * g + 0.299 * r


@dataclass
class Identity:
    speaker: int
    skin: np.ndarray
    hair: np.ndarray
    hair_style: str
    hairline: float  # y of the hairline (face half-height units, up is negative)
    background: str
    bg_colour: np.ndarray
    bg_colour2: np.ndarray
    clothes: np.ndarray
    glasses: bool
    frame_colour: tuple  # glasses frame (dark: light frames break the dark eye band Haar needs)
    face_ratio: float  # face half-width / half-height
    jaw: float  # 1 = oval, smaller = narrower chin
    eye_spacing: float  # eye centre x as a fraction of the face half-width
    face_size: float  # face oval height / frame height
    expressiveness: float  # gain from valence to shown expression
    face_bias: float  # resting expression (a face that looks a bit happy or glum)
    valence_bias: float  # this speaker's stories lean positive or negative
    self_bias: float  # how the speaker rates themself relative to the truth
    style: Style = STYLES["demo"]
    offset: tuple = (0.0, 0.0)  # head centre off the frame centre (fractions of width, height)


def speaker_style(seed: int, speaker: int, style: str) -> Style:
    """The style a speaker is drawn in: `style`, or for `mixed` one of the styles at random."""
    if style != MIXED:
        return get_style(style)
    names = sorted(STYLES)
    return STYLES[names[np.random.default_rng([seed, speaker, 2]).integers(len(names))]]


def make_identity(seed: int, speaker: int, style: str) -> Identity:
    look = speaker_style(seed, speaker, style)
    rng = np.random.default_rng([seed, speaker, 0])  # the demo's draws, in the demo's order
    palette = UNREAL_SKIN if look.palette == "unreal" else SKIN
    k = rng.uniform(0, len(palette) - 1)
    i = int(k)
    skin = palette[i] + (k - i) * (palette[min(i + 1, len(palette) - 1)] - palette[i]) + rng.normal(0, 4, 3)
    # background luminance away from the skin so the oval stands out, but not so far that
    # the contrast normalisation of a Haar window flattens the features inside the face
    skin_y = luma(skin)
    while True:
        bg = rng.uniform(20, 235, 3)
        if 55 < abs(luma(bg) - skin_y) < 110:
            break
    return Identity(
        speaker=speaker,
        skin=np.clip(skin, 0, 255),
        hair=HAIR[rng.integers(len(HAIR))] + rng.normal(0, 5, 3),
        hair_style=HAIR_STYLES[rng.integers(len(HAIR_STYLES))],
        hairline=float(rng.uniform(-0.75, -0.58)),
        background=BACKGROUNDS[rng.integers(len(BACKGROUNDS))],
        bg_colour=bg,
        bg_colour2=np.clip(bg + rng.normal(0, 30, 3), 0, 255),
        clothes=rng.uniform(20, 230, 3),
        glasses=bool(rng.random() < 0.35),
        frame_colour=((25, 25, 30), (30, 45, 70))[int(rng.integers(2))],
        face_ratio=float(rng.uniform(*look.face_ratio)),
        jaw=float(rng.uniform(*look.jaw)),
        eye_spacing=float(rng.uniform(*look.eye_spacing)),
        face_size=float(rng.uniform(*look.face_size)),
        expressiveness=float(rng.uniform(0.4, 1.2)),
        face_bias=float(rng.uniform(-0.15, 0.15)),
        valence_bias=float(rng.uniform(-0.3, 0.3)),
        self_bias=float(rng.uniform(-0.15, 0.15)),
        style=look,
        # a stream of its own, so the demo's draws above stay as they were
        offset=tuple(np.random.default_rng([seed, speaker, 3]).uniform(-look.offset, look.offset, 2))
        if look.offset
        else (0.0, 0.0),
    )
