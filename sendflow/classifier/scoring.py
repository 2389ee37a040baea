"""A trained classifier's predictions as a table (one row per step) and the score the epoch
and the class source are chosen by. Both trainers import it; it imports neither."""

import numpy as np
import pandas as pd

from ..metrics import ccc_per_clip_mean, class_metrics
from ..names import SELECT_METRICS
from .trained import TrainedClassifier


def _frame(clips, outputs, trained: TrainedClassifier) -> pd.DataFrame:
    parts = []
    for c, (probs, values) in zip(clips, outputs):
        part = pd.DataFrame(
            {
                "clip_id": c.clip_id,
                "speaker": c.speaker,
                "step": c.step,
                "t": c.t,
                "valence_true": c.valence,
                "valence_pred": np.asarray(values, np.float32),
                "class_true": c.label,
                "class_pred": trained.classes(probs, values),
            }
        )
        if probs is not None:
            for k in range(trained.num_classes):
                part[f"prob_{k}"] = probs[:, k].astype(np.float32)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def select_score(frame: pd.DataFrame, metric: str, num_classes: int) -> float:
    if metric == "ccc":
        score = ccc_per_clip_mean(frame)
    elif metric == "f1":
        score = class_metrics(frame["class_true"], frame["class_pred"], num_classes)["macro_f1"]
    else:
        raise ValueError(f"select_metric must be one of {SELECT_METRICS}, not {metric!r}")
    return -np.inf if np.isnan(score) else float(score)


def predict_frame(trained: TrainedClassifier, clips, device) -> pd.DataFrame:
    """Predictions for standardised clips, one row per step."""
    outputs = trained.outputs([c.x for c in clips], device)
    return _frame(clips, outputs, trained)
