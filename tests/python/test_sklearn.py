"""adakit.sklearn: scikit-learn's own estimator checks, the linear models against a float64 NumPy
re-implementation, and CSR input used in place."""

import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is not installed (Debian: python3-sklearn); adakit.sklearn untested")
sp = pytest.importorskip("scipy.sparse", reason="scipy is not installed (Debian: python3-scipy)")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from adakit.sklearn import (LinearRegression, LogisticRegression, MLPClassifier,  # noqa: E402
                            SoftmaxRegression, _csr_args)

# Every check of scikit-learn's suite runs, and none is expected to fail: an estimator that needed an
# exception would declare it in its _more_tags()["_xfail_checks"] with the reason, and
# parametrize_with_checks would list it here as XFAIL. None does. One check cannot apply on a machine
# without pandas: check_dataframe_column_names_consistency builds pandas DataFrames, and scikit-learn
# itself skips it then ("pandas is not installed: not checking estimators for pandas objects", shown by
# `pytest -rs`; ctest runs with -rs). Debian's python3-pandas makes it run.
ESTIMATORS = [LogisticRegression(), SoftmaxRegression(), LinearRegression(), MLPClassifier()]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def lazy_adagrad_logistic(X, y, lr, s0, epochs):
    """Binary logistic regression, one example per step in row order, AdaGrad (PyTorch's formula) on
    every weight and the bias, in float64."""
    n, d = X.shape
    w, b = np.zeros(d), 0.0
    sw, sb = np.full(d, s0), s0
    for _ in range(epochs):
        for i in range(n):
            g = 1.0 / (1.0 + np.exp(-(X[i] @ w + b))) - y[i]
            gw = g * X[i]
            sw += gw * gw
            w -= lr * gw / (np.sqrt(sw) + 1e-10)
            sb += g * g
            b -= lr * g / (np.sqrt(sb) + 1e-10)
    return w, b


def test_logistic_regression_matches_a_numpy_reference():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6)) * (rng.random((40, 6)) < 0.5)
    y = (X @ rng.standard_normal(6) > 0).astype(int)
    clf = LogisticRegression(lr=0.3, epochs=3, shuffle=False, optimizer_options={"initial_accumulator_value": 0.1})
    clf.fit(sp.csr_matrix(X.astype(np.float32)), y)
    w, b = lazy_adagrad_logistic(X.astype(np.float32).astype(np.float64), y, 0.3, 0.1, 3)
    np.testing.assert_allclose(clf.coef_[0], w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.intercept_[0], b, rtol=1e-5, atol=1e-6)
    z = X @ w + b
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-5, atol=1e-6)


def test_float32_csr_arrays_are_used_in_place():
    X = sp.random(50, 30, density=0.2, format="csr", dtype=np.float32, random_state=1)
    rows, cols, indptr, indices, data = _csr_args(X)
    assert (rows, cols) == X.shape
    assert indptr is X.indptr and indices is X.indices and data is X.data  # no copy
    X64 = X.astype(np.float64)
    _, _, indptr, indices, data = _csr_args(X64)
    assert indices is X64.indices and data.dtype == np.float32  # only the values converted


def test_optimizers_and_regression_learn():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 10)).astype(np.float32)
    coef = rng.standard_normal(10)
    y_cls = np.digitize(X @ coef, [-1.0, 1.0])  # 3 classes
    for optimizer, extra in [("adagrad", {}), ("adagrad-l1", {"l1": 1e-4}), ("adagrad-rda", {"l1": 1e-4}),
                             ("ftrl", {"lr": 0.5}), ("sgd", {})]:
        clf = SoftmaxRegression(optimizer=optimizer, random_state=0, **extra).fit(X, y_cls)
        assert clf.score(X, y_cls) > 0.85, optimizer
    reg = LinearRegression(lr=0.5, epochs=20, random_state=0).fit(sp.csr_matrix(X), X @ coef + 3.0)
    np.testing.assert_allclose(reg.coef_[0], coef, atol=0.05)
    assert reg.intercept_[0] == pytest.approx(3.0, abs=0.05)
    with pytest.raises(ValueError, match="no l1"):
        LogisticRegression(l1=0.1).fit(X, y_cls)
    with pytest.raises(ValueError, match="optimizer"):
        LogisticRegression(optimizer="nope").fit(X, y_cls)


def test_mlp_learns_and_pickles():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 4)).astype(np.float32)
    y = np.where(X[:, 0] * X[:, 1] > 0, "same", "other")  # not linearly separable
    clf = MLPClassifier(hidden_layer_sizes=(16,), activation="tanh", epochs=60, random_state=0,
                        optimizer="adam", lr=0.01).fit(X, y)
    assert clf.score(X, y) > 0.9
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
