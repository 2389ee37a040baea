"""Draw a cartoon-but-Haar-detectable face with OpenCV.

Shapes are built in face coordinates (origin at the face centre, y down, unit = half the
face height) and mapped to pixels by one similarity transform, so head roll, scale and
translation move every feature together. Haar cascades key on luminance: dark brows and
eye sockets, a bright nose bridge, a darker mouth above a lighter chin; the final blur
softens the edges like a camera would.
"""

import cv2
import numpy as np

from .identity import Identity

_SHIFT = 4  # fixed-point bits for sub-pixel drawing
_ONE = 1 << _SHIFT


def ellipse(cx, cy, ax, ay, n=40, a0=0.0, a1=2 * np.pi):
    th = np.linspace(a0, a1, n)
    return np.stack([cx + ax * np.cos(th), cy + ay * np.sin(th)], axis=1)


def shade(colour, k, add=0.0):
    """Scaled colour; the additive part keeps some contrast on very dark skin."""
    return tuple(float(c) for c in np.clip(np.asarray(colour) * k + add, 0, 255))


class Pen:
    """Draws face-coordinate shapes on an image through a similarity transform."""

    def __init__(self, img, cx, cy, unit, roll_deg):
        a = np.deg2rad(roll_deg)
        self.img, self.unit = img, unit
        self.m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * unit
        self.c = np.array([cx, cy])

    def _px(self, pts):
        return np.round((pts @ self.m.T + self.c) * _ONE).astype(np.int32)

    def fill(self, pts, colour):
        cv2.fillPoly(self.img, [self._px(pts)], colour, cv2.LINE_AA, _SHIFT)

    def line(self, pts, colour, width):
        w = max(1, int(round(width * self.unit)))
        cv2.polylines(self.img, [self._px(pts)], False, colour, w, cv2.LINE_AA, _SHIFT)

    def outline(self, pts, colour, width):
        w = max(1, int(round(width * self.unit)))
        cv2.polylines(self.img, [self._px(pts)], True, colour, w, cv2.LINE_AA, _SHIFT)


def render_background(ident: Identity, width, height, rng) -> np.ndarray:
    """Static backdrop for one clip: plain gradient, curtain stripes, bokeh blobs or wall tiles."""
    c1, c2 = ident.bg_colour, ident.bg_colour2
    y = np.linspace(0, 1, height)[:, None, None]
    x = np.linspace(0, 1, width)[None, :, None]
    img = c1 + (c2 - c1) * (0.6 * y + 0.4 * x)
    if ident.background == "stripes":
        period = rng.uniform(0.04, 0.1) * width
        img = img * (1 + 0.12 * np.sin(2 * np.pi * x * width / period))
    img = np.clip(img, 0, 255).astype(np.uint8)
    if ident.background == "blobs":
        for _ in range(12):
            centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
            colour = shade(c1 + rng.normal(0, 25, 3), 1.0)
            cv2.circle(img, centre, int(rng.uniform(0.03, 0.1) * width), colour, -1, cv2.LINE_AA)
    elif ident.background == "tiles":
        step = int(rng.uniform(0.08, 0.15) * width)
        line = shade(c1, 0.8)
        for p in range(0, max(width, height), step):
            cv2.line(img, (p, 0), (p, height), line, 1)
            cv2.line(img, (0, p), (width, p), line, 1)
    return cv2.GaussianBlur(img, (0, 0), 1.5)


def draw_face(img, ident: Identity, expression, mouth_open, blink, head):
    """Draw the speaker onto img (modified in place) for one frame's drives, in the speaker's
    style (sendflow/synth/styles.py)."""
    h, w = img.shape[:2]
    dx, dy, roll, scale = head
    look = ident.style
    unit = 0.5 * ident.face_size * h * scale
    pen = Pen(img, w * (0.5 + dx + ident.offset[0]), h * (0.46 + dy + ident.offset[1]), unit, roll)
    skin, hair = ident.skin, ident.hair
    smile, frown = max(expression, 0.0), max(-expression, 0.0)
    ax, lw, relief = ident.face_ratio, look.line_weight, look.relief

    # behind the face: long hair, neck, shoulders, ears
    if ident.hair_style == "long":
        back = np.vstack(
            [ellipse(0, -0.05, ax * 1.2, 1.18, a0=np.pi, a1=2 * np.pi), [[ax * 1.25, 1.5], [-ax * 1.25, 1.5]]]
        )
        pen.fill(back, shade(hair, 0.85))
    pen.fill(np.array([[-0.3, 0.5], [0.3, 0.5], [0.34, 1.5], [-0.34, 1.5]]), shade(skin, 0.72))
    pen.fill(ellipse(0, 2.05, 1.7, 0.72), shade(ident.clothes, 1.0))
    for s in (-1, 1):
        pen.fill(ellipse(s * ax * 0.97, -0.03, 0.1, 0.18), shade(skin, 0.88))
    if ident.hair_style == "bun":
        pen.fill(ellipse(0, -1.12, 0.32, 0.22), shade(hair, 1.0))

    # face oval with a narrower jaw; a darker rim then a lighter inner oval gives soft relief
    th = np.linspace(0, 2 * np.pi, 64)
    narrow = 1 - (1 - ident.jaw) * np.clip(np.sin(th), 0, 1) ** 2
    oval = np.stack([ax * np.cos(th) * narrow, np.sin(th)], axis=1)
    pen.fill(oval, shade(skin, relief(0.86)))
    pen.fill(oval * [0.86, 0.9] + [0, -0.03], shade(skin, 1.0))
    for s in (-1, 1):  # lit cheekbones under darker eyes: the band Haar features look for
        pen.fill(ellipse(s * ident.eye_spacing * ax, 0.14, 0.24, 0.15), shade(skin, relief(1.04), 14 * look.shading))

    # hair cap from the crown down to the hairline
    if ident.hair_style != "buzz":
        cap = ellipse(0, 0.0, ax * 1.07, 1.07, n=30, a0=np.pi + 0.3, a1=2 * np.pi - 0.3)
        xs = np.linspace(cap[-1, 0], cap[0, 0], 20)
        line = ident.hairline + (cap[0, 1] - ident.hairline) * (xs / xs[0]) ** 4
        pen.fill(np.vstack([cap, np.stack([xs, line], axis=1)]), shade(hair, 1.0))
    else:
        pen.fill(
            ellipse(0, 0.0, ax * 1.02, 1.02, n=30, a0=np.pi + 0.35, a1=2 * np.pi - 0.35),
            shade(0.5 * hair + 0.5 * skin, 0.8),
        )

    # eyebrows: sadness/frown lifts the inner ends and lowers the outer ones; smiles lift both
    brow = tuple(float(c) for c in np.minimum(hair * 0.7, skin * 0.4))
    ex = ident.eye_spacing * ax
    b_smile, b_frown = smile * look.brows, frown * look.brows  # how much the brows carry
    for s in (-1, 1):
        base = -0.34 - 0.03 * b_smile
        pts = np.array(
            [
                [s * (ex - 0.17), base - 0.12 * b_frown + 0.02],
                [s * ex, base - 0.03 - 0.02 * b_frown],
                [s * (ex + 0.19), base + 0.03 + 0.03 * b_frown],
            ]
        )
        pen.line(pts, brow, 0.06 * lw)

    # eyes: shaded socket, dim sclera narrowed by smiles and blinks, big dark iris, lid line
    openness = max(0.0, (1 - blink) * (1 - 0.45 * min(smile * look.eyes, 2.0)))
    sclera = shade(0.5 * skin + 95, 1.0)  # in shadow, never brighter than the lit cheeks
    for s in (-1, 1):
        pen.fill(ellipse(s * ex, -0.13, 0.18, 0.1), shade(skin, relief(0.6), -8 * look.shading))
        if openness > 0.15:
            pen.fill(ellipse(s * ex, -0.13, 0.1, 0.05 * openness), sclera)
            pen.fill(ellipse(s * ex, -0.13, 0.045, min(0.045, 0.05 * openness)), (35, 30, 30))
        pen.line(
            ellipse(s * ex, -0.13, 0.11, 0.05 * openness + 0.005, n=12, a0=np.pi, a1=2 * np.pi),
            shade(skin, 0.3),
            0.025 * lw,
        )

    # nose: bright bridge, shaded sides, dark nostrils, shadow underneath
    pen.fill(ellipse(0, 0.02, 0.055, 0.22), shade(skin, relief(1.12), 20 * look.shading))
    for s in (-1, 1):
        pen.line(np.array([[s * 0.07, -0.02], [s * 0.095, 0.22]]), shade(skin, relief(0.78)), 0.03 * lw)
        pen.fill(ellipse(s * 0.055, 0.27, 0.035, 0.018), shade(skin, 0.45))
    pen.fill(ellipse(0, 0.31, 0.1, 0.025), shade(skin, relief(0.82)))

    # smile folds from the nose to the mouth corners
    smile, frown = smile * look.mouth, frown * look.mouth  # how much the mouth carries
    mw = 0.22 * (1 + 0.18 * smile - 0.05 * frown)
    if smile > 0.1:
        for s in (-1, 1):
            fold = np.array([[s * 0.13, 0.2], [s * (mw + 0.04), 0.36], [s * (mw + 0.05), 0.52]])
            pen.line(fold, shade(skin, max(0.2, 1 - 0.25 * smile)), 0.025 * lw)

    pen.fill(ellipse(0, 0.76, 0.18, 0.08), shade(skin, relief(1.06), 12 * look.shading))  # lit chin, darker mouth

    # mouth: corners up for smiles, down for frowns; opens while talking
    x = np.linspace(-mw, mw, 21)
    u = (x / mw) ** 2
    lift = 0.22 * smile - 0.2 * frown  # strong enough to read at the 48-64 px crops of the demo
    centre = 0.5 + lift * (1 - u) - lift * 0.5
    env = np.sqrt(np.clip(1 - u, 0, 1))
    gap = 0.16 * mouth_open + 0.04 * smile
    top = centre - (0.03 + gap / 2) * env
    bottom = centre + (0.04 + gap / 2) * env
    lips = tuple(float(c) for c in np.clip(skin * [0.6, 0.55, 0.85], 0, 255))
    pen.fill(np.vstack([np.stack([x, top], 1), np.stack([x[::-1], bottom[::-1]], 1)]), lips)
    if gap > 0.01:
        inner_t, inner_b = centre - gap / 2 * env, centre + gap / 2 * env
        pen.fill(np.vstack([np.stack([x, inner_t], 1), np.stack([x[::-1], inner_b[::-1]], 1)]), (30, 25, 45))

    if ident.glasses:
        frame = ident.frame_colour
        for s in (-1, 1):
            pen.outline(ellipse(s * ex, -0.13, 0.2, 0.13, n=24), frame, 0.03)
        pen.line(np.array([[-(ex - 0.2), -0.15], [ex - 0.2, -0.15]]), frame, 0.03)


class FrameRenderer:
    """Renders the frames of one clip: background, face, lighting drift, sensor noise."""

    def __init__(self, ident, width, height, rng):
        self.ident, self.rng = ident, rng
        self.background = render_background(ident, width, height, rng)
        self.x = np.linspace(-1, 1, width, dtype=np.float32)[None, :, None]
        self.noise = rng.normal(0, 3.0, (6, height, width, 3)).astype(np.float32)
        self.blur = 0.8 * height / 240

    def frame(self, i, expression, mouth_open, blink, head, light):
        img = self.background.copy()
        draw_face(img, self.ident, expression, mouth_open, blink, head)
        img = cv2.GaussianBlur(img, (0, 0), self.blur)
        gain, grad = light
        out = img.astype(np.float32) * (gain * (1 + grad * self.x))
        out += np.roll(self.noise[i % len(self.noise)], int(self.rng.integers(0, 97)), axis=1)
        return np.clip(out, 0, 255).astype(np.uint8)
