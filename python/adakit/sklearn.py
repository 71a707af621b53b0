"""scikit-learn estimators over adakit's C++ learners.

    from adakit.sklearn import LogisticRegression
    clf = LogisticRegression(optimizer="adagrad", lr=0.5, epochs=10,
                             optimizer_options={"initial_accumulator_value": 1}).fit(X, y)
    clf.predict(X_test); clf.predict_proba(X_test); clf.score(X_test, y_test)

Sparse linear models (include/adakit/linear/, trained by linear::fit): LogisticRegression (binary:
logistic; more classes: softmax), SoftmaxRegression (softmax for any number of classes), LinearSVC
(squared hinge, one-vs-rest) and LinearRegression (squared loss), with optimizer = "adagrad" | "adagrad-l1" | "adagrad-rda" | "ftrl" |
"sgd" (and any later entry of the linear registry). X is dense or scipy.sparse; a CSR matrix with
float32 data and int32 indices is used in place (indptr int32 or int64), other inputs are converted
once. Training is per example (batch_size 1 by default), in seeded shuffled order, and costs
O(nonzeros) per step.

MLPClassifier: nn::mlp (linear layers with an activation between them) trained by train::fit with
any optimizer of adakit's registry, on dense float32 features.

All release the GIL while they train and predict, and follow scikit-learn's estimator API (fit,
predict, predict_proba, decision_function, score, get_params / set_params, pickling).

Online learning, as scikit-learn's SGDClassifier and MLPClassifier do it:

    clf = LogisticRegression(optimizer="ftrl", l1=1.0)
    for X_chunk, y_chunk in chunks:
        clf.partial_fit(X_chunk, y_chunk, classes=[0, 1])  # classes: needed on the first call only

- partial_fit(X, y[, classes]) is one pass (one epoch) over the rows of X IN THEIR ORDER (never
  shuffled), batch_size rows a step, continuing the same model and the same optimizer state
  (accumulators, step count) as the previous partial_fit or fit. Classifiers need `classes` (every
  label there will ever be) on the first call; a later call's labels must be among classes_, and X
  must keep its number of columns (ValueError otherwise).
- warm_start=True: fit continues from the previous fit's (or partial_fit's) weights and optimizer
  state for its `epochs` epochs, instead of starting afresh; y's labels must be among classes_.
  warm_start=False (the default): each fit starts from zero weights (MLP: fresh initial weights) and a
  fresh optimizer state.
- Exact: the sparse linear models with batch_size=1 (or any batch_size that divides the rows of
  every call but the last) end partial_fit(A); partial_fit(B) with the same coef_, intercept_ and
  optimizer state, bit for bit, as partial_fit(vstack(A, B)) and as fit with epochs=1, shuffle=False
  on vstack(A, B), for every optimizer, L1/L2 included; so does a warm-started fit(A); fit(B) with
  epochs=1, shuffle=False. (The learner never syncs its live model: the lazy weights of adagrad-l1,
  sgd and adagrad-rda stay as they are between calls, and model_ / coef_ are a synced copy.)
  MLPClassifier likewise when batch_size divides len(A).
- Continuing training needs the same optimizer and fit_intercept (MLP: hidden_layer_sizes and
  activation) as before (ValueError otherwise); changed optimizer options (lr, l1, optimizer_options,
  ...) apply from the next step on, the optimizer's state kept.
- Pickling keeps the optimizer state: an unpickled estimator's partial_fit continues bit for bit.
- history_: one dict of progressive metrics per epoch or partial_fit pass since training started
  afresh; n_iter_: their number.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.extmath import softmax as _softmax
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state

from . import _adakit

__all__ = ["LogisticRegression", "SoftmaxRegression", "LinearSVC", "LinearRegression", "MLPClassifier",
           "linear_optimizer_names"]


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


def _partial_fit_classes(estimator, classes, first):
    """partial_fit's `classes` (scikit-learn's convention): required on the first call, and on a later
    one the same as classes_. Returns the sorted classes."""
    if first:
        if classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        classes = np.unique(np.asarray(classes))
        if len(classes) < 2:
            raise ValueError(f"{type(estimator).__name__} needs at least 2 classes, got classes={classes!r}")
        return classes
    if classes is not None and not np.array_equal(estimator.classes_, np.unique(np.asarray(classes))):
        raise ValueError(f"`classes={classes!r}` is not the same as on last call to partial_fit, was: "
                         f"{estimator.classes_!r}")
    return estimator.classes_


def _class_ids(y, classes):
    """The position of each label of y in the sorted `classes` (int32); ValueError on a label not there."""
    ids = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
    unknown = classes[ids] != y
    if np.any(unknown):
        raise ValueError(f"y has labels that are not among the classes {classes!r}: {np.unique(y[unknown])!r}")
    return ids.astype(np.int32)


class _LinearBase(BaseEstimator):
    """Shared by the sparse linear models: options, training (fresh or continued), scoring.

    Fitted: learner_ (_adakit.LinearLearner: the live model, never synced, and its optimizer), model_
    (a synced copy of the model, _adakit.LinearModel, which predicts), coef_ [outputs, n_features],
    intercept_ [outputs], history_, n_iter_."""

    _task = None  # "logistic" | "softmax" | "squared"; None: chosen from the classes

    def __init__(self, optimizer="adagrad", lr=0.1, l1=0.0, l2=0.0, epochs=10, batch_size=1, fit_intercept=True,
                 shuffle=True, random_state=None, optimizer_options=None, warm_start=False):
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
        self.warm_start = warm_start

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

    def _more_tags(self):
        # As scikit-learn's SGDClassifier: a row of weight 0 still takes its place in the shuffled order
        # and in its minibatch (a batch's gradient is divided by its row count), so it is not the same
        # run as one without the row. Weight 1 is the same run as no weights (tests/python).
        return {"_xfail_checks": {"check_sample_weights_invariance":
                                  "zero sample_weight is not equivalent to removing samples: stochastic "
                                  "training keeps the row's place in the shuffle and in its minibatch"}}

    def _continues(self):
        """fit: whether it continues the fitted learner (warm_start) rather than starting afresh."""
        return bool(self.warm_start) and hasattr(self, "learner_")

    def _row_weights(self, n, labels=None, classes=None, sample_weight=None):
        """Each row's training weight (float32), or None when every row weighs 1: sample_weight times,
        for classifiers, class_weight[label] ("balanced": scikit-learn's compute_class_weight over these
        labels — the data of this fit, or of this partial_fit call)."""
        w = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.ndim == 0:
                w = np.full(n, float(w))
            if w.shape != (n,):
                raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n},)")
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError("sample_weight must be finite and >= 0")
        cw = getattr(self, "class_weight", None)
        if cw is not None and labels is not None:
            if isinstance(cw, str):
                if cw != "balanced":
                    raise ValueError(f"class_weight={cw!r}: expected 'balanced', a dict or None")
                from sklearn.utils.class_weight import compute_class_weight
                present = np.unique(labels)
                per_class = np.ones(len(classes))
                per_class[present] = compute_class_weight("balanced", classes=present, y=labels)
            elif isinstance(cw, dict):
                per_class = np.ones(len(classes))
                for key, value in cw.items():
                    hits = np.flatnonzero(classes == key)
                    if len(hits) == 0:
                        raise ValueError(f"class_weight has class {key!r}, not among the classes {classes!r}")
                    if not np.isfinite(value) or value < 0:
                        raise ValueError(f"class_weight[{key!r}] = {value!r} must be finite and >= 0")
                    per_class[hits[0]] = float(value)
            else:
                raise ValueError(f"class_weight={cw!r}: expected 'balanced', a dict or None")
            cw_rows = per_class[labels]
            w = cw_rows if w is None else w * cw_rows
        return None if w is None else np.ascontiguousarray(w, dtype=np.float32)

    def _train(self, X, labels=None, targets=None, classes=None, task=None, fresh=True, partial=False,
               sample_weight=None):
        """Trains a new learner (fresh) or the fitted one: `epochs` epochs of linear::fit, or (partial)
        one epoch over X's rows in order. Then sets classes_ (classifiers: `classes`), model_, coef_ and
        intercept_: only once training has succeeded."""
        options = self._options()
        if fresh:
            learner = _adakit.LinearLearner(task, X.shape[1], 2 if classes is None else len(classes),
                                            bool(self.fit_intercept), self.optimizer, options)
            history, n_iter = [], 0
        else:
            learner = self.learner_
            if learner.optimizer != self.optimizer or learner.fit_bias != bool(self.fit_intercept):
                raise ValueError(f"{type(self).__name__} was trained with optimizer={learner.optimizer!r}, "
                                 f"fit_intercept={learner.fit_bias}; it cannot continue with "
                                 f"optimizer={self.optimizer!r}, fit_intercept={self.fit_intercept!r} (fit with "
                                 "warm_start=False to start afresh)")
            learner.set_options(options)
            history, n_iter = self.history_, self.n_iter_
        if partial:
            epochs, seed, shuffle = 1, 0, False
        else:
            epochs, seed, shuffle = int(self.epochs), _seed(self.random_state), bool(self.shuffle)
        weights = self._row_weights(X.shape[0], labels, classes if classes is not None else getattr(self, "classes_", None),
                                    sample_weight)
        new = learner.fit(_csr_args(X), labels=labels, targets=targets, epochs=epochs, batch_size=int(self.batch_size),
                          seed=seed, shuffle=shuffle, weights=weights)
        for report in new:
            n_iter += 1
            report["epoch"] = n_iter
        if classes is not None:
            self.classes_ = classes
        self.learner_ = learner
        self.history_ = history + new
        self.n_iter_ = n_iter
        self.model_ = learner.snapshot()
        self.coef_ = self.model_.weights.T  # [outputs, n_features], a copy of the model's weights
        self.intercept_ = self.model_.bias
        return self

    def _scores(self, X):
        check_is_fitted(self, "model_")
        X = self._validate_data(X, accept_sparse="csr", dtype=(np.float32, np.float64), reset=False)
        return _adakit.linear_decision_function(self.model_, _csr_args(X))


class _LinearClassifier(ClassifierMixin, _LinearBase):
    def __init__(self, optimizer="adagrad", lr=0.1, l1=0.0, l2=0.0, epochs=10, batch_size=1, fit_intercept=True,
                 shuffle=True, random_state=None, optimizer_options=None, warm_start=False, class_weight=None):
        super().__init__(optimizer=optimizer, lr=lr, l1=l1, l2=l2, epochs=epochs, batch_size=batch_size,
                         fit_intercept=fit_intercept, shuffle=shuffle, random_state=random_state,
                         optimizer_options=optimizer_options, warm_start=warm_start)
        self.class_weight = class_weight

    def fit(self, X, y, sample_weight=None):
        """Trains on X (dense or sparse, [n_samples, n_features]) and class labels y for `epochs` epochs,
        afresh or (warm_start) continuing; returns self. sample_weight: one importance weight per row
        (its loss counts that many times), times class_weight's weight of its class."""
        fresh = not self._continues()
        X, y = self._validate_data(X, y, accept_sparse="csr", dtype=(np.float32, np.float64), reset=fresh)
        check_classification_targets(y)
        if not fresh:
            return self._train(X, labels=_class_ids(y, self.classes_), fresh=False, sample_weight=sample_weight)
        classes, labels = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; the data contain only "
                             f"one class: {classes[0]!r}")
        return self._train(X, labels=labels.astype(np.int32), classes=classes, task=self._task_for(classes),
                           sample_weight=sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One pass over the rows of X in their order (no shuffling), continuing the model and optimizer
        state of the previous partial_fit or fit. `classes`: every label, required on the first call.
        Returns self."""
        first = not hasattr(self, "learner_")
        classes = _partial_fit_classes(self, classes, first)
        X, y = self._validate_data(X, y, accept_sparse="csr", dtype=(np.float32, np.float64), reset=first)
        check_classification_targets(y)
        return self._train(X, labels=_class_ids(y, classes), classes=classes, task=self._task_for(classes),
                           fresh=first, partial=True, sample_weight=sample_weight)

    def _task_for(self, classes):
        return self._task or ("logistic" if len(classes) == 2 else "softmax")

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
    class_weight: None, "balanced" (n / (classes x rows of the class), scikit-learn's) or {label: weight};
    fit(X, y, sample_weight) and partial_fit(..., sample_weight) take one importance weight per row; a
    row's loss counts sample_weight x class_weight times (linear::FitOptions' weighted rows).
    warm_start: fit continues the previous training (weights and optimizer state) instead of starting
    afresh. partial_fit(X, y, classes): one pass over X in row order; see the module's docstring.
    """


class SoftmaxRegression(_LinearClassifier):
    """Softmax (multinomial) regression for any number of classes, 2 included; see LogisticRegression."""

    _task = "softmax"


class LinearSVC(_LinearClassifier):
    """L2-loss linear SVM (the squared hinge max(0, 1 − s z)², LIBLINEAR -s 2's loss and scikit-learn
    LinearSVC's default), one-vs-rest over more than two classes, trained per example by one of adakit's
    lazy sparse optimizers; parameters as LogisticRegression's (l2 is the penalty LIBLINEAR's C stands
    for: l2 = 1 / (C · n_samples) for the mean loss). Its scores are margins: decision_function and
    predict, no predict_proba (as scikit-learn's LinearSVC; calibrate it with CalibratedClassifierCV)."""

    _task = "squared_hinge"

    @property
    def predict_proba(self):
        raise AttributeError("LinearSVC gives margins (decision_function), not probabilities")

    @property
    def predict_log_proba(self):
        raise AttributeError("LinearSVC gives margins (decision_function), not probabilities")


class LinearRegression(RegressorMixin, _LinearBase):
    """Linear regression (squared loss ½(z − y)²) trained per example by one of adakit's lazy sparse
    optimizers; parameters as LogisticRegression's."""

    def fit(self, X, y, sample_weight=None):
        """Trains on X and targets y for `epochs` epochs, afresh or (warm_start) continuing; returns self.
        sample_weight: one importance weight per row."""
        fresh = not self._continues()
        X, y = self._validate_data(X, y, accept_sparse="csr", dtype=(np.float32, np.float64), y_numeric=True,
                                   reset=fresh)
        return self._train(X, targets=np.ascontiguousarray(y, dtype=np.float32), task="squared", fresh=fresh,
                           sample_weight=sample_weight)

    def partial_fit(self, X, y, sample_weight=None):
        """One pass over the rows of X in their order (no shuffling), continuing the model and optimizer
        state of the previous partial_fit or fit; returns self."""
        first = not hasattr(self, "learner_")
        X, y = self._validate_data(X, y, accept_sparse="csr", dtype=(np.float32, np.float64), y_numeric=True,
                                   reset=first)
        return self._train(X, targets=np.ascontiguousarray(y, dtype=np.float32), task="squared", fresh=first,
                           partial=True, sample_weight=sample_weight)

    def predict(self, X):
        return self._scores(X)[:, 0]


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier (softmax cross-entropy) trained by adakit's training loop.

    hidden_layer_sizes: units of each hidden layer. activation: "relu" | "tanh" | "sigmoid".
    optimizer: any name of adakit's registry (adakit.optimizer_names()), lr its learning rate,
    optimizer_options any further option of it. epochs, batch_size, shuffle, random_state: the
    training loop (random_state also seeds the initial weights). n_threads: threads for the kernels
    (0: adakit.set_num_threads' setting). warm_start: fit continues the previous training (weights and
    optimizer state) instead of starting afresh. partial_fit(X, y, classes): one pass over X in row
    order, batch_size rows a step; see the module's docstring.

    Fitted: model_ (_adakit.MLP: the network and its optimizer), classes_, history_, n_iter_.
    """

    def __init__(self, hidden_layer_sizes=(32,), activation="relu", optimizer="adagrad", lr=0.1, epochs=30,
                 batch_size=16, shuffle=True, random_state=None, optimizer_options=None, n_threads=0,
                 warm_start=False):
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
        self.warm_start = warm_start

    def fit(self, X, y):
        """Trains on dense X [n_samples, n_features] and class labels y for `epochs` epochs, afresh or
        (warm_start) continuing; returns self."""
        fresh = not (self.warm_start and hasattr(self, "model_"))
        X, y = self._validate_data(X, y, dtype=np.float32, order="C", reset=fresh)
        check_classification_targets(y)
        rng = check_random_state(self.random_state)
        init_seed = int(rng.randint(0, 2**31 - 1))  # drawn either way: the shuffling seed comes second
        if fresh:
            classes, labels = np.unique(y, return_inverse=True)
            if len(classes) < 2:
                raise ValueError(f"MLPClassifier needs samples of at least 2 classes; the data contain only one "
                                 f"class: {classes[0]!r}")
            self._start(X.shape[1], classes, init_seed)
            labels = labels.astype(np.int32)
        else:
            labels = _class_ids(y, self.classes_)
        return self._train(X, labels, int(self.epochs), int(rng.randint(0, 2**31 - 1)), bool(self.shuffle))

    def partial_fit(self, X, y, classes=None):
        """One pass over the rows of X in their order (no shuffling), batch_size rows a step, continuing
        the weights and optimizer state of the previous partial_fit or fit. `classes`: every label,
        required on the first call. Returns self."""
        first = not hasattr(self, "model_")
        classes = _partial_fit_classes(self, classes, first)
        X, y = self._validate_data(X, y, dtype=np.float32, order="C", reset=first)
        check_classification_targets(y)
        labels = _class_ids(y, classes)
        if first:
            self._start(X.shape[1], classes, int(check_random_state(self.random_state).randint(0, 2**31 - 1)))
        return self._train(X, labels, 1, 0, False)

    def _hidden(self):
        return [int(h) for h in np.atleast_1d(self.hidden_layer_sizes)]

    def _start(self, n_features, classes, seed):
        """A new network (initial weights from `seed`), with no optimizer yet."""
        self.classes_ = classes
        self.model_ = _adakit.MLP(n_features, self._hidden(), len(classes), self.activation, seed)
        self._architecture = (self._hidden(), self.activation)
        self.history_ = []
        self.n_iter_ = 0

    def _train(self, X, labels, epochs, seed, shuffle):
        if getattr(self, "_architecture", None) not in (None, (self._hidden(), self.activation)):
            raise ValueError(f"MLPClassifier was trained with hidden_layer_sizes={self._architecture[0]}, "
                             f"activation={self._architecture[1]!r}; it cannot continue with others (fit with "
                             "warm_start=False to start afresh)")
        options = dict(self.optimizer_options or {})
        options.setdefault("lr", self.lr)
        new = self.model_.fit(X, labels, self.optimizer, options, epochs, int(self.batch_size), seed, shuffle,
                              int(self.n_threads))
        for report in new:
            self.n_iter_ += 1
            report["epoch"] = self.n_iter_
        self.history_ = self.history_ + new
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
