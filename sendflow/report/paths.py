"""What a result file is about, read from its path (the stage contract fixes the layout)."""

import re
from pathlib import Path

_CLASSIFIER = re.compile(
    r"classifier/(?P<extractor>[^/]+)/(?P<classifier>[^/]+)/(?P<labels>[^/]+)/fold(?P<fold>\d+)/[^/]+$")
_EXTRACTOR = re.compile(r"extractor/(?P<extractor>[^/]+)/(?P<scope>fold\d+|shared)/[^/]+$")


def classifier_result(path) -> dict:
    """results/classifier/{extractor}/{classifier}/{labels}/fold{k}/<file> -> its keys."""
    match = _CLASSIFIER.search(Path(path).as_posix())
    if not match:
        raise ValueError(f"{path}: not a classifier result path "
                         "(results/classifier/{extractor}/{classifier}/{labels}/fold{k}/...)")
    keys = match.groupdict()
    return {**keys, "fold": int(keys["fold"])}


def extractor_result(path) -> dict:
    """results/extractor/{extractor}/{fold<k>|shared}/<file> -> {extractor, scope}."""
    match = _EXTRACTOR.search(Path(path).as_posix())
    if not match:
        raise ValueError(f"{path}: not an extractor result path "
                         "(results/extractor/{extractor}/{fold<k>|shared}/...)")
    return match.groupdict()
