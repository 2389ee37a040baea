"""A trained classifier and everything needed to apply it to new features: the model, the
feature normalisation it was trained with, and its label scheme, in one file that never runs
pickled code when read: `model.pt` for the torch models (loads with
`torch.load(..., weights_only=True)`), `model.npz` for the per-step baselines (NumPy arrays and
a JSON header, so their jobs never import torch)."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..labels import class_centres, classify
from ..models.registry import build, temporal_model

FORMAT = "sendflow-classifier/3"  # 2: `classes_from` always recorded; 3: settings named as the models' arguments


@dataclass
class TrainedClassifier:
    model: object  # a torch module (mstcn, sstcn, bigru) or a per-step baseline
    settings: dict  # the classifier settings it was built and trained with
    edges: list[float]  # label scheme: inner class boundaries of valence
    mean: np.ndarray  # feature standardisation of the training clips (after any centring)
    std: np.ndarray
    classes_from: str = "head"  # CLASS_SOURCES: the class head, or the band of the predicted valence

    @property
    def per_step(self) -> bool:
        """A baseline fitted with NumPy/scikit-learn (model.npz), not a torch module: its module
        is imported only by the jobs that build one."""
        return not temporal_model(self.settings["name"]).torch

    @property
    def num_classes(self) -> int:
        return len(self.edges) + 1

    def outputs(self, xs: list[np.ndarray], device="cpu") -> list[tuple[np.ndarray | None, np.ndarray]]:
        """Per sequence of standardised features [T, D]: (class probabilities [T, C] or None,
        valence [T] in [-1, 1]); a model without a valence head gives its classes' expected
        valence. A valence head is linear (as is the framewise ridge regression): its output is
        clipped to the ratings' range, which it can pass on features unlike its training's."""
        if self.per_step:
            raw = [self.model.predict(x) for x in xs]
        else:
            raw = self._torch_outputs(xs, device)
        centres = class_centres(self.edges).astype(np.float32)
        return [(probs, probs @ centres if values is None else np.clip(values, -1, 1)) for probs, values in raw]

    def classes(self, probs: np.ndarray | None, values: np.ndarray) -> np.ndarray:
        """The predicted class per step, from `classes_from` (the valence band where there is no
        class head)."""
        return probs.argmax(1) if probs is not None and self.classes_from == "head" else classify(values, self.edges)

    def _torch_outputs(self, xs, device):
        import torch

        from ..models.heads import split_outputs
        from .data import pad

        self.model.eval()
        size, results = self.settings["batch_size"], []
        with torch.inference_mode():
            for i in range(0, len(xs), size):
                part = xs[i : i + size]
                x, mask = pad(part, device)
                logits, values = split_outputs(self.model(x, mask)[-1].cpu(), self.settings["task"])
                for j, seq in enumerate(part):  # last stage, real steps only
                    n = len(seq)
                    probs = None if logits is None else torch.softmax(logits[j, :, :n].T, dim=1).numpy()
                    results.append((probs, None if values is None else values[j, :n].numpy()))
        return results

    def predict(self, xs: list[np.ndarray], device="cpu"):
        """`outputs` for raw features of one person's clips: centred together when the model was
        trained on centred features (`speaker_norm`), then standardised as in training."""
        if self.settings["speaker_norm"]:
            centre = np.concatenate(xs).mean(0)
            xs = [x - centre for x in xs]
        return self.outputs([(x - self.mean) / self.std for x in xs], device)

    def save(self, path, **about) -> None:
        """Write the model file (registry.TemporalModel.file_name); `about` (plain values)
        records what it was trained on."""
        header = {
            "format": FORMAT,
            "settings": self.settings,
            "edges": list(self.edges),
            "classes_from": self.classes_from,
            "about": about,
        }
        if self.per_step:
            arrays = {f"param.{k}": v for k, v in self.model.state_dict().items()}
            with atomic_path(path) as tmp, open(tmp, "wb") as handle:
                np.savez(handle, header=np.array(json.dumps(header)), mean=self.mean, std=self.std, **arrays)
            return
        import torch

        from ..checkpoints import save_torch

        save_torch(
            {
                **header,
                "mean": torch.from_numpy(self.mean),
                "std": torch.from_numpy(self.std),
                "state_dict": self.model.state_dict(),
            },
            path,
        )


def ensemble_class_source(sources: list[str]) -> str:
    """Where an ensemble of fold models takes its classes from: the valence bands when most of
    them chose those on their select speakers, else the class head."""
    return "valence" if 2 * sum(s == "valence" for s in sources) > len(sources) else "head"


def read_model_file(path: Path) -> tuple[dict, np.ndarray, np.ndarray, dict]:
    """(header, mean, std, state_dict) of a model file of either kind."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as saved:
            params = {k.removeprefix("param."): saved[k] for k in saved.files if k.startswith("param.")}
            return json.loads(str(saved["header"])), saved["mean"], saved["std"], params
    from ..checkpoints import load_torch

    saved = load_torch(path)
    return saved, saved["mean"].numpy(), saved["std"].numpy(), saved["state_dict"]


def load_classifier(path, device="cpu") -> tuple[TrainedClassifier, dict]:
    """A saved classifier, ready to predict (torch models in eval mode on `device`), and its `about`."""
    header, mean, std, state = read_model_file(Path(path))
    if header.get("format") != FORMAT:
        raise ValueError(
            f"{path}: classifier file format {header.get('format')!r}, but this sendflow "
            f"reads {FORMAT!r}; retrain or use the sendflow version that wrote it"
        )
    model = build(header["settings"], len(mean), len(header["edges"]) + 1)
    model.load_state_dict(state)
    trained = TrainedClassifier(model, header["settings"], header["edges"], mean, std, str(header["classes_from"]))
    if not trained.per_step:
        model.to(device).eval()
    return trained, header["about"]
