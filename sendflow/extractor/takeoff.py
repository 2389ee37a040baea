"""Did an extractor's training take off? A from-scratch network on a few speakers can stay at
chance for a whole run (train accuracy at the majority share, select score at the majority
baseline's), and a feature cache from such a network quietly drags its fold down. This says
so, in the log and in summary.json, so that the report can list the fold."""

import numpy as np

# The select score of always predicting the training majority class (a constant valence has
# CCC 0); `acc` and `f1` come from the select speakers' class counts.
CONSTANT_CCC = 0.0


def baselines(train_counts, balance: str, majority_select: dict) -> dict:
    """What a network that learnt nothing scores: on training batches the majority class's
    share (1 / classes when the sampler balances them), on the select speakers the majority
    class's accuracy and macro-F1 and a CCC of 0."""
    counts = np.asarray(train_counts, float)
    train = 1 / len(counts) if balance == "sampler" else counts.max() / counts.sum()
    return {"train_acc": float(train), "acc": majority_select["acc"], "f1": majority_select["f1"], "ccc": CONSTANT_CCC}


def takeoff_problems(history: list[dict], select_metric: str, base: dict, margin: float) -> list[str]:
    """Why the epochs in `history` have not taken off: train accuracy never above the
    training baseline, or the select score never `margin` above the majority baseline's.
    Empty when they have."""
    if not history:
        return ["no epoch ran"]
    train_acc = max(row["train_acc"] for row in history)
    select = max(row[f"select_{select_metric}"] for row in history)
    problems = []
    if not train_acc > base["train_acc"]:
        problems.append(f"train accuracy {train_acc:.3f} never above the training majority's {base['train_acc']:.3f}")
    if not select > base[select_metric] + margin:
        problems.append(
            f"select {select_metric} {select:.3f} never more than {margin:g} above always predicting "
            f"the majority ({base[select_metric]:.3f})"
        )
    return problems
