"""Names the workflow, the models and the tests share: one place for each list."""

CLASSIFIERS = ("mstcn", "sstcn", "bigru", "framewise", "mean")
TORCH_CLASSIFIERS = ("mstcn", "sstcn", "bigru")  # trained by gradient descent; may use a GPU
# What a temporal model predicts: valence classes, continuous valence, or both from one model.
TASKS = ("multitask", "classification", "regression")
REGRESSION_LOSSES = ("ccc", "mse")
SELECT_METRICS = ("ccc", "f1")
