"""Frame-level valence extractor: datasets over per-clip frame files, training, loading."""

from .data import FrameDataset, clips_for_role, frame_files_for_fold, preprocess
from .train import load_extractor, make_loaders, train_extractor

__all__ = ["FrameDataset", "clips_for_role", "frame_files_for_fold",
           "load_extractor", "make_loaders", "preprocess", "train_extractor"]
