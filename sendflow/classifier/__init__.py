"""Valence models trained and evaluated on cached per-step features, one fold at a time."""

from .train import DEFAULTS, build_model, train_and_predict

__all__ = ["DEFAULTS", "build_model", "train_and_predict"]
