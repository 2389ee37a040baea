"""Dependencies point one way: inference never loads training code, light jobs never load
torch or OpenCV, and no sendflow module imports one that imports it back. Checked in fresh
interpreters (what `sys.modules` holds after the imports) and on the package's source."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sendflow.code_inputs import _statements

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT / "sendflow"
TRAINING = ("sendflow.extractor.train", "sendflow.classifier.train_torch")
# the rules' scripts that must start without torch or OpenCV: the index, the report and the bundles
LIGHT_SCRIPTS = [
    "build_index.py",
    "make_folds.py",
    "aggregate.py",
    "compare.py",
    "write_manifest.py",
    "report_pages.py",
    "figure_comparison.py",
    "figure_effects.py",
    "figure_confusion.py",
    "figure_timelines.py",
    "table_steps.py",
    "table_features.py",
    "fusion_features.py",
    "model_zoo.py",
]


def loaded_after(code: str, cwd: Path = PROJECT) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(proc.stdout.split())


@pytest.mark.parametrize("module", ["sendflow.features", "sendflow.zoo", "sendflow.zoo.bundle", "sendflow.predict"])
def test_inference_never_loads_training_code(module):
    loaded = loaded_after(f"import {module}")
    assert not loaded & set(TRAINING), f"{module} loads {sorted(loaded & set(TRAINING))}"


def script_imports(script: Path) -> str:
    """Every import statement of `script`, at any depth (a lazy import inside a function or a
    branch too: the job may reach it), as top-level code."""
    tree = ast.parse(script.read_text())
    return "\n".join(ast.unparse(n) for n in _statements(tree.body) if isinstance(n, ast.Import | ast.ImportFrom))


def heavy_modules(script: Path) -> set[str]:
    """torch and OpenCV, where any import of `script` loads them."""
    return loaded_after(script_imports(script), cwd=script.parent) & {"torch", "cv2"}


@pytest.mark.parametrize("script", LIGHT_SCRIPTS)
def test_light_jobs_load_neither_torch_nor_opencv(script):
    heavy = heavy_modules(PROJECT / "workflow_scripts" / script)
    assert not heavy, f"{script} loads {sorted(heavy)}"


def test_a_lazy_heavy_import_in_a_light_script_is_caught(tmp_path):
    """The check above reads imports nested in functions and branches, not only the top-level
    ones: a light script importing torch inside a function would pass a top-level reading."""
    script = tmp_path / "light.py"
    script.write_text(
        "import json\n\n\ndef main(path):\n    if path:\n        import torch\n\n"
        "        return torch.load(path, weights_only=True)\n    return json.loads('{}')\n"
    )
    assert heavy_modules(script) == {"torch"}


def module_imports() -> dict[str, set[str]]:
    """sendflow module -> the sendflow modules it imports (at any depth of its code)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PROJECT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("sendflow")}
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")
                base = base[: len(base) - node.level + 1] if node.level else []
                target = ".".join([*base, node.module] if node.module else base)
                if target.startswith("sendflow"):
                    found.add(target)
                    found |= {f"{target}.{a.name}" for a in node.names}  # `from . import data`
        graph[name] = found
    return {m: {t for t in targets if t in graph and t != m} for m, targets in graph.items()}


def test_no_module_imports_one_that_imports_it_back():
    graph = module_imports()
    assert "sendflow.classifier.train" in graph and graph["sendflow.classifier.train"]  # the walk sees imports

    def reaches(start, goal, seen):
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and (seen.add(nxt) or reaches(nxt, goal, seen))):
                return True
        return False

    # a package's __init__ re-exporting its modules is not a circle of the modules themselves
    modules = [m for m in graph if not (PACKAGE / Path(*m.split(".")[1:]) / "__init__.py").exists()]
    circles = sorted((a, b) for a in modules for b in graph[a] if b in modules and reaches(b, a, set()))
    assert not circles, f"import circles: {circles}"


def test_result_paths_are_spelled_only_in_the_paths_module():
    sources = [
        *PROJECT.glob("rules/*.smk"),
        PROJECT / "Snakefile",
        *PROJECT.glob("workflow_scripts/*.py"),
        *(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "paths.py"),
    ]
    spelled = [
        f"{p.relative_to(PROJECT)}:{i}"
        for p in sources
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if '"results/' in line
    ]
    assert not spelled, f"result paths outside sendflow/paths.py: {spelled}"
    assert '"results"' in (PACKAGE / "paths.py").read_text()


def test_every_conda_pin_is_the_requirements_pin():
    """One file holds the version pins (requirements.txt); the conda environment files repeat
    them for --use-conda and must say the same."""
    import yaml

    def pins(lines):
        return {re.split(r"[=<>;\s]", line)[0].lower(): line.split("#")[0].strip() for line in lines if line.strip()}

    required = pins(
        line for line in (PROJECT / "requirements.txt").read_text().splitlines() if not line.lstrip().startswith("#")
    )
    for env in sorted((PROJECT / "envs").glob("*.yaml")):
        pip = yaml.safe_load(env.read_text())["dependencies"][-1]["pip"]
        for name, pin in pins(pip).items():
            assert required.get(name) == pin, f"{env.name}: {pin!r}, requirements.txt: {required.get(name)!r}"
