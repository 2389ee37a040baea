"""Published SENDv1 results to set beside a run's Test scores in `official` mode: the Test CCC
of the leaderboard in the SEND repository's README (github.com/StanfordSocialNeuroscienceLab/SEND),
per input modality, and the human benchmark. They were measured on the real data; the summary
page says so and shows, for each modality of this run's feature sources, the published rows
of that modality."""

import pandas as pd

PUBLISHED = "published, real SENDv1 Test"
LEADERBOARD = "SEND repository README, leaderboard"
HUMAN = "human benchmark"
# (model, modality, Test CCC); visual means SEND's Emotient action units, audio its eGeMAPS
# features, text GloVe embeddings over 5 s windows
PUBLISHED_TEST_CCC = (
    ("LSTM", "visual", 0.12),
    ("VRNN", "visual", 0.11),
    ("LSTM", "audio", 0.10),
    ("VRNN", "audio", 0.11),
    ("LSTM", "text", 0.38),
    ("VRNN", "text", 0.43),
    ("Transformer + LSTM", "text", 0.54),
    ("LSTM", "audio + visual", 0.10),
    ("VRNN", "audio + visual", 0.14),
    ("MFT (multimodal transformer)", "audio + visual", 0.06),
    ("LSTM", "audio + text + visual", 0.14),
    ("VRNN", "audio + text + visual", 0.17),
    ("MFT (multimodal transformer)", "audio + text + visual", 0.42),
    (HUMAN, "people rating the videos", 0.50),
)


def beside_published(summary: pd.DataFrame, modalities: dict[str, str]) -> pd.DataFrame:
    """Each model's Test CCC from this run, best first, then the published figures of the
    modalities its feature sources read (`modalities`: source -> modality, as
    sendflow.sources.modality says), and the human benchmark."""
    ours = summary.sort_values("ccc_mean", ascending=False)
    rows = [
        {
            "source": "this run, Test",
            "model": f"{r.extractor} + {r.classifier} ({r.labels})",
            "modality": modalities.get(r.extractor, "unknown"),
            "test_ccc": r.ccc_mean,
        }
        for r in ours.itertuples()
    ]
    present = {row["modality"] for row in rows}
    rows += [
        {"source": f"{PUBLISHED} ({LEADERBOARD})", "model": model, "modality": modality, "test_ccc": ccc}
        for model, modality, ccc in PUBLISHED_TEST_CCC
        if modality in present or model == HUMAN
    ]
    return pd.DataFrame(rows)
