"""Grad-CAM (Selvaraju et al., 2017) for the frame extractor: where the predicted class's evidence lies.

A forward hook captures a residual stage's activations; `torch.autograd.grad` then returns the
class score's gradient with respect to them alone, so no `.grad` is ever written into the
model's parameters and nothing leaks into a later training or inference step.
"""

import contextlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

STAGES = ("layer1", "layer2", "layer3", "layer4")


@contextlib.contextmanager
def evaluating(model: nn.Module):
    """Eval mode for the block (BatchNorm must not update its statistics), then the mode it had."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def stage_sizes(model: nn.Module, image_size: int) -> dict[str, int]:
    """Side of each residual stage's output maps for square inputs of `image_size` pixels."""
    sizes = {}
    hooks = [
        getattr(model.backbone, name).register_forward_hook(
            lambda module, inputs, output, name=name: sizes.__setitem__(name, output.shape[-1])
        )
        for name in STAGES
    ]
    try:
        with torch.no_grad(), evaluating(model):
            model(torch.zeros(1, 3, image_size, image_size))
    finally:
        for hook in hooks:
            hook.remove()
    return sizes


def cam_stage(model: nn.Module, image_size: int) -> tuple[str, int]:
    """The deepest stage whose maps are at least 2x2, and their side: layer4 from 48 px crops up,
    layer3 on 32 px (a 1x1 map cannot say where anything is)."""
    sizes = stage_sizes(model, image_size)
    return [(name, sizes[name]) for name in STAGES if sizes[name] >= 2][-1]


def grad_cam(model: nn.Module, images: torch.Tensor, stage: str = "layer4") -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM of each image's predicted class on `model.backbone.<stage>`.

    Returns maps [B, H, W] (input size, bilinear upsampling) scaled to [0, 1] by their peak
    (all zeros where no location supports the class), and the predicted classes [B].
    """
    captured = {}
    hook = getattr(model.backbone, stage).register_forward_hook(
        lambda module, inputs, output: captured.update(maps=output)
    )
    try:
        # Inputs that require grad keep the graph alive even if the caller froze the weights.
        with torch.enable_grad(), evaluating(model):
            logits = model(images.detach().requires_grad_())["logits"]
            predicted = logits.argmax(1)
            # Eval mode keeps samples independent, so the summed score's gradient is per sample.
            score = logits.gather(1, predicted[:, None]).sum()
            (grads,) = torch.autograd.grad(score, captured["maps"])
    finally:
        hook.remove()
    maps = captured["maps"].detach()
    weights = grads.mean(dim=(2, 3), keepdim=True)  # channel importance: spatial mean of gradients
    cams = F.relu((weights * maps).sum(dim=1, keepdim=True))
    cams = F.interpolate(cams, size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
    peaks = cams.amax(dim=(1, 2), keepdim=True)
    cams = torch.where(peaks > 0, cams / peaks.clamp_min(1e-12), torch.zeros_like(cams))
    return cams.numpy(), predicted.numpy()
