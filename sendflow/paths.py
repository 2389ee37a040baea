"""Every output path of the workflow, as Snakemake patterns (`{wildcard}`), in one place:
the rules, the scripts and the report read them from here.

A training repeat r >= 1 tags its fold folder and files `-repeat{r}` (`{repeat}`:
`fold0-repeat1/`, `fold0-repeat1.parquet`); repeat 0 has no tag, so a run with `repeats: 1`
keeps the layout it always had and raising `repeats` leaves repeat 0's files where they are.
"""

RESULTS = "results"
DEMO_MARKER = ".sendflow-demo"  # in data.demo.dir: the generator finished writing the demo dataset
INDEX_CLIPS = f"{RESULTS}/index/clips.parquet"
INDEX_FOLDS = f"{RESULTS}/index/folds.parquet"
FRAMES_DIR = f"{RESULTS}/frames"
FRAMES = f"{FRAMES_DIR}/{{clip}}.npz"
FACE_DETECTION = f"{FRAMES_DIR}/face_detection.tsv"
EXTRACTOR_RUN = f"{RESULTS}/extractor/{{extractor}}/{{scope}}{{repeat}}"  # model.pt, summary.json, history.csv
FEATURES = f"{RESULTS}/features/{{extractor}}/fold{{fold}}{{repeat}}.parquet"
# A table source's steps of every clip, and its per-fold standardised features (not trained: no repeats)
TABLE_STEPS = f"{RESULTS}/features/{{extractor}}/steps.parquet"
TABLE_FEATURES = f"{RESULTS}/features/{{extractor}}/fold{{fold}}.parquet"
CLASSIFIER_RUN = f"{RESULTS}/classifier/{{extractor}}/{{classifier}}/{{labels}}/fold{{fold}}{{repeat}}"
BUNDLE = f"{RESULTS}/model_zoo/{{extractor}}-{{classifier}}-{{labels}}"
METRICS_DIR = f"{RESULTS}/metrics"
FIGURES_DIR = f"{RESULTS}/figures"
REPORT_PAGES_DIR = f"{RESULTS}/report_pages"
REPORT = f"{RESULTS}/report.html"
BENCHMARKS_DIR = f"{RESULTS}/benchmarks"
LOGS_DIR = f"{RESULTS}/logs"


def log_path(job: str) -> str:
    """A job's log, by its name (a pattern such as `frames/{clip}`)."""
    return f"{LOGS_DIR}/{job}.log"


def benchmark_path(job: str) -> str:
    """A job's `benchmark:` file, by the same name as its log."""
    return f"{BENCHMARKS_DIR}/{job}.tsv"
