"""adakit's optimizers over NumPy arrays: in-place steps against float64 references, every registry
optimizer through state_dict save/load/continue, row-sparse steps, param groups, strict array
checks, and the GIL released during a step."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import adakit


def rel_err(a, b):
    """The reference tolerance of tests/reference: |a - b| / max(|b|, 0.1)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 0.1))) if a.size else 0.0


def adagrad_reference(theta, grads, lr, lr_decay=0.0, weight_decay=0.0, s0=0.0, eps=1e-10):
    """torch.optim.Adagrad's formula in float64."""
    theta = theta.astype(np.float64).copy()
    s = np.full_like(theta, s0)
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64) + weight_decay * theta
        clr = lr / (1 + (t - 1) * lr_decay)
        s += g * g
        theta -= clr * g / (np.sqrt(s) + eps)
    return theta


def test_adagrad_steps_the_arrays_in_place_as_the_formula_says():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((7, 5)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    w0, b0, w_ptr = w.copy(), b.copy(), w.ctypes.data
    grads = [(rng.standard_normal(w.shape).astype(np.float32), rng.standard_normal(b.shape).astype(np.float32))
             for _ in range(30)]
    opt = adakit.Adagrad([w, b], lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.2)
    for gw, gb in grads:
        opt.step([gw, gb])
    assert w.ctypes.data == w_ptr and opt.params[0] is w  # the caller's array, stepped in place
    assert rel_err(w, adagrad_reference(w0, [g[0] for g in grads], 0.1, 0.01, 0.05, 0.2)) <= 1e-5
    assert rel_err(b, adagrad_reference(b0, [g[1] for g in grads], 0.1, 0.01, 0.05, 0.2)) <= 1e-5
    assert opt.steps == 30
    state = opt.state_dict()
    assert state["optimizer"] == "adagrad" and state["state"][0]["step"] == 30
    assert state["state"][0]["sum"].shape == (7, 5)
    assert state["param_groups"][0]["lr"] == 0.1 and state["param_groups"][0]["params"] == [0, 1]


def test_conventions_are_options():
    x = np.array([5.0], np.float32)
    opt = adakit.Adagrad([x], lr=1.0, convention="keras")  # s0 = 0.1, eps = 1e-7 inside the root
    opt.step([np.array([2.0], np.float32)])
    assert x[0] == pytest.approx(5.0 - 2.0 / np.sqrt(0.1 + 4.0 + 1e-7), rel=1e-6)
    assert opt.param_groups[0]["eps_mode"] == "inside"


@pytest.mark.parametrize("name", adakit.optimizer_names())
def test_every_optimizer_saves_loads_and_continues_bit_for_bit(name):
    rng = np.random.default_rng(1)
    shapes = [(6, 4), (4,)]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(8)]
    start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    cls = getattr(adakit, adakit._class_name(name))
    assert adakit.optimizer(name, [start[0].copy()]).name == name

    ref = [a.copy() for a in start]
    opt = cls(ref)
    for g in grads:
        opt.step(g)

    first = [a.copy() for a in start]
    opt1 = cls(first)
    for g in grads[:4]:
        opt1.step(g)
    saved = opt1.state_dict()
    resumed = [a.copy() for a in first]
    opt2 = cls(resumed)
    opt2.load_state_dict(saved)
    assert opt2.steps == 4
    for g in grads[4:]:
        opt2.step(g)
    for a, b in zip(resumed, ref):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(ref[0], start[0])  # it moved


def test_row_sparse_step_equals_the_dense_step_with_zero_rows():
    rng = np.random.default_rng(2)
    table = rng.standard_normal((10, 3)).astype(np.float32)
    dense_table = table.copy()
    sparse_opt = adakit.Adagrad([table], lr=0.5)
    dense_opt = adakit.Adagrad([dense_table], lr=0.5)
    for _ in range(5):
        idx = rng.integers(0, 10, size=6)  # duplicates are summed
        rows = rng.standard_normal((6, 3)).astype(np.float32)
        dense = np.zeros((10, 3), np.float32)
        np.add.at(dense, idx, rows)
        sparse_opt.step([(idx.astype(np.int64), rows)])
        dense_opt.step([dense])
    assert rel_err(table, dense_table) <= 1e-6
    with pytest.raises(ValueError, match="rows"):
        sparse_opt.step([(np.array([1, 2]), np.zeros((3, 3), np.float32))])
    with pytest.raises(ValueError, match="out of range"):
        sparse_opt.step([(np.array([10]), np.zeros((1, 3), np.float32))])
    with pytest.raises(ValueError, match="row-sparse"):  # SGD has no row-sparse kernel
        adakit.SGD([table], lr=0.1).step([(np.array([1]), np.zeros((1, 3), np.float32))])


def test_param_groups_none_gradients_and_option_changes():
    a, b = np.ones(3, np.float32), np.ones(3, np.float32)
    opt = adakit.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1)
    g = np.ones(3, np.float32)
    opt.step([g, None])  # b has no gradient: untouched, no state
    np.testing.assert_allclose(a, 0.9, rtol=1e-6)
    np.testing.assert_array_equal(b, 1.0)
    opt.step([None, g])
    np.testing.assert_allclose(b, 0.5, rtol=1e-6)
    opt.set_options(group=1, lr=0.25)
    opt.step([None, g])
    np.testing.assert_allclose(b, 0.25, rtol=1e-6)
    assert [grp["lr"] for grp in opt.param_groups] == [0.1, 0.25]
    assert opt.param_groups[1]["params"][0] is b
    c = np.ones(2, np.float32)
    opt.add_param_group({"params": [c], "momentum": 0.9})
    opt.step([None, None, np.ones(2, np.float32)])
    np.testing.assert_allclose(c, 0.9, rtol=1e-6)


def test_bad_arrays_raise_clear_errors_and_never_copy():
    good = np.zeros((3, 2), np.float32)
    with pytest.raises(TypeError, match="float64.*float32"):
        adakit.Adagrad([np.zeros(3)])
    with pytest.raises(TypeError, match="numpy.ndarray"):
        adakit.Adagrad([[0.0, 1.0]])
    with pytest.raises(ValueError, match="C-contiguous"):
        adakit.Adagrad([good.T])
    ro = np.zeros(3, np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        adakit.Adagrad([ro])
    with pytest.raises(ValueError, match="given twice"):
        adakit.Adagrad([good, good])
    with pytest.raises(TypeError, match="iterable"):
        adakit.Adagrad(good)
    with pytest.raises(ValueError, match="lr"):
        adakit.Adagrad([good], lr=-1.0)
    with pytest.raises(ValueError, match="unknown option|not_an_option"):
        adakit.Adagrad([good], not_an_option=1.0)
    opt = adakit.Adagrad([good])
    with pytest.raises(ValueError, match=r"shape \[2, 3\].*\[3, 2\]"):
        opt.step([np.zeros((2, 3), np.float32)])
    with pytest.raises(TypeError, match="float32"):
        opt.step([np.zeros((3, 2), np.float64)])
    with pytest.raises(ValueError, match="1 parameters"):
        opt.step([good, good])
    assert opt.steps == 0 and not good.any()  # failed steps change nothing


def test_load_state_dict_checks_before_changing_anything():
    w = np.ones(4, np.float32)
    opt = adakit.Adam([w], lr=0.1)
    opt.step([np.ones(4, np.float32)])
    saved = opt.state_dict()
    bad = {**saved, "state": {0: {**saved["state"][0], "exp_avg": np.zeros(5, np.float32)}}}
    with pytest.raises((ValueError, RuntimeError), match="exp_avg"):
        opt.load_state_dict(bad)
    with pytest.raises((ValueError, RuntimeError), match="adagrad"):
        adakit.Adagrad([np.ones(4, np.float32)]).load_state_dict(saved)
    assert opt.state_dict()["state"][0]["step"] == 1


def test_threads_give_the_same_result():
    rng = np.random.default_rng(3)
    g = rng.standard_normal(300_000).astype(np.float32)
    one, two = np.ones_like(g), np.ones_like(g)
    a, b = adakit.Adam([one]), adakit.Adam([two])
    for _ in range(3):
        a.step([g], threads=1)
        b.step([g], threads=2)
    np.testing.assert_array_equal(one, two)


def test_the_gil_is_released_during_a_step():
    """With a 10 s switch interval the main thread gets the GIL back from the worker only if the
    worker releases it: the main thread then runs while the worker is still inside its step."""
    w = np.zeros(1_000_000, np.float32)
    g = np.ones_like(w)
    opt = adakit.Adagrad([w])
    started, finished = threading.Event(), threading.Event()

    def worker():
        started.set()
        opt.step([g], threads=1)
        finished.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    try:
        t = threading.Thread(target=worker)
        t.start()
        started.wait()
        ran_during_step = not finished.is_set()
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert ran_during_step
    assert w[0] != 0.0


def test_adakit_imports_without_torch_and_sklearn():
    """torch and scikit-learn stay optional: hide them and import adakit in a fresh interpreter."""
    code = ("import sys; sys.modules['torch'] = None; sys.modules['sklearn'] = None\n"
            "import numpy as np, adakit\n"
            "w = np.ones(2, np.float32); adakit.Adagrad([w], lr=0.5).step([np.ones(2, np.float32)])\n"
            "try:\n    import adakit.torch\nexcept ImportError:\n    print('no torch: ok')\n")
    package_dir = os.path.dirname(os.path.dirname(adakit.__file__))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": package_dir})
    assert out.returncode == 0, out.stderr
    assert "no torch: ok" in out.stdout
