"""schemas/config.schema.yaml is the one place of every config default and of each key's
explanation: config.yaml and the key table of docs/configuration.md are generated from it, and no
default is written a second time (config.yaml carries no values, a preset sets none to its
default, and no function in the package repeats one as a parameter default)."""

import ast

import pytest
import yaml
from conftest import PROJECT

from sendflow import config_reference
from sendflow.config import load_schema, schema_defaults
from sendflow.config_reference import CONFIG_YAML, keys, main, rendered


@pytest.fixture(scope="module")
def schema():
    return load_schema()


def test_the_generated_files_are_what_the_schema_gives():
    stale = [str(path.relative_to(PROJECT)) for path, text in rendered().items() if path.read_text() != text]
    assert not stale, f"{', '.join(stale)}: not what the schema gives; run `make reference`"
    assert main(["--check"]) == 0


def test_check_names_a_stale_file_and_write_renews_it(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "config.yaml"
    stale.write_text("seed: 8\n")  # a hand edit
    monkeypatch.setattr(config_reference, "CONFIG_YAML", stale)
    monkeypatch.setattr(config_reference, "PROJECT", tmp_path)
    assert main(["--check"]) == 1
    assert "config.yaml is stale: run `make reference`" in capsys.readouterr().err
    assert main(["--write"]) == 0
    assert stale.read_text() == CONFIG_YAML.read_text() and main(["--check"]) == 0


def test_config_yaml_carries_no_values_and_uncommented_gives_the_defaults():
    """Every line is a comment; dropping one `# ` from the value lines (not the `##` lines that
    explain them) gives YAML that loads to exactly the schema's defaults."""
    text = CONFIG_YAML.read_text()
    assert yaml.safe_load(text) is None
    values = "\n".join(line.removeprefix("# ") for line in text.splitlines() if not line.startswith("##"))
    assert yaml.safe_load(values) == schema_defaults()


def test_every_key_has_a_description(schema):
    assert schema["description"].strip()
    missing = [".".join(path) for path, spec in keys(schema) if not str(spec.get("description", "")).strip()]
    assert not missing, f"keys without a description in the schema: {missing}"
    assert len(list(keys(schema))) > 100  # the walk reached every section, the named ones too


def _leaves(config: dict, path=()):
    for key, value in config.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*path, key))
        else:
            yield (*path, key), value


def _same(value, default) -> bool:
    """Equal as config values (a tuple as a list), True never the same as 1."""
    value = list(value) if isinstance(value, tuple) else value
    return value == default and isinstance(value, bool) == isinstance(default, bool)


def test_no_preset_sets_a_key_to_its_default():
    defaults = dict(_leaves(schema_defaults()))
    repeated = [
        f"{preset.name}: {'.'.join(path)}: {value!r}"
        for preset in sorted((PROJECT / "presets").glob("*.yaml"))
        for path, value in _leaves(yaml.safe_load(preset.read_text()))
        if path in defaults and _same(value, defaults[path])
    ]
    assert not repeated, f"a preset sets a key to the default it has anyway: {repeated}"


def _parameter_defaults(node, scope=""):
    """(function, parameter, default) for every literal parameter default below `node`; a
    function is named with the classes and functions it is defined in (`Class.__init__`)."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from _parameter_defaults(child, scope)
            continue
        name = f"{scope}{child.name}"
        if not isinstance(child, ast.ClassDef):
            args = child.args
            positional = args.posonlyargs + args.args
            pairs = [*zip(positional[len(positional) - len(args.defaults) :], args.defaults)]
            pairs += [(arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults) if default]
            for arg, default in pairs:
                try:
                    yield name, arg.arg, ast.literal_eval(default)
                except ValueError:
                    continue  # not a literal: a name, a call
        yield from _parameter_defaults(child, f"{name}.")


def test_no_function_repeats_a_config_default(schema):
    """A parameter named like a leaf key of the schema whose default equals that key's default
    is the default written a second time: it would drift from the schema unseen. The caller
    passes the config's value instead. A None default is left alone: it says "not given"."""
    defaults: dict[str, list] = {}
    for path, spec in keys(schema):
        if "properties" not in spec and spec.get("default") is not None:
            defaults.setdefault(path[-1], []).append(spec["default"])
    files = sorted([*(PROJECT / "sendflow").rglob("*.py"), *(PROJECT / "workflow_scripts").glob("*.py")])
    repeated = [
        f"{path.relative_to(PROJECT)}: {function}({name}={value!r})"
        for path in files
        for function, name, value in _parameter_defaults(ast.parse(path.read_text()))
        if any(_same(value, default) for default in defaults.get(name, ()))
    ]
    assert not repeated, "parameter defaults that repeat the schema's:\n" + "\n".join(repeated)
