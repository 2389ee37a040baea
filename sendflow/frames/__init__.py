"""Frame stage: decode a clip on the rating grid with ffmpeg, find the face, crop it."""
