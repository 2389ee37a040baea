"""Valence models trained and evaluated on cached per-step features, one fold at a time."""

from .train import train_and_predict
from .trained import TrainedClassifier, load_classifier

__all__ = ["TrainedClassifier", "load_classifier", "train_and_predict"]
