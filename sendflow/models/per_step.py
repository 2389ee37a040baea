"""Per-step baselines without time: each 0.5 s step on its own (framewise), or no features at
all (mean). Their interface: `fit(sequences)` with (features [T, D], classes [T], valence [T])
triples (class -1 / valence NaN = unrated), and `predict(features)` -> (class probabilities
[T, C] or None, valence [T] or None), by task.
"""

import numpy as np

from .heads import output_channels


def _stack(sequences):
    """All steps of all sequences: features [N, D], classes [N], valence [N]."""
    return tuple(np.concatenate(parts) for parts in zip(*sequences))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


class PerStepModel:
    """A per-step model for classes and/or valence, as the task asks. What it learns is a few
    arrays (`params`), saved and restored like a torch model's state_dict but as NumPy arrays:
    a baseline's job never imports torch (seconds of start-up for a model that trains in
    milliseconds)."""

    def __init__(self, in_dim: int, num_classes: int, task: str):
        output_channels(task, num_classes)  # validates the task
        self.num_classes, self.task = num_classes, task
        self.classes, self.valence = task != "regression", task != "classification"
        self.params: dict[str, np.ndarray] = {}

    def fit(self, sequences):
        x, y, v = _stack(sequences)
        if self.classes:
            self._fit_classes(x[y >= 0], y[y >= 0].astype(int))
        if self.valence:
            self._fit_valence(x[~np.isnan(v)], v[~np.isnan(v)])
        return self

    def predict(self, features):
        return (
            self._probs(features).astype(np.float32) if self.classes else None,
            self._values(features).astype(np.float32) if self.valence else None,
        )

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.params.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]):
        self.params = {k: np.asarray(v) for k, v in state.items()}
        return self


class Framewise(PerStepModel):
    """Each step on its own: standardised features into a class-balanced logistic regression
    (classes) and a ridge regression (valence). scikit-learn fits them; prediction uses the
    fitted arrays (softmax of x W + b, and x w + b)."""

    def __init__(self, in_dim: int, num_classes: int, task: str, *, C: float, alpha: float, max_iter: int = 1000):
        super().__init__(in_dim, num_classes, task)
        self.C, self.alpha, self.max_iter = C, alpha, max_iter

    def _fit_classes(self, x, y):
        from sklearn.linear_model import LogisticRegression  # imported only where it is used

        mean, scale = _moments(x)
        present = np.unique(y)
        weights, bias = np.zeros((len(present), x.shape[1])), np.zeros(len(present))
        if len(present) > 1:  # a one-class training set is possible on tiny data
            fit = LogisticRegression(C=self.C, class_weight="balanced", max_iter=self.max_iter)
            fit.fit((x - mean) / scale, y)
            # binary: sklearn keeps one row for the second class; softmax([0, z]) = sigmoid
            weights[-len(fit.coef_) :], bias[-len(fit.intercept_) :] = fit.coef_, fit.intercept_
        self.params.update(
            class_mean=mean, class_scale=scale, class_weights=weights, class_bias=bias, class_ids=present
        )

    def _fit_valence(self, x, v):
        from sklearn.linear_model import Ridge

        mean, scale = _moments(x)
        fit = Ridge(alpha=self.alpha).fit((x - mean) / scale, v)
        self.params.update(
            valence_mean=mean,
            valence_scale=scale,
            valence_weights=fit.coef_,
            valence_bias=np.atleast_1d(fit.intercept_),
        )

    def _probs(self, features):
        p = self.params
        z = (features - p["class_mean"]) / p["class_scale"] @ p["class_weights"].T + p["class_bias"]
        probs = np.zeros((len(features), self.num_classes))
        probs[:, p["class_ids"]] = _softmax(z)  # classes unseen in training: 0
        return probs

    def _values(self, features):
        p = self.params
        return (features - p["valence_mean"]) / p["valence_scale"] @ p["valence_weights"] + p["valence_bias"][0]


def _moments(x):
    """Mean and standard deviation per feature (constant features get scale 1), as
    scikit-learn's StandardScaler computes them."""
    mean, scale = x.mean(0), x.std(0)
    return mean, np.where(scale < 10 * np.finfo(scale.dtype).eps, 1.0, scale)


class Mean(PerStepModel):
    """No features: the training class frequencies (argmax = majority class) and mean valence."""

    def _fit_classes(self, x, y):
        self.params["frequencies"] = np.bincount(y, minlength=self.num_classes) / max(len(y), 1)

    def _fit_valence(self, x, v):
        self.params["mean"] = np.array([v.mean() if len(v) else 0.0])

    def _probs(self, features):
        return np.tile(self.params["frequencies"], (len(features), 1))

    def _values(self, features):
        return np.full(len(features), self.params["mean"][0])
