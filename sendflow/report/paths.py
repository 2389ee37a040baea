"""What a result file is about, read from its path: the patterns of `sendflow.paths` turned
into regular expressions, so the layout is spelled in one place."""

import re
from pathlib import Path

from ..paths import CLASSIFIER_RUN, EXTRACTOR_RUN, RESULTS

# The wildcards' patterns, spelled once: the rules' wildcard constraints and the regexes that
# read a result's keys from its path use them both.
FOLD_NUMBER = r"\d+"
SCOPE = r"fold\d+|shared"  # an extractor trained for one fold, or shared by every fold
_REPEAT_NUMBER = r"[1-9]\d*"  # repeat 0 has no tag
REPEAT_TAG = rf"(-repeat{_REPEAT_NUMBER})?"  # the `{repeat}` wildcard: empty for repeat 0
_GROUPS = {
    "{repeat}": rf"(?:-repeat(?P<repeat>{_REPEAT_NUMBER}))?",
    "{fold}": rf"(?P<fold>{FOLD_NUMBER})",
    "{scope}": rf"(?P<scope>{SCOPE})",
}


def _regex(pattern: str) -> re.Pattern:
    """A path pattern (less its results/ prefix, so relative and absolute paths both match) as a
    regex with one named group per wildcard, followed by a file name."""
    regex = re.escape(pattern.removeprefix(f"{RESULTS}/"))
    for wildcard, group in _GROUPS.items():
        regex = regex.replace(re.escape(wildcard), group)
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(regex + r"/[^/]+$")


_CLASSIFIER = _regex(CLASSIFIER_RUN)
_EXTRACTOR = _regex(EXTRACTOR_RUN)


def repeat_tag(repeat: int) -> str:
    """The path tag of training repeat `repeat` ('' for repeat 0)."""
    return f"-repeat{repeat}" if repeat else ""


def repeat_number(tag: str) -> int:
    """The repeat a path tag names: '' -> 0, '-repeat2' -> 2."""
    return int(tag.removeprefix("-repeat")) if tag else 0


def classifier_result(path) -> dict:
    """A file of a classifier run (`sendflow.paths.CLASSIFIER_RUN`/<file>) -> its keys."""
    match = _CLASSIFIER.search(Path(path).as_posix())
    if not match:
        raise ValueError(
            f"{path}: not a classifier result path "
            "(results/classifier/{extractor}/{classifier}/{labels}/fold{k}[-repeat{r}]/...)"
        )
    keys = match.groupdict()
    return {**keys, "fold": int(keys["fold"]), "repeat": int(keys["repeat"] or 0)}


def extractor_result(path) -> dict:
    """A file of an extractor run (`sendflow.paths.EXTRACTOR_RUN`/<file>) -> {extractor, scope, repeat}."""
    match = _EXTRACTOR.search(Path(path).as_posix())
    if not match:
        raise ValueError(
            f"{path}: not an extractor result path "
            "(results/extractor/{extractor}/{fold<k>|shared}[-repeat{r}]/...)"
        )
    keys = match.groupdict()
    return {**keys, "repeat": int(keys["repeat"] or 0)}
