"""What a result file is about, read from its path (the stage contract fixes the layout).

A training repeat r >= 1 tags its fold folder and files `-repeat{r}` (`fold0-repeat1/`,
`fold0-repeat1.parquet`); repeat 0 has no tag, so a run with `repeats: 1` keeps the layout it
always had and raising `repeats` leaves repeat 0's files where they are.
"""

import re
from pathlib import Path

REPEAT_TAG = r"(-repeat[1-9]\d*)?"  # the `{repeat}` wildcard: empty for repeat 0
_CLASSIFIER = re.compile(r"classifier/(?P<extractor>[^/]+)/(?P<classifier>[^/]+)/(?P<labels>[^/]+)/"
                         r"fold(?P<fold>\d+)(?:-repeat(?P<repeat>\d+))?/[^/]+$")
_EXTRACTOR = re.compile(r"extractor/(?P<extractor>[^/]+)/(?P<scope>fold\d+|shared)(?:-repeat(?P<repeat>\d+))?/[^/]+$")


def repeat_tag(repeat: int) -> str:
    """The path tag of training repeat `repeat` ('' for repeat 0)."""
    return f"-repeat{repeat}" if repeat else ""


def repeat_number(tag: str) -> int:
    """The repeat a path tag names: '' -> 0, '-repeat2' -> 2."""
    return int(tag.removeprefix("-repeat")) if tag else 0


def classifier_result(path) -> dict:
    """results/classifier/{extractor}/{classifier}/{labels}/fold{k}[-repeat{r}]/<file> -> its keys."""
    match = _CLASSIFIER.search(Path(path).as_posix())
    if not match:
        raise ValueError(f"{path}: not a classifier result path "
                         "(results/classifier/{extractor}/{classifier}/{labels}/fold{k}[-repeat{r}]/...)")
    keys = match.groupdict()
    return {**keys, "fold": int(keys["fold"]), "repeat": int(keys["repeat"] or 0)}


def extractor_result(path) -> dict:
    """results/extractor/{extractor}/{fold<k>|shared}[-repeat{r}]/<file> -> {extractor, scope, repeat}."""
    match = _EXTRACTOR.search(Path(path).as_posix())
    if not match:
        raise ValueError(f"{path}: not an extractor result path "
                         "(results/extractor/{extractor}/{fold<k>|shared}[-repeat{r}]/...)")
    keys = match.groupdict()
    return {**keys, "repeat": int(keys["repeat"] or 0)}
