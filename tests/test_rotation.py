"""Phone videos: a display-rotation tag (a phone held upright stores its frames sideways) is
decoded upright and unstretched, in the frame stage and in `sendflow predict` alike."""

import numpy as np
import pytest
from conftest import make_phone_copy
from test_frames import CFG  # the frame stage's settings the frame tests use

from sendflow.ffmpeg_bin import display_rotation, probe, turns_sideways
from sendflow.frames.decode import decode_frames
from sendflow.frames.extract import crop_faces
from sendflow.synth.encode import Mp4Writer
from sendflow.synth.face import FrameRenderer
from sendflow.synth.identity import make_identity


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory):
    """3 s of a drawn face, 320x240, 2 frames/s: upright and nothing like its mirror image."""
    video = tmp_path_factory.mktemp("rotation") / "face.mp4"
    renderer = FrameRenderer(make_identity(7, 112, "demo"), 320, 240, np.random.default_rng(0))
    with Mp4Writer(video, 320, 240, "2/1") as out:
        for i in range(6):
            out.write(renderer.frame(i, 0.4, 0.2, 0.0, (0, 0, 0, 1), (1, 0)))
    return video


def decoded(video, width=320):
    frames, times, info = decode_frames(video, 2, width)
    frames = np.stack(list(frames))
    assert info["returncode"] == 0, info["stderr"]
    return frames, times


@pytest.mark.parametrize("rotation, turns", [(90, 1), (270, -1)])
def test_a_rotation_tag_is_decoded_turned_and_unstretched(face_clip, tmp_path, rotation, turns):
    """Only the tag added: the frames come out turned as a player shows them (np.rot90 turns
    counter-clockwise, as the tag does), at their displayed size, not squeezed into the stored one."""
    tagged = make_phone_copy(face_clip, tmp_path / f"tag{rotation}.mp4", rotation, turn_pixels=False)
    assert (probe(tagged).width, probe(tagged).height) == (240, 320)
    original, original_times = decoded(face_clip)
    frames, times = decoded(tagged)
    expected = np.rot90(original, turns, axes=(1, 2))
    assert frames.shape == expected.shape == (6, 320, 240, 3)
    assert np.abs(frames.astype(int) - expected).mean() < 1.0
    assert np.abs(frames.astype(int) - np.rot90(original, -turns, axes=(1, 2))).mean() > 10  # the test can tell
    assert times == original_times


@pytest.mark.parametrize("rotation", [90, 270])
def test_a_phone_video_gives_the_crops_of_the_upright_original(face_clip, tmp_path, rotation):
    """Frames stored sideways and tagged to display upright: the frame stage's
    output, which `sendflow predict` computes too, is the upright original's."""
    phone = make_phone_copy(face_clip, tmp_path / f"phone{rotation}.mp4", rotation)
    assert probe(phone).width == 320 and probe(phone).height == 240
    original, ours = crop_faces(face_clip, CFG), crop_faces(phone, CFG)
    assert original["detected"].all() and (ours["detected"] == original["detected"]).all()
    assert ours["frame_size"].tolist() == original["frame_size"].tolist() == [160, 120]
    np.testing.assert_allclose(ours["boxes"], original["boxes"], atol=0.5)
    np.testing.assert_allclose(ours["times"], original["times"])
    assert np.abs(ours["frames"].astype(int) - original["frames"]).max() <= 2


def test_the_rotation_is_read_as_each_ffmpeg_version_prints_it():
    side_data = "    Side data:\n      {}: rotation of -90.00 degrees\n"
    assert display_rotation(side_data.format("Display Matrix")) == -90  # ffmpeg 7 and later
    assert display_rotation(side_data.format("displaymatrix")) == -90  # ffmpeg 4 to 6
    assert display_rotation("    Metadata:\n      rotate          : 270\n") == 270  # ffmpeg before 5: a tag
    assert display_rotation("    Metadata:\n      handler_name    : VideoHandler\n") == 0
    assert [turns_sideways(r) for r in (90, -90, 270, -270, 89.5, 0, 180, -180, 45)] == [True] * 5 + [False] * 4
