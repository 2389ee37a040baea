"""The temporal models, as plug-ins: each is a module of sendflow/models and a section of
`classifier` in schemas/config.schema.yaml marked `x-model: {build: <module>.<callable>, fit:
torch|per_step}` (docs/models.md). The section's properties are the callable's keyword
arguments; a property that is also a `classifier.training` key overrides that shared setting for
this model alone (framewise.speaker_norm). Nothing here imports a model: a job imports its own
model's module only (`build`), and the rules list that module alone as the job's model code
(`entry_code`), so editing one model reruns its jobs and no others."""

import functools
import importlib
from dataclasses import dataclass

from ..config import load_schema
from ..names import PER_STEP_TRAINING, TEMPORAL_TRAINING

# How a model learns: by gradient descent in torch (epochs, a GPU where there is one, model.pt),
# or in one go with NumPy/scikit-learn (model.npz; its jobs never import torch).
FITS = {"torch": TEMPORAL_TRAINING, "per_step": PER_STEP_TRAINING}


@dataclass(frozen=True)
class TemporalModel:
    name: str
    module: str  # under sendflow.models
    builder: str  # the callable in it that builds an untrained model
    fit: str  # a key of FITS
    arguments: tuple[str, ...]  # its section's keys that are the builder's keyword arguments

    @property
    def torch(self) -> bool:
        return self.fit == "torch"

    @property
    def file_name(self) -> str:
        """Its trained-model file: torch weights, or the per-step baselines' NumPy arrays."""
        return "model.pt" if self.torch else "model.npz"

    @property
    def entry_code(self) -> tuple[str, ...]:
        """The package files (relative to sendflow/) that only jobs of models like this one run:
        its module, and torch training for a torch model (sendflow.code_inputs.classifier_code)."""
        return (f"models/{self.module}.py", *(("classifier/train_torch.py",) if self.torch else ()))


@functools.cache
def temporal_models() -> dict[str, TemporalModel]:
    """Every temporal model the schema declares, by name, in the schema's order."""
    found = {}
    for name, section in load_schema()["properties"]["classifier"]["properties"].items():
        if "x-model" in section:
            spec = section["x-model"]
            module, _, builder = spec["build"].rpartition(".")
            if spec["fit"] not in FITS or not module or "." in module:  # a module of sendflow/models itself
                raise ValueError(f"classifier.{name}: x-model needs build: <module>.<callable>, fit: torch|per_step")
            arguments = tuple(key for key in section["properties"] if key not in FITS[spec["fit"]])
            found[name] = TemporalModel(name, module, builder, spec["fit"], arguments)
    return found


def temporal_model(name: str) -> TemporalModel:
    models = temporal_models()
    if name not in models:
        raise ValueError(f"unknown classifier {name!r}; choose from {', '.join(models)}")
    return models[name]


def classifier_names(fit: str | None = None) -> tuple[str, ...]:
    """The models' names in the schema's order; those of one `fit` if given."""
    return tuple(name for name, model in temporal_models().items() if fit in (None, model.fit))


def classifier_settings(section: dict, name: str) -> dict:
    """One classifier's settings from the config's `classifier` section: the `training` keys its
    fit reads, overridden by its own section. Only these reach its jobs, so changing a setting
    another classifier reads does not rerun them."""
    shared = FITS[temporal_model(name).fit]
    return {**{key: section["training"][key] for key in shared}, **section.get(name, {}), "name": name}


def build(settings: dict, in_dim: int, num_classes: int):
    """The untrained model `settings["name"]`: its builder called by keyword with in_dim,
    num_classes, task and the values of its section's keys."""
    model = temporal_model(settings["name"])
    builder = getattr(importlib.import_module(f"{__package__}.{model.module}"), model.builder)
    arguments = {key: settings[key] for key in model.arguments}
    return builder(in_dim=in_dim, num_classes=num_classes, task=settings["task"], **arguments)
