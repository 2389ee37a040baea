"""Save figures atomically, so an interrupted job never leaves a half-written PNG."""

from pathlib import Path

import matplotlib.pyplot as plt

from sendflow.atomic import atomic_path


def save_figure(fig, path, dpi: int) -> Path:
    """Write `fig` as a PNG at `path` (via a temporary sibling) and close it."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi)  # tmp's suffix is not .png: name the format
    finally:
        plt.close(fig)
    return Path(path)
