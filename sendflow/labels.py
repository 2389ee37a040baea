"""Valence classes: continuous valence in [-1, 1] binned by the edges a label scheme configures.

SEND's source project trained 3 and 9 classes but never published thresholds, so the edges
are configuration (`labels.schemes`; schemas/config.schema.yaml explains the defaults).
"""

import numpy as np


def classify(valence, edges) -> np.ndarray:
    """Class index of each valence value (0 = most negative); -1 where valence is NaN."""
    valence = np.asarray(valence, dtype=float)
    edges = np.asarray(sorted(edges), dtype=float)
    classes = np.digitize(valence, edges).astype(np.int64)
    classes[np.isnan(valence)] = -1
    return classes


def class_centres(edges) -> np.ndarray:
    """A representative valence per class (bin midpoints; the outer bins reach to -1 and 1),
    used to turn class probabilities into an expected valence."""
    bounds = np.concatenate([[-1.0], np.sort(np.asarray(edges, float)), [1.0]])
    return (bounds[:-1] + bounds[1:]) / 2.0


def check_scheme(name: str, scheme: dict) -> None:
    """Edges must rise strictly, and there must be one name per bin."""
    edges, names = list(scheme["edges"]), list(scheme["names"])
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"labels.schemes.{name}.edges must increase strictly: {edges}")
    if len(names) != len(edges) + 1:
        raise ValueError(
            f"labels.schemes.{name}: {len(edges)} edges make {len(edges) + 1} classes, but {len(names)} names are given"
        )
