"""The extractor's batched augmentation: per-image draws, faces kept in frame, colour ranges."""

import numpy as np
import pytest
import torch

from sendflow.extractor.augment import GREYSCALE_P, MEAN, STD, augment, normalise

SIZE = 48


def unnormalise(x):
    return x * torch.tensor(STD).view(1, 3, 1, 1) + torch.tensor(MEAN).view(1, 3, 1, 1)


def disc(n, colour=(230, 120, 60)):
    """n copies of a coloured disc (radius a quarter of the side) on a dark background."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    inside = (yy - SIZE / 2 + 0.5) ** 2 + (xx - SIZE / 2 + 0.5) ** 2 < (SIZE / 4) ** 2
    image = np.where(inside[..., None], colour, 20).astype(np.uint8)
    return torch.from_numpy(image).permute(2, 0, 1).expand(n, 3, SIZE, SIZE).contiguous()


def test_normalise_is_imagenet_standardisation():
    images = torch.randint(0, 256, (4, 3, SIZE, SIZE), dtype=torch.uint8)
    expected = (images.float() / 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    assert torch.allclose(normalise(images), expected, atol=1e-6)


def test_each_image_gets_its_own_draws_and_a_seed_repeats_them():
    images = disc(32)
    first = augment(images, torch.Generator().manual_seed(1))
    assert first.shape == (32, 3, SIZE, SIZE) and first.dtype == torch.float32
    flat = first.flatten(1)
    distinct = torch.cdist(flat, flat) + torch.eye(32) * 1e9
    assert distinct.min() > 1.0  # no two copies came out alike
    assert torch.equal(first, augment(images, torch.Generator().manual_seed(1)))
    assert not torch.equal(first, augment(images, torch.Generator().manual_seed(2)))


def test_the_face_stays_in_frame_at_about_its_size():
    """Crop (75-100% of the area), turn (10 degrees) and flip keep the disc near the centre."""
    out = unnormalise(augment(disc(500), torch.Generator().manual_seed(0))).mean(1)
    threshold = (out[:, SIZE // 2, SIZE // 2] + out[:, SIZE // 2, 1]) / 2  # between disc and background
    mask = out > threshold.view(-1, 1, 1)
    area = mask.float().mean((1, 2)) / (np.pi / 16)
    assert area.min() > 0.9 and area.max() < 1.45  # zoomed in by at most 1/0.75 of the area
    yy, xx = torch.meshgrid(torch.arange(SIZE) + 0.5, torch.arange(SIZE) + 0.5, indexing="ij")
    cy = (mask * yy).sum((1, 2)) / mask.sum((1, 2))
    cx = (mask * xx).sum((1, 2)) / mask.sum((1, 2))
    assert (cy - SIZE / 2).abs().max() < SIZE * 0.12 and (cx - SIZE / 2).abs().max() < SIZE * 0.12


def test_colour_changes_stay_in_range_and_greyscale_comes_one_time_in_ten():
    n = 4000
    out = unnormalise(augment(disc(n), torch.Generator().manual_seed(0)))
    assert out.min() >= -1e-5 and out.max() <= 1 + 1e-5
    centre = out[:, :, SIZE // 2, SIZE // 2]
    grey = (centre.max(1).values - centre.min(1).values) < 1e-4
    assert abs(grey.float().mean().item() - GREYSCALE_P) < 0.02
    brightness = centre[~grey].mean(1) / (torch.tensor([230, 120, 60]).float().mean() / 255)
    assert 0.5 < brightness.min() and brightness.max() < 1.6 and brightness.std() > 0.1


@pytest.mark.parametrize("level", [40, 128, 220])
def test_a_grey_image_stays_grey(level):
    """Hue and saturation turn about the grey axis: no colour cast appears."""
    images = torch.full((64, 3, SIZE, SIZE), level, dtype=torch.uint8)
    out = unnormalise(augment(images, torch.Generator().manual_seed(0)))
    centre = out[:, :, SIZE // 2, SIZE // 2]
    assert (centre.max(1).values - centre.min(1).values).max() < 1e-4
