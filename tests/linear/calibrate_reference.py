# Prints the reference numbers of tests/linear/calibrate_test.cpp (not run by the tests): scikit-learn
# 1.2.1 and numpy 1.24.2 as packaged by Debian (/usr/bin/python3 tests/linear/calibrate_reference.py).
import numpy as np
from scipy.optimize import minimize
from sklearn.calibration import _sigmoid_calibration, CalibratedClassifierCV
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression

np.set_printoptions(precision=17)
f = np.array([-2.5, -1.7, -1.2, -0.9, -0.4, -0.1, 0.0, 0.3, 0.8, 1.1, 1.6, 2.4, -0.6, 0.5, 1.9, -1.4])
y = np.array([0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0])

# Platt: scikit-learn's fit (BFGS), and the exact optimum of the same objective (Lin, Lin and Weng's targets).
a, b = _sigmoid_calibration(f, y)
print("sklearn platt a b", repr(a), repr(b))
npos, nneg = y.sum(), len(y) - y.sum()
t = np.where(y == 1, (npos + 1) / (npos + 2), 1 / (nneg + 2))
def obj(ab):
    z = ab[0] * f + ab[1]
    return np.sum(t * z + np.logaddexp(0, -z))  # -t log p - (1-t) log(1-p), p = 1/(1+e^z)
r = minimize(obj, [0.0, np.log((nneg + 1) / (npos + 1))], method="BFGS", options={"gtol": 1e-12})
print("exact platt a b", repr(r.x[0]), repr(r.x[1]))

# Isotonic, with ties in x, probed inside, on and outside the breakpoints.
xi = np.array([3.0, 1.0, 2.0, 2.0, 5.0, 4.0, 6.0, 7.0, 7.0, 8.0])
yi = np.array([1, 0, 1, 0, 0, 1, 1, 0, 1, 1])
ir = IsotonicRegression(out_of_bounds="clip").fit(xi, yi)
print("iso x", ir.X_thresholds_.tolist())
print("iso y", ir.y_thresholds_.tolist())
q = np.array([0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.5, 6.5, 7.5, 8.0, 9.0])
print("iso predict", ir.predict(q).tolist())

# Multiclass: CalibratedClassifierCV(cv="prefit") over fixed decision scores (one-vs-rest, normalised).
class Fixed(ClassifierMixin, BaseEstimator):
    def __init__(self, scores): self.scores = scores
    def fit(self, X, y): return self
    def decision_function(self, X): return self.scores[X[:, 0].astype(int)]
rng = np.random.RandomState(0)
S = np.round(rng.randn(30, 3), 2)
Y = np.array([int(np.argmax(S[i] + rng.randn(3) * 0.8)) for i in range(30)])
est = Fixed(S); est.classes_ = np.array([0, 1, 2])
X = np.arange(30).reshape(-1, 1)
print("scores", S.tolist())
print("labels", Y.tolist())
for method in ["sigmoid", "isotonic"]:
    cc = CalibratedClassifierCV(est, cv="prefit", method=method).fit(X, Y)
    print(method, "proba rows 0..4", cc.predict_proba(X[:5]).tolist())
