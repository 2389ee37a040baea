"""The questions the paired comparisons answer, in the order the report lists them."""

# (key, factor, candidates, references or None for every other value, title); candidates None:
# every pair of values the questions before it leave out, once each (the candidate is the later
# of the two in the order of the per-fold table, which is sorted by name)
QUESTIONS = (
    ("attention", "extractor", ("resattn",), ("resnet",), "Channel attention: resattn vs plain resnet"),
    (
        "units",
        "extractor",
        ("resattn", "resnet"),
        ("emotient",),
        "Learned features vs Emotient action units, on the clips both have",
    ),
    (
        "fusion",
        "extractor",
        ("fused",),
        ("emotient",),
        "Does the learned extractor add to the action units: fused vs emotient",
    ),
    (
        "sources",
        "extractor",
        None,
        None,
        "Which feature source: every other pair of sources, on the clips both have",
    ),
    ("temporal", "classifier", ("mstcn",), None, "Temporal model: MS-TCN vs each baseline"),
    ("labels", "labels", ("nine",), ("three",), "Refined labels: nine classes vs three"),
)
