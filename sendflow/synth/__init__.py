"""Synthetic SENDv1-layout data: rendered faces whose valence observers rate with a lag."""

from .dataset import TRUTH_FILE, generate_dataset, plan

__all__ = ["generate_dataset", "plan", "TRUTH_FILE"]
