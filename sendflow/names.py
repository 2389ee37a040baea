"""Names the workflow, the models and the tests share: one place for each list."""

# Frame extractors: ResNet with residual channel attention, and the plain ResNet ablation.
EXTRACTORS = ("resattn", "resnet")
CLASSIFIERS = ("mstcn", "sstcn", "bigru", "framewise", "mean")
TORCH_CLASSIFIERS = ("mstcn", "sstcn", "bigru")  # trained by gradient descent; may use a GPU
# What a temporal model predicts: valence classes, continuous valence, or both from one model.
TASKS = ("multitask", "classification", "regression")
REGRESSION_LOSSES = ("ccc", "mse")
SELECT_METRICS = ("ccc", "f1")
# The frame settings that decide what a model sees: a model bundle keeps them, and
# `sendflow predict` cuts new videos with them.
FRAME_KEYS = ("fps", "size", "decode_width", "detect_width", "detector", "face_crop", "margin",
              "smooth_window")
