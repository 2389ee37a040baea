"""Which sendflow source files a workflow script runs: the code inputs of its rule.

Snakemake reruns a job when its script changes, but not when a module the script imports does,
so each rule lists the package files its script reaches as inputs. They are found by reading
import statements (at any depth, so imports made inside functions count too), following them
through the package, never by importing anything, so the Snakefile stays quick to parse.
"""

import ast
import functools
from pathlib import Path

PACKAGE = "sendflow"


def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of a module `sendflow.a.b` under `root` (the folder holding the package)."""
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=None)  # asked for by every script that reaches the module
def _with_parents(root: Path, dotted: str) -> tuple[Path, ...]:
    """A module and the packages above it: importing `a.b.c` runs `a/__init__` and `a/b/__init__`."""
    parts = dotted.split(".")
    files = [_module_file(root, ".".join(parts[:i])) for i in range(1, len(parts) + 1)]
    return tuple(f for f in files if f is not None)


def _statements(body: list[ast.stmt]):
    """Every statement in `body` and in the blocks nested in it (functions, classes, if, try,
    with, match...): where an import can stand. Skipping the expressions is most of the walk."""
    for node in body:
        yield node
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            yield from _statements(getattr(node, block, ()))


@functools.lru_cache(maxsize=None)  # each module is read once per parse, however many scripts reach it
def _imports(path: Path, root: Path) -> frozenset[str]:
    """Dotted names of the sendflow modules that `path` imports (absolute or relative)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = path.relative_to(root).with_suffix("").parts if path.is_relative_to(root) else ()
    if here and here[-1] == "__init__":
        here = here[:-1] + ("",)  # a package's own relative imports start at the package
    found = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            found.add(module)
            # `from package import module` imports a module, not only a name
            found.update(f"{module}.{a.name}" for a in node.names)
    return frozenset(name for name in found if name == PACKAGE or name.startswith(PACKAGE + "."))


@functools.lru_cache(maxsize=None)
def code_files(script: Path, root: Path, skip: frozenset[Path] = frozenset()) -> tuple[Path, ...]:
    """Every sendflow file `script` reaches through imports, sorted; `root` holds `sendflow/`.
    Files in `skip` (and what only they import) are left out: code a given job never runs."""
    seen: set[Path] = set()
    todo = [Path(script)]
    while todo:
        for name in _imports(todo.pop(), root):
            for file in _with_parents(root, name):
                if file not in seen and file not in skip:
                    seen.add(file)
                    todo.append(file)
    return tuple(sorted(seen))


@functools.lru_cache(maxsize=None)
def classifier_code(script: Path, root: Path, classifier: str) -> tuple[Path, ...]:
    """The sendflow files a `classifier` job of `script` (train_classifier.py) runs: the
    script's imports less every model's entry modules (TemporalModel.entry_code: its module, and
    torch training for a torch model; sendflow/models/registry.py), then this model's entries
    and all they import, other models' entries left out unless one of its own entries imports
    them itself (sstcn's module builds on mstcn's). The registry imports no model, so only the
    import statements tie a job to a model's code."""
    from .models.registry import temporal_models

    package = root / PACKAGE
    models = temporal_models()
    every_entry = {package / file for model in models.values() for file in model.entry_code}
    own = {package / file for file in models[classifier].entry_code}
    while True:  # an entry that imports another entry (sstcn's module builds on mstcn's) runs it
        more = {f for entry in own for name in _imports(entry, root) for f in _with_parents(root, name)}
        if not (more & every_entry) - own:
            break
        own |= more & every_entry
    others = frozenset(every_entry - own)
    files = set(code_files(Path(script), root, others | own))
    for entry in own:
        files |= {entry, *code_files(entry, root, others)}
    return tuple(sorted(files))
