"""Config: dotted keys, type coercion of command-line strings, and errors naming the key."""

import re

import pytest
import yaml
from conftest import PROJECT

from sendflow.config import ConfigError, check, load_schema, prepare, rewrite_cli_config, schema_defaults


@pytest.fixture(scope="module")
def schema():
    return load_schema()


@pytest.fixture
def default_config():
    """The whole config at the schema's defaults, a fresh copy for each test to change."""
    return schema_defaults()


def test_default_config_is_valid(schema, default_config):
    check(prepare(default_config, schema), schema)


def test_dotted_keys_merge_and_strings_are_coerced(schema, default_config):
    default_config["data.root"] = "/srv/SENDv1"
    default_config["cv"] = {**default_config["cv"], "k": "5"}  # as Snakemake's parser gives it
    prepared = prepare(default_config, schema)
    assert prepared["data"]["root"] == "/srv/SENDv1"
    assert prepared["data"]["demo"]["speakers"] == default_config["data"]["demo"]["speakers"]
    assert prepared["cv"]["k"] == 5
    check(prepared, schema)


@pytest.mark.parametrize(
    "key, given, expected",
    [
        ("report.include_faces", "false", False),  # boolean or the word auto
        ("report.include_faces", "auto", "auto"),
        ("report.timelines.extractor", "null", None),  # string or null
        ("report.timelines.extractor", "resnet", "resnet"),
        ("extractor.lr", "1e-3", 0.001),  # YAML 1.1 alone would keep this a string
    ],
)
def test_strings_of_union_types_become_what_they_spell(schema, default_config, key, given, expected):
    default_config[key] = given
    prepared = prepare(default_config, schema)
    section, *inner, last = key.split(".")
    node = prepared[section]
    for part in inner:
        node = node[part]
    assert node[last] == expected
    check(prepared, schema)


@pytest.mark.parametrize(
    "override, named",
    [
        ({"cv.mode": "loso"}, r"cv\.mode: 'loso' is not one of"),
        ({"cv.k": "three"}, r"cv\.k: 'three' is not of type 'integer'"),
        ({"cv.kk": 3}, r"cv\.kk: unknown key; known keys of cv: k, mode"),
        ({"shoe_size": 44}, r"shoe_size: unknown key; known keys of \(top level\): classifier, coders, cv, data"),
        ({"data.demo.limited_fraction": 2}, r"data\.demo\.limited_fraction: 2 is greater than"),
        ({"report.include_faces": "sometimes"}, r"report\.include_faces: 'sometimes' is not one of"),
        ({"repeats": 0}, r"repeats: 0 is less than the minimum of 1"),
        ({"repeats": "two"}, r"repeats: 'two' is not of type 'integer'"),
    ],
)
def test_bad_values_and_unknown_keys_are_named(schema, default_config, override, named):
    default_config.update(override)
    with pytest.raises(ConfigError, match=named):
        check(prepare(default_config, schema), schema)


def test_cli_rewrite_makes_nested_yaml():
    assert rewrite_cli_config(["data.root=/a b", "seed=3"]) == ["data={root: /a b}", "seed=3"]
    assert rewrite_cli_config(["data.demo.seconds=10"]) == ["data={demo: {seconds: '10'}}"]


def test_preset_is_valid(schema, default_config):
    from snakemake.utils import update_config

    preset = yaml.safe_load((PROJECT / "presets" / "sendv1.yaml").read_text())
    update_config(default_config, preset)
    check(prepare(default_config, schema), schema)


def test_the_schema_lists_the_names_the_code_defines(schema):
    """Names are defined once, in sendflow/names.py; the schema's enums must say the same."""
    from sendflow import names

    props = schema["properties"]
    classifier, report = props["classifier"]["properties"], props["report"]["properties"]
    training = classifier["training"]["properties"]
    from sendflow.sources import NAME
    from sendflow.sources.formats import format_names

    assert props["extractor"]["properties"]["kinds"]["items"]["pattern"] == NAME.pattern
    assert props["tables"]["additionalProperties"]["properties"]["format"]["enum"] == list(format_names())
    assert props["tables"]["propertyNames"]["pattern"] == props["fusions"]["propertyNames"]["pattern"] == NAME.pattern
    from sendflow.models.registry import classifier_names

    assert classifier["names"]["items"]["enum"] == list(classifier_names())  # the sections marked x-model
    assert training["task"]["enum"] == list(names.TASKS)
    assert training["regression_loss"]["enum"] == list(names.REGRESSION_LOSSES)
    assert training["select_metric"]["enum"] == list(names.SELECT_METRICS)
    assert report["metric"]["enum"] == list(names.METRICS)
    timelines = report["timelines"]["properties"]
    assert timelines["extractor"]["pattern"] == NAME.pattern
    assert timelines["classifier"]["enum"] == [*classifier_names(), None]
    assert set(names.FRAME_KEYS) <= set(props["frames"]["properties"])
    from sendflow.synth.styles import STYLE_NAMES

    assert props["data"]["properties"]["demo"]["properties"]["style"]["enum"] == list(STYLE_NAMES)
    assert set(names.EXTRACTOR_SETTINGS) <= set(props["extractor"]["properties"])
    assert set(names.TEMPORAL_TRAINING) == set(training)


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda c: c["report"]["attention"].update(fold=5), "report.attention.fold 5 is not a fold of this run"),
        (lambda c: c["classifier"].update(labels=["three", "seven"]), "unknown label schemes: ['seven']"),
        (lambda c: c["extractor"].update(labels="seven"), "extractor.labels 'seven' is not one of labels.schemes"),
        (lambda c: c["labels"]["schemes"]["three"].update(names=["a", "b"]), "labels.schemes.three"),
        (lambda c: c["extractor"].update(kinds=["openface"]), "extractor.kinds: 'openface' is not defined"),
        (
            lambda c: c["tables"].update(resnet={"format": "csv", "path": "x"}),
            "tables.resnet: 'resnet' is a built-in learned extractor",
        ),
        (lambda c: c["tables"].update(of={"format": "csv", "path": "{speaker}.csv"}), "unknown field(s) {speaker}"),
        (lambda c: c["fusions"].update(emotient={"of": ["resattn", "resnet"]}), "'emotient' is defined both"),
        (lambda c: c["fusions"]["fused"].update(of=["emotient", "fused"]), "fusions.fused.of: 'fused' is not"),
        (
            lambda c: c["fusions"]["fused"].update(modality_dropout={"emotient": 0.5}),
            "fusions.fused.modality_dropout names ['emotient']: rates are for the members after the base",
        ),
    ],
)
def test_what_the_schema_cannot_say_is_checked_naming_the_key(change, named, default_config):
    from sendflow.config import check_consistency

    config = default_config  # every key, at its default
    check_consistency(config)  # the defaults are consistent
    change(config)
    with pytest.raises(ConfigError, match=re.escape(named)):
        check_consistency(config)


def test_an_old_emotient_key_is_refused_naming_its_new_place(schema):
    old = {"emotient": {"columns": ["AU1"], "fuse_with": "resnet"}}
    with pytest.raises(ConfigError) as error:
        check(prepare(old, schema), schema)
    assert "emotient.columns: moved to tables.emotient.columns" in str(error.value)
    assert "emotient.fuse_with: moved to fusions.fused.of" in str(error.value)


def test_a_moved_model_key_is_refused_naming_its_new_place(schema):
    old = {"classifier": {"bigru": {"rnn_layers": 2}, "mstcn": {"smooth_weight": 0.1, "stages": 3}}}
    with pytest.raises(ConfigError) as error:
        check(prepare(old, schema), schema)
    assert "classifier.bigru.rnn_layers: moved to classifier.bigru.layers" in str(error.value)
    assert "classifier.mstcn.smooth_weight: moved to classifier.training.smooth_weight" in str(error.value)
    assert "stages" not in str(error.value)


def test_a_run_merges_its_values_over_the_defaults_key_by_key(tmp_path):
    """As Snakemake merges config files: an added table keeps the preset emotient beside it, a
    preset entry changed in one key keeps its others, and config.yaml's uncommented values sit
    under --configfile/--config's."""
    from sendflow.config import validated

    project_file = tmp_path / "config.yaml"
    project_file.write_text("# seed: 7\ncv:\n  k: 4\nrepeats: 2\n")
    given = {
        "tables.openface.format": "openface",
        "tables.openface.path": "{root}/openface/{stem}.csv",
        "tables.emotient.columns": ["AU1", "AU2"],
        "repeats": "3",
    }
    config = validated(given, project_file)
    assert sorted(config["tables"]) == ["emotient", "openface"]
    assert config["tables"]["emotient"]["format"] == "emotient" and config["tables"]["emotient"]["columns"] == [
        "AU1",
        "AU2",
    ]
    assert config["tables"]["openface"]["min_confidence"] == schema_defaults()["tables"]["emotient"]["min_confidence"]
    assert (config["cv"]["k"], config["repeats"], config["seed"]) == (4, 3, 7)
    assert config["labels"]["schemes"] == schema_defaults()["labels"]["schemes"]


@pytest.mark.parametrize(
    "text, problem",
    [("- 1\n- 2\n", "a config file holds keys at the top level, not a list"), ("a: [1\n", "not valid YAML")],
)
def test_a_bad_config_yaml_is_named(tmp_path, text, problem):
    from sendflow.config import validated

    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(f"{tmp_path / 'config.yaml'}: {problem}")):
        validated({}, tmp_path / "config.yaml")
