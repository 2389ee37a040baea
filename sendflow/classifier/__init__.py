"""Valence models trained and evaluated on cached per-step features, one fold at a time."""

from .train import train_and_predict
from .trained import TrainedClassifier, build_model, load_classifier

__all__ = ["TrainedClassifier", "build_model", "load_classifier", "train_and_predict"]
