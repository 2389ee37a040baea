"""Published SENDv1 results to set beside a run's Test scores in `official` mode: CCC on the
release's Test split from the visual channel alone (Emotient action units), and the human
benchmark (docs/send_layout.md). They were measured on the real data; the summary page says so."""

import pandas as pd

PUBLISHED_TEST_CCC = (  # (model, input, Test CCC)
    ("LSTM", "Emotient action units", 0.05),
    ("SFT (simple fusion transformer)", "Emotient action units", 0.09),
    ("human benchmark", "people rating the videos", 0.50),
)
PUBLISHED = "published, real SENDv1 Test"


def beside_published(summary: pd.DataFrame) -> pd.DataFrame:
    """Each model's Test CCC from this run, then the published figures, best first within each."""
    ours = summary.sort_values("ccc_mean", ascending=False)
    rows = [
        {
            "source": "this run, Test",
            "model": f"{r.extractor} + {r.classifier} ({r.labels})",
            "features": r.extractor,
            "test_ccc": r.ccc_mean,
        }
        for r in ours.itertuples()
    ]
    rows += [
        {"source": PUBLISHED, "model": model, "features": features, "test_ccc": ccc}
        for model, features, ccc in PUBLISHED_TEST_CCC
    ]
    return pd.DataFrame(rows)
