"""What a temporal model outputs per step, by task: class logits, valence, or both."""

from ..names import TASKS


def output_channels(task: str, num_classes: int) -> int:
    """Class logits for `classification`, one valence channel for `regression`, both for `multitask`."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    return {"classification": num_classes, "regression": 1, "multitask": num_classes + 1}[task]


def split_outputs(outputs, task: str):
    """(class logits [..., C, T] or None, valence [..., T] or None) of model outputs [..., K, T]
    (a tensor)."""
    if task == "classification":
        return outputs, None
    if task == "regression":
        return None, outputs[..., 0, :]
    return outputs[..., :-1, :], outputs[..., -1, :]
