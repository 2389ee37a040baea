"""Named drawing styles of the synthetic generator, so that what a model learns from the demo's
faces can be tested on faces drawn otherwise: geometry, line weights and shading, palette,
head size and position (camera distance), and which facial parts carry valence, how strongly
and how often. `demo` is the generator as it always was: its datasets are unchanged.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    name: str
    description: str
    palette: str = "human"  # skin tones: human, or unreal (green, teal, purple, blue)
    face_ratio: tuple = (0.70, 0.84)  # face half-width / half-height
    jaw: tuple = (0.78, 1.0)  # 1 = oval, smaller = narrower chin
    eye_spacing: tuple = (0.36, 0.46)  # eye centre x as a fraction of the face half-width
    face_size: tuple = (0.46, 0.54)  # face height / frame height: the camera's distance
    offset: float = 0.0  # head centre off the frame centre, up to this share
    line_weight: float = 1.0  # stroke width of brows, lids, nose and smile folds
    shading: float = 1.0  # contrast of the relief (rim, cheeks, sockets, nose)
    mouth: float = 1.0  # how much of the shown valence the mouth carries,
    brows: float = 1.0  # the brows,
    eyes: float = 1.0  # and the eyes (smiles narrow them)
    gain: float = 2.0  # strength: a burst shows the mood this plainly
    leak: float = 0.35  # frequency: how much valence shows between bursts

    def relief(self, k: float) -> float:
        """A shading factor scaled by this style's contrast (`demo`'s exactly as drawn)."""
        return k if self.shading == 1.0 else 1.0 + (k - 1.0) * self.shading


STYLES = {
    s.name: s
    for s in (
        Style(
            "demo",
            "the demo generator's faces: oval heads filling half the frame, valence at the mouth, brows and eyes alike",
        ),
        Style(
            "sketch",
            "round heads in heavy strokes with flat shading; valence mostly in the brows and eyes, "
            "the mouth barely moves",
            face_ratio=(0.82, 0.95),
            jaw=(0.9, 1.0),
            eye_spacing=(0.42, 0.52),
            line_weight=2.2,
            shading=0.35,
            mouth=0.35,
            brows=1.8,
            eyes=1.6,
        ),
        Style(
            "unreal",
            "skin colours no camera records (green, teal, purple, blue), deep shading; valence at "
            "the mouth, strong but rare",
            palette="unreal",
            shading=1.4,
            mouth=1.3,
            brows=0.5,
            eyes=0.5,
            gain=2.6,
            leak=0.12,
        ),
        Style(
            "distant",
            "small, narrow heads off the frame centre (a far camera) in fine strokes; subtle "
            "valence shown most of the time",
            face_ratio=(0.62, 0.74),
            jaw=(0.7, 0.85),
            face_size=(0.27, 0.35),
            offset=0.14,
            line_weight=0.6,
            gain=1.3,
            leak=0.6,
        ),
    )
}
MIXED = "mixed"  # each speaker drawn in one of STYLES, at random
STYLE_NAMES = (*STYLES, MIXED)


def get_style(name: str) -> Style:
    if name not in STYLES:
        raise ValueError(f"unknown style {name!r}; choose from {', '.join(STYLE_NAMES)}")
    return STYLES[name]
