"""Names the workflow, the models and the tests share: one place for each list."""

# SENDv1's release splits, and the roles a clip plays in a fold (select: model selection).
SPLITS = ("Train", "Valid", "Test")
ROLES = ("train", "select", "test")
# Scores of a model on its test clips, as metrics.json and summary.csv hold them.
METRICS = ("ccc", "ccc_pooled", "pearson_r", "rmse", "accuracy", "macro_f1", "kappa", "edit", "f1@10", "f1@25", "f1@50")
# Frame extractors: ResNet with residual channel attention, and the plain ResNet ablation: the
# learned feature sources (the others, tables and fusions, are named in the config:
# sendflow/sources/).
EXTRACTORS = ("resattn", "resnet")
# The temporal models (classifiers) are plug-ins, named by the schema: sendflow/models/registry.py.
FEATURE_BLIND = ("mean",)  # ignore the features: comparing feature sources through them says nothing


# What a temporal model predicts: valence classes, continuous valence, or both from one model.
TASKS = ("multitask", "classification", "regression")
REGRESSION_LOSSES = ("ccc", "mse")
SELECT_METRICS = ("ccc", "f1")
# The settings each training job reads: its rule passes exactly these, and its resume
# checkpoint is keyed on them (less the runtime ones, which may change between a killed run
# and its resumption).
EXTRACTOR_SETTINGS = (
    "depth",
    "width",
    "reduction",
    "weights",
    "regression",
    "regression_weight",
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "warmup_epochs",
    "patience",
    "min_epochs",
    "restarts",
    "takeoff_epochs",
    "takeoff_margin",
    "select_metric",
    "label_smoothing",
    "balance",
    "device",
    "num_workers",
)
EXTRACTOR_RUNTIME = ("device", "num_workers")
# From classifier.training: what the torch models read, and what the per-step baselines (fitted
# in closed form: no epochs, batches or losses) read. Each classifier adds its own section.
TEMPORAL_TRAINING = (
    "task",
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "patience",
    "select_metric",
    "regression_loss",
    "regression_weight",
    "speaker_norm",
    "classes_from",
    "allow_one_class",
    "device",
    "smooth_weight",
    "tau",
)
PER_STEP_TRAINING = ("task", "select_metric", "speaker_norm", "classes_from", "allow_one_class")
# Where a model's predicted classes come from: its class head, or the band its valence falls in.
CLASS_SOURCES = ("head", "valence")
CLASSIFIER_RUNTIME = ("epochs", "device")
# The frame settings that decide what a model sees: a model bundle keeps them, and
# `sendflow predict` cuts new videos with them.
FRAME_KEYS = (
    "fps",
    "size",
    "decode_width",
    "detect_width",
    "detector",
    "fallback_below",
    "face_crop",
    "margin",
    "smooth_window",
)

# The frame settings that decide whether a clip's frames are used without changing them: the
# frame check (rule face_report, sendflow.frames.check) reads them, the frame jobs do not.
FRAME_CHECK_KEYS = ("max_rating_overhang_s", "on_bad_video")
