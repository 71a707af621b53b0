"""scikit-learn estimators over adakit's C++ learners.

    from adakit.sklearn import LogisticRegression
    clf = LogisticRegression(optimizer="adagrad", lr=0.5, epochs=10,
                             optimizer_options={"initial_accumulator_value": 1}).fit(X, y)
    clf.predict(X_test); clf.predict_proba(X_test); clf.score(X_test, y_test)

Sparse linear models (include/adakit/linear/, trained by linear::fit): LogisticRegression (binary:
logistic; more classes: softmax), SoftmaxRegression (softmax for any number of classes) and
LinearRegression (squared loss), with optimizer = "adagrad" | "adagrad-l1" | "adagrad-rda" | "ftrl" |
"sgd" (and any later entry of the linear registry). X is dense or scipy.sparse; a CSR matrix with
float32 data and int32 indices is used in place (indptr int32 or int64), other inputs are converted
once. Training is per example (batch_size 1 by default), in seeded shuffled order, and costs
O(nonzeros) per step.

MLPClassifier: nn::mlp (linear layers with an activation between them) trained by train::fit with
any optimizer of adakit's registry, on dense float32 features.

All release the GIL while they train and predict, and follow scikit-learn's estimator API (fit,
predict, predict_proba, decision_function, score, get_params / set_params, pickling).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.extmath import softmax as _softmax
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state

from . import _adakit

__all__ = ["LogisticRegression", "SoftmaxRegression", "LinearRegression", "MLPClassifier", "linear_optimizer_names"]


def linear_optimizer_names():
    """The optimizers the sparse linear models take (include/adakit/linear/registry.hpp)."""
    return [info[0] for info in _adakit.linear_optimizers()]


def _csr_args(X):
    """(rows, cols, indptr, indices, data) of X for the C++ side. A CSR matrix's arrays are passed as
    they are when their dtypes fit (data float32, indices int32, indptr int32/int64); only an array of
    another dtype is converted (e.g. float64 data: one float32 copy of the values)."""
    if not sp.issparse(X):
        X = sp.csr_matrix(np.asarray(X, dtype=np.float32))
    elif X.format != "csr":
        X = X.tocsr()
    if X.shape[1] >= 2**31:
        raise ValueError(f"X has {X.shape[1]} columns; adakit's column ids are int32")
    data = X.data if X.data.dtype == np.float32 else X.data.astype(np.float32)
    indices = X.indices if X.indices.dtype == np.int32 else X.indices.astype(np.int32)
    indptr = X.indptr if X.indptr.dtype in (np.int32, np.int64) else X.indptr.astype(np.int64)
    return (X.shape[0], X.shape[1], np.ascontiguousarray(indptr), np.ascontiguousarray(indices),
            np.ascontiguousarray(data))


def _seed(random_state):
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


class _LinearBase(BaseEstimator):
    """Shared by the sparse linear models: options, fitting, scoring."""

    _task = None  # "logistic" | "softmax" | "squared"; None: chosen from the classes

    def __init__(self, optimizer="adagrad", lr=0.1, l1=0.0, l2=0.0, epochs=10, batch_size=1, fit_intercept=True,
                 shuffle=True, random_state=None, optimizer_options=None):
        self.optimizer = optimizer
        self.lr = lr
        self.l1 = l1
        self.l2 = l2
        self.epochs = epochs
        self.batch_size = batch_size
        self.fit_intercept = fit_intercept
        self.shuffle = shuffle
        self.random_state = random_state
        self.optimizer_options = optimizer_options

    def _options(self):
        names = {info[0]: {o[0] for o in info[3]} for info in _adakit.linear_optimizers()}
        if self.optimizer not in names:
            raise ValueError(f"optimizer={self.optimizer!r}: expected one of {', '.join(names)}")
        keys = names[self.optimizer]
        options = dict(self.optimizer_options or {})
        # lr is the step size: FTRL-Proximal calls it alpha (McMahan et al. 2013).
        options.setdefault("alpha" if "alpha" in keys and "lr" not in keys else "lr", self.lr)
        for key in ("l1", "l2"):
            value = getattr(self, key)
            if key in keys:
                options.setdefault(key, value)
            elif value:
                raise ValueError(f"optimizer={self.optimizer!r} has no {key} regularisation "
                                 "(adagrad-l1, adagrad-rda, ftrl and sgd have)")
        return options

    def _fit(self, X, y, labels=None, targets=None, classes=2, task=None):
        model = _adakit.LinearModel(task, X.shape[1], classes, bool(self.fit_intercept))
        self.history_ = _adakit.linear_fit(model, self.optimizer, self._options(), _csr_args(X), labels=labels,
                                           targets=targets, epochs=int(self.epochs), batch_size=int(self.batch_size),
                                           seed=_seed(self.random_state), shuffle=bool(self.shuffle))
        self.model_ = model
        self.coef_ = model.weights.T  # [outputs, n_features], a copy of the model's weights
        self.intercept_ = model.bias
        self.n_iter_ = int(self.epochs)
        return self

    def _scores(self, X):
        check_is_fitted(self, "model_")
        X = self._validate_data(X, accept_sparse="csr", dtype=(np.float32, np.float64), reset=False)
        return _adakit.linear_decision_function(self.model_, _csr_args(X))


class _LinearClassifier(ClassifierMixin, _LinearBase):
    def fit(self, X, y):
        """Trains on X (dense or sparse, [n_samples, n_features]) and class labels y; returns self."""
        X, y = self._validate_data(X, y, accept_sparse="csr", dtype=(np.float32, np.float64))
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; the data contain only "
                             f"one class: {self.classes_[0]!r}")
        task = self._task or ("logistic" if len(self.classes_) == 2 else "softmax")
        return self._fit(X, y, labels=labels.astype(np.int32), classes=len(self.classes_), task=task)

    def decision_function(self, X):
        """Scores [n_samples, n_classes]; for two classes, scikit-learn's [n_samples] (> 0: classes_[1]):
        the logistic score, or the difference of the two softmax scores."""
        z = self._scores(X)
        if z.shape[1] == 1:
            return z.ravel()
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict(self, X):
        z = self._scores(X)  # first: NotFittedError before fit
        return self.classes_[(z[:, 0] > 0).astype(np.intp) if z.shape[1] == 1 else z.argmax(axis=1)]

    def predict_proba(self, X):
        """Class probabilities [n_samples, n_classes], in float64 from the float32 scores."""
        z = self._scores(X).astype(np.float64)
        if z.shape[1] == 1:
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p1, p1])
        return _softmax(z, copy=False)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


class LogisticRegression(_LinearClassifier):
    """Logistic regression (binary) or softmax regression (more classes), trained per example by one of
    adakit's lazy sparse optimizers.

    optimizer: "adagrad" (lazy AdaGrad, PyTorch semantics), "adagrad-l1" (composite mirror descent),
    "adagrad-rda" (regularised dual averaging), "ftrl" (FTRL-Proximal), "sgd" (proximal SGD).
    lr: step size (FTRL's alpha). l1, l2: regularisation (not for "adagrad").
    epochs, batch_size, shuffle, random_state: the training loop (mean gradient over each batch).
    optimizer_options: any further option of the optimizer, e.g. {"initial_accumulator_value": 1}.
    """


class SoftmaxRegression(_LinearClassifier):
    """Softmax (multinomial) regression for any number of classes, 2 included; see LogisticRegression."""

    _task = "softmax"


class LinearRegression(RegressorMixin, _LinearBase):
    """Linear regression (squared loss ½(z − y)²) trained per example by one of adakit's lazy sparse
    optimizers; parameters as LogisticRegression's."""

    def fit(self, X, y):
        X, y = self._validate_data(X, y, accept_sparse="csr", dtype=(np.float32, np.float64), y_numeric=True)
        return self._fit(X, y, targets=np.ascontiguousarray(y, dtype=np.float32), task="squared")

    def predict(self, X):
        return self._scores(X)[:, 0]


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier (softmax cross-entropy) trained by adakit's training loop.

    hidden_layer_sizes: units of each hidden layer. activation: "relu" | "tanh" | "sigmoid".
    optimizer: any name of adakit's registry (adakit.optimizer_names()), lr its learning rate,
    optimizer_options any further option of it. epochs, batch_size, shuffle, random_state: the
    training loop (random_state also seeds the initial weights). n_threads: threads for the kernels
    (0: adakit.set_num_threads' setting).
    """

    def __init__(self, hidden_layer_sizes=(32,), activation="relu", optimizer="adagrad", lr=0.1, epochs=30,
                 batch_size=16, shuffle=True, random_state=None, optimizer_options=None, n_threads=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.optimizer_options = optimizer_options
        self.n_threads = n_threads

    def fit(self, X, y):
        """Trains on dense X [n_samples, n_features] and class labels y; returns self."""
        X, y = self._validate_data(X, y, dtype=np.float32, order="C")
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"MLPClassifier needs samples of at least 2 classes; the data contain only one class: "
                             f"{self.classes_[0]!r}")
        hidden = [int(h) for h in np.atleast_1d(self.hidden_layer_sizes)]
        rng = check_random_state(self.random_state)
        model = _adakit.MLP(X.shape[1], hidden, len(self.classes_), self.activation, int(rng.randint(0, 2**31 - 1)))
        options = dict(self.optimizer_options or {})
        options.setdefault("lr", self.lr)
        self.history_ = model.fit(X, labels.astype(np.int32), self.optimizer, options, int(self.epochs),
                                  int(self.batch_size), int(rng.randint(0, 2**31 - 1)), bool(self.shuffle),
                                  int(self.n_threads))
        self.model_ = model
        self.n_iter_ = int(self.epochs)
        return self

    def _logits(self, X):
        check_is_fitted(self, "model_")
        X = self._validate_data(X, dtype=np.float32, order="C", reset=False)
        return self.model_.outputs(X, int(self.n_threads))

    def decision_function(self, X):
        """Logits [n_samples, n_classes] (binary: the logit of classes_[1] minus that of classes_[0])."""
        z = self._logits(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict(self, X):
        z = self._logits(X)  # first: NotFittedError before fit
        return self.classes_[z.argmax(axis=1)]

    def predict_proba(self, X):
        return _softmax(self._logits(X).astype(np.float64), copy=False)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))
