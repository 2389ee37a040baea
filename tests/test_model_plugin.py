"""A temporal model is a plug-in: one module in sendflow/models and one section of the schema,
nothing else edited (docs/models.md). Shown in a copy of the project, with a toy model that the
tiny workflow trains, scores and reruns on its own when its module changes."""

import pandas as pd
import pytest
from conftest import copy_project, planned_jobs, run_tiny

from sendflow.config import ConfigError, check, load_schema, prepare
from sendflow.models.registry import build, classifier_names, temporal_models

TOY_MODEL = '''"""A toy temporal model: a per-step two-layer network, no time at all."""

import torch.nn as nn

from .heads import output_channels


class Toy(nn.Module):
    def __init__(self, in_dim: int, num_classes: int, task: str, *, width: int):
        super().__init__()
        out = output_channels(task, num_classes)
        self.net = nn.Sequential(nn.Conv1d(in_dim, width, 1), nn.ReLU(), nn.Conv1d(width, out, 1))

    def forward(self, x, mask):
        return (self.net(x) * mask[:, :1]).unsqueeze(0)  # [1, B, K, T]: one stage
'''

TOY_SECTION = """      toy:
        type: object
        additionalProperties: false
        default: {}
        x-model: {build: toy.Toy, fit: torch}
        properties:
          width: {type: integer, minimum: 1, default: 16}
"""


def test_the_registry_is_the_schemas_model_sections():
    models = temporal_models()
    assert list(models) == list(classifier_names()) == ["mstcn", "sstcn", "bigru", "framewise", "mean"]
    assert classifier_names("per_step") == ("framewise", "mean")
    assert models["bigru"].arguments == ("hidden", "layers", "dropout")
    assert models["framewise"].arguments == ("C", "alpha")  # speaker_norm overrides a training key
    assert models["mstcn"].entry_code == ("models/mstcn.py", "classifier/train_torch.py")
    schema = load_schema()
    assert schema["properties"]["classifier"]["properties"]["names"]["items"]["enum"] == list(models)
    with pytest.raises(ConfigError, match="classifier.names.0"):
        check(prepare({"classifier": {"names": ["transformer"]}}, schema), schema)


def test_a_model_is_built_by_keyword_from_its_section():
    settings = {"name": "bigru", "task": "regression", "hidden": 5, "layers": 2, "dropout": 0.0, "lr": 1.0}
    model = build(settings, in_dim=3, num_classes=3)
    assert (model.gru.input_size, model.gru.hidden_size, model.gru.num_layers) == (3, 5, 2)
    assert model.head.out_features == 1  # regression: the valence channel alone


@pytest.mark.slow  # runs Snakemake for real
def test_a_temporal_model_is_one_module_and_its_schema_section(tmp_path):
    project = copy_project(tmp_path / "project")
    (project / "sendflow/models/toy.py").write_text(TOY_MODEL)
    schema = project / "schemas/config.schema.yaml"
    text = schema.read_text()
    assert text.count("\n      mstcn:\n") == 1
    schema.write_text(text.replace("\n      mstcn:\n", "\n" + TOY_SECTION + "      mstcn:\n"))
    config = ["extractor.kinds=[emotient]", "classifier.names=[mstcn,toy]", "classifier.toy.width=8"]
    run = tmp_path / "run"
    proc = run_tiny(run, "--cores", "2", config=config, project=project)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = pd.read_csv(run / "results/metrics/summary.csv")
    assert sorted(summary["classifier"]) == ["mstcn", "toy"]
    toy_runs = sorted((run / "results/classifier/emotient/toy/three").glob("fold*/model.pt"))
    assert len(toy_runs) == 2  # a torch model: model.pt, one per fold

    # Editing the toy's module reruns the toy's jobs and no others (Snakemake reruns on new
    # content, not on a touched mtime alone).
    module = project / "sendflow/models/toy.py"
    module.write_text(module.read_text() + "# edited\n")
    proc = run_tiny(run, "--cores", "2", "--dry-run", config=config, project=project)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert planned_jobs(proc.stdout)["classifier"] == 2, proc.stdout[-3000:]
    assert "classifier=mstcn" not in proc.stdout and proc.stdout.count("classifier=toy,") == 3  # + its bundle
