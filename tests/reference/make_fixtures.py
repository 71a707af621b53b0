#!/usr/bin/python3
"""Generate reference trajectories for the adakit optimizer tests.

Writes two JSON files (see tests/reference/README.md for the schema):

  optim_torch.json         trajectories produced by PyTorch's own optimizers
                           (single-tensor path, foreach=False), float32.
  adagrad_conventions.json AdaGrad variants used by other libraries, produced
                           by a small float64 numpy implementation of each
                           formula and rounded to float32 when written.

Usage: /usr/bin/python3 tests/reference/make_fixtures.py [--out-dir DIR]

The output is deterministic: every random draw comes from a numpy Generator
seeded from the case name, and torch runs single-threaded.
"""

import argparse
import math
import os
import sys
import zlib

import numpy as np
import torch

GENERATOR = "tests/reference/make_fixtures.py"
NUM_STEPS = 40          # steps per case (the brief asks for at least 35)
HUBER = 8.0             # gradient magnitude cap of the loss (see grad_fn)
PERTURB = 0.1           # amplitude of the sinusoidal gradient perturbation

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


# ---------------------------------------------------------------------------
# JSON writing with exact float32 round-trip
# ---------------------------------------------------------------------------

class F32List:
    """A list of float32 values, written inline on one line."""

    def __init__(self, values):
        arr = np.array(values, dtype=np.float32, copy=True).reshape(-1)  # never alias live tensors
        if not np.all(np.isfinite(arr)):
            raise ValueError("non-finite value in fixture data")
        self.values = arr


def fmt_f32(x):
    """Shortest decimal that reads back (via double, then float) as x."""
    x = np.float32(x)
    s = str(x)              # numpy prints the shortest round-trip form
    if s in ("nan", "inf", "-inf"):
        raise ValueError("non-finite value")
    if np.float32(float(s)) != x or (x == 0 and math.copysign(1.0, float(s)) != math.copysign(1.0, float(x))):
        s = "%.9g" % float(x)
        assert np.float32(float(s)) == x
    return s


def fmt_f64(x):
    s = repr(float(x))
    if s in ("nan", "inf", "-inf"):
        raise ValueError("non-finite option value")
    return s


def dump(obj, indent=0):
    pad = "  " * indent
    pad1 = "  " * (indent + 1)
    if isinstance(obj, F32List):
        return "[" + ", ".join(fmt_f32(v) for v in obj.values) + "]"
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, (int, np.integer)):
        return str(int(obj))
    if isinstance(obj, (float, np.floating)):
        return fmt_f64(obj)
    if isinstance(obj, str):
        return '"' + obj.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [pad1 + dump(str(k)) + ": " + dump(v, indent + 1) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if not obj:
            return "[]"
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in obj):
            return "[" + ", ".join(str(int(v)) for v in obj) + "]"
        if all(isinstance(v, str) for v in obj):
            return "[" + ", ".join(dump(v) for v in obj) + "]"
        items = [pad1 + dump(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    raise TypeError("cannot serialise %r" % type(obj))


# ---------------------------------------------------------------------------
# The test problem: a fixed loss per case
# ---------------------------------------------------------------------------

DENSE_SHAPES = [("w", (3, 4)), ("b", (4,))]


class Problem:
    """Per-element loss L_i(p) = a_i * huber_{H/a_i}(p - c_i), i.e.

        dL/dp = clip(a * (p - c), -H, H)

    with scales a spread log-uniformly over 1e-2..1e2, plus a deterministic
    sinusoidal perturbation 0.1*sin(0.7*t + 1.3*i + 0.5*k) (t = 1-based step,
    i = flat element index, k = parameter index).  Exact zeros: one fixed
    element of every parameter always gets gradient 0.0, and a fixed mask of
    ~25% of the other elements gets 0.0 on odd steps.  With sign = -1 the loss
    is negated (used for maximize cases so that ascent converges).
    """

    def __init__(self, name, shapes, sign=1.0):
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.shapes = shapes
        self.sign = np.float32(sign)
        self.init, self.a, self.c, self.always_zero, self.odd_mask = [], [], [], [], []
        for k, (_, shape) in enumerate(shapes):
            n = int(np.prod(shape))
            p0 = self.rng.standard_normal(n).astype(np.float32)
            a = (10.0 ** np.linspace(-2.0, 2.0, n))[self.rng.permutation(n)]
            d = self.rng.uniform(0.5, 1.5, n) * self.rng.choice([-1.0, 1.0], n)
            self.init.append(p0)
            self.a.append(a.astype(np.float32))
            self.c.append((p0 - d).astype(np.float32))
            order = self.rng.permutation(n)
            az = np.zeros(n, dtype=bool)
            az[order[0]] = True
            om = np.zeros(n, dtype=bool)
            om[order[1:1 + max(1, n // 4)]] = True
            self.always_zero.append(az)
            self.odd_mask.append(om)

    def grad(self, k, t, p):
        """Float32 gradient for parameter k at 1-based step t, params p."""
        p = np.asarray(p, dtype=np.float32).reshape(-1)
        n = p.size
        idx = np.arange(n, dtype=np.float64)
        pert = (PERTURB * np.sin(0.7 * t + 1.3 * idx + 0.5 * k)).astype(np.float32)
        g = np.clip(self.a[k] * (p - self.c[k]), np.float32(-HUBER), np.float32(HUBER))
        g = (g + pert) * self.sign
        zero = self.always_zero[k] | (self.odd_mask[k] if t % 2 == 1 else False)
        g = np.where(zero, np.float32(0.0), g).astype(np.float32)
        return g


# ---------------------------------------------------------------------------
# PyTorch reference cases
# ---------------------------------------------------------------------------

DEFAULTS = {
    "adagrad": dict(lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                    eps=1e-10, maximize=False),
    "sgd": dict(lr=0.01, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                maximize=False),
    "adam": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False),
    "adamw": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, amsgrad=False,
                  maximize=False),
    "rmsprop": dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                    centered=False, maximize=False),
    "adadelta": dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
}

TORCH_CLASS = {
    "adagrad": torch.optim.Adagrad,
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "rmsprop": torch.optim.RMSprop,
    "adadelta": torch.optim.Adadelta,
}


def torch_kwargs(opt, o):
    kw = dict(o)
    if opt in ("adam", "adamw"):
        kw["betas"] = (kw.pop("beta1"), kw.pop("beta2"))
    kw["foreach"] = False
    return kw


DENSE_CASES = [
    # adagrad
    ("adagrad_default", "adagrad", {}),
    ("adagrad_lr", "adagrad", dict(lr=0.1)),
    ("adagrad_lr_decay", "adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("adagrad_weight_decay", "adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("adagrad_initial_accumulator", "adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("adagrad_eps", "adagrad", dict(lr=0.1, eps=1e-3)),
    ("adagrad_maximize", "adagrad", dict(lr=0.1, maximize=True)),
    ("adagrad_all", "adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                                    initial_accumulator_value=0.5, maximize=True)),
    # sgd
    ("sgd_plain", "sgd", {}),
    ("sgd_momentum", "sgd", dict(momentum=0.9)),
    ("sgd_momentum_dampening", "sgd", dict(momentum=0.9, dampening=0.1)),
    ("sgd_nesterov", "sgd", dict(momentum=0.9, nesterov=True)),
    ("sgd_weight_decay", "sgd", dict(weight_decay=0.01)),
    ("sgd_maximize_momentum", "sgd", dict(momentum=0.9, maximize=True)),
    # adam
    ("adam_default", "adam", dict(lr=0.01)),
    ("adam_amsgrad", "adam", dict(lr=0.01, amsgrad=True)),
    ("adam_weight_decay", "adam", dict(lr=0.01, weight_decay=0.1)),
    ("adam_maximize", "adam", dict(lr=0.01, maximize=True)),
    ("adam_eps_beta2", "adam", dict(lr=0.01, eps=1e-3, beta2=0.9)),
    # adamw
    ("adamw_default", "adamw", dict(lr=0.01)),
    ("adamw_amsgrad", "adamw", dict(lr=0.01, amsgrad=True)),
    ("adamw_weight_decay", "adamw", dict(lr=0.01, weight_decay=0.1)),
    # rmsprop
    ("rmsprop_plain", "rmsprop", {}),
    ("rmsprop_centered", "rmsprop", dict(centered=True)),
    ("rmsprop_momentum", "rmsprop", dict(momentum=0.9)),
    ("rmsprop_centered_momentum_wd", "rmsprop", dict(centered=True, momentum=0.9,
                                                     weight_decay=0.01)),
    ("rmsprop_maximize", "rmsprop", dict(maximize=True)),
    # adadelta
    ("adadelta_default", "adadelta", {}),
    ("adadelta_rho_eps", "adadelta", dict(rho=0.95, eps=1e-5)),
    ("adadelta_weight_decay", "adadelta", dict(weight_decay=0.1)),
    ("adadelta_lr_maximize", "adadelta", dict(lr=0.5, maximize=True)),
]

SPARSE_CASES = [
    ("adagrad_sparse_default", dict(lr=0.1)),
    ("adagrad_sparse_lr_decay_init_eps", dict(lr=0.1, lr_decay=0.01,
                                              initial_accumulator_value=0.1, eps=1e-6)),
    ("adagrad_sparse_maximize", dict(lr=0.1, maximize=True)),
]


def full_options(opt, overrides):
    o = dict(DEFAULTS[opt])
    for k, v in overrides.items():
        if k not in o:
            raise KeyError("%s has no option %s" % (opt, k))
        o[k] = v
    # normalise types: floats as float, flags as bool
    return {k: (bool(v) if isinstance(o[k], bool) else float(v)) for k, v in o.items()}


def state_dict_of(opt_obj, p, nsteps):
    st = opt_obj.state[p]
    out = {}
    if "step" in st:
        s = st["step"]
        out["step"] = int(round(float(s.item() if torch.is_tensor(s) else s)))
    else:
        out["step"] = nsteps            # SGD keeps no step counter
    for key in sorted(st.keys()):
        if key == "step" or st[key] is None:
            continue
        out[key] = F32List(st[key].detach().numpy())
    return out


def run_dense_case(name, opt, overrides):
    options = full_options(opt, overrides)
    prob = Problem(name, DENSE_SHAPES, sign=-1.0 if options["maximize"] else 1.0)
    params = [torch.nn.Parameter(torch.from_numpy(prob.init[k].copy()).reshape(shape))
              for k, (_, shape) in enumerate(DENSE_SHAPES)]
    optimizer = TORCH_CLASS[opt](params, **torch_kwargs(opt, options))
    steps = []
    for t in range(1, NUM_STEPS + 1):
        grads = [prob.grad(k, t, p.detach().numpy()) for k, p in enumerate(params)]
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g.copy()).reshape(p.shape)
        optimizer.step()
        steps.append({"grads": [F32List(g) for g in grads],
                      "params": [F32List(p.detach().numpy()) for p in params]})
    return {
        "name": name,
        "optimizer": opt,
        "options": options,
        "sparse": False,
        "params": [{"name": n, "shape": list(shape), "init": F32List(prob.init[k])}
                   for k, (n, shape) in enumerate(DENSE_SHAPES)],
        "steps": steps,
        "final_state": {n: state_dict_of(optimizer, p, NUM_STEPS)
                        for (n, _), p in zip(DENSE_SHAPES, params)},
    }


SPARSE_ROWS, SPARSE_COLS, SPARSE_NNZ = 10, 3, 6


def run_sparse_case(name, overrides):
    """AdaGrad on a [10, 3] embedding table with uncoalesced sparse gradients.

    Each step draws 6 row indices from rows 0..8 with at least one duplicate
    (row 9 is never touched).  The value for occurrence j of row r is
    w_j * clip(a_r * (table[r] - c_r), -H, H) + perturbation, with column 1 of
    one occurrence zeroed on odd steps (exact zeros inside a present row).
    """
    options = full_options("adagrad", overrides)
    shape = (SPARSE_ROWS, SPARSE_COLS)
    prob = Problem(name, [("table", shape)], sign=-1.0 if options["maximize"] else 1.0)
    rng = np.random.default_rng(zlib.crc32((name + "/indices").encode()))
    table = torch.nn.Parameter(torch.from_numpy(prob.init[0].copy()).reshape(shape))
    optimizer = torch.optim.Adagrad([table], **torch_kwargs("adagrad", options))
    a = prob.a[0].reshape(shape)
    c = prob.c[0].reshape(shape)
    steps = []
    for t in range(1, NUM_STEPS + 1):
        while True:
            idx = rng.integers(0, SPARSE_ROWS - 1, SPARSE_NNZ)
            if len(set(idx.tolist())) < SPARSE_NNZ:
                break
        cur = table.detach().numpy()
        weights = rng.choice(np.array([1.0, 0.5, -0.25, 1.25], dtype=np.float32), SPARSE_NNZ)
        rows = []
        for j, r in enumerate(idx):
            base = np.clip(a[r] * (cur[r] - c[r]), np.float32(-HUBER), np.float32(HUBER))
            pert = (PERTURB * np.sin(0.7 * t + 1.3 * (3 * j + np.arange(3)))).astype(np.float32)
            v = ((base * weights[j] + pert) * prob.sign).astype(np.float32)
            if t % 2 == 1 and j == 0:
                v[1] = np.float32(0.0)
            rows.append(v)
        values = np.stack(rows).astype(np.float32)
        ind = torch.from_numpy(idx.astype(np.int64))[None]
        table.grad = torch.sparse_coo_tensor(ind, torch.from_numpy(values.copy()), shape)
        optimizer.step()
        steps.append({"indices": [int(i) for i in idx],
                      "row_grads": F32List(values),
                      "params": [F32List(table.detach().numpy())]})
    return {
        "name": name,
        "optimizer": "adagrad",
        "options": options,
        "sparse": True,
        "params": [{"name": "table", "shape": list(shape), "init": F32List(prob.init[0])}],
        "steps": steps,
        "final_state": {"table": state_dict_of(optimizer, table, NUM_STEPS)},
    }


# ---------------------------------------------------------------------------
# AdaGrad conventions of other libraries (float64 numpy, no torch reference)
# ---------------------------------------------------------------------------

CONVENTIONS = [
    # name, convention, s0, eps, eps_mode, zero_update_where_sum_zero, accumulate_after_update
    ("pytorch", "pytorch", 0.0, 1e-10, "outside", False, False),
    ("keras", "keras", 0.1, 1e-7, "inside", False, False),
    ("optax", "optax", 0.1, 1e-7, "inside", True, False),
    ("optax_zero_init", "optax", 0.0, 1e-7, "inside", True, False),
    ("tf1", "tf1", 0.1, 0.0, "inside", False, False),
    ("glove", "glove", 1.0, 0.0, "outside", False, True),
]
CONV_LR = 0.1


def conv_update(o, s, g):
    """Return (update, new_s) for one element-wise AdaGrad step in float64."""
    g = g.astype(np.float64)
    if o["accumulate_after_update"]:
        s_used = s
    else:
        s = s + g * g
        s_used = s
    if o["eps_mode"] == "inside":
        denom = np.sqrt(s_used + o["eps"])
    else:
        denom = np.sqrt(s_used) + o["eps"]
    with np.errstate(divide="ignore", invalid="ignore"):
        upd = o["lr"] * g / denom
    if o["zero_update_where_sum_zero"]:
        upd = np.where(s_used > 0, upd, 0.0)
    if o["accumulate_after_update"]:
        s = s + g * g
    return upd, s


def run_convention_case(name, convention, s0, eps, eps_mode, zero_rule, after):
    options = {
        "lr": CONV_LR, "lr_decay": 0.0, "weight_decay": 0.0,
        "initial_accumulator_value": float(s0), "eps": float(eps), "eps_mode": eps_mode,
        "maximize": False, "zero_update_where_sum_zero": zero_rule,
        "accumulate_after_update": after,
    }
    prob = Problem("conventions/" + name, DENSE_SHAPES)
    theta = [p.astype(np.float64) for p in prob.init]
    sums = [np.full(p.size, float(s0)) for p in prob.init]
    steps = []
    for t in range(1, NUM_STEPS + 1):
        grads = [prob.grad(k, t, theta[k].astype(np.float32)) for k in range(len(theta))]
        for k in range(len(theta)):
            upd, sums[k] = conv_update(options, sums[k], grads[k])
            if not np.all(np.isfinite(upd)):
                raise RuntimeError("non-finite update in convention %s" % name)
            theta[k] = theta[k] - upd
        steps.append({"grads": [F32List(g) for g in grads],
                      "params": [F32List(th) for th in theta]})
    return {
        "name": name,
        "optimizer": "adagrad",
        "convention": convention,
        "options": options,
        "sparse": False,
        "params": [{"name": n, "shape": list(shape), "init": F32List(prob.init[k])}
                   for k, (n, shape) in enumerate(DENSE_SHAPES)],
        "steps": steps,
        "final_state": {n: {"step": NUM_STEPS, "sum": F32List(sums[k])}
                        for k, (n, _) in enumerate(DENSE_SHAPES)},
    }


# ---------------------------------------------------------------------------

def write(path, doc):
    text = dump(doc) + "\n"
    with open(path, "w", encoding="ascii") as f:
        f.write(text)
    return len(text)


def main():
    default_out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=default_out,
                    help="output directory (default: fixtures/ next to this script)")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    names = [c[0] for c in DENSE_CASES] + [c[0] for c in SPARSE_CASES]
    assert len(set(names)) == len(names)

    torch_cases = [run_dense_case(*c) for c in DENSE_CASES]
    torch_cases += [run_sparse_case(*c) for c in SPARSE_CASES]
    conv_cases = [run_convention_case(*c) for c in CONVENTIONS]

    common = {"generator": GENERATOR, "torch_version": torch.__version__,
              "numpy_version": np.__version__}
    p1 = os.path.join(args.out_dir, "optim_torch.json")
    p2 = os.path.join(args.out_dir, "adagrad_conventions.json")
    n1 = write(p1, dict(common, cases=torch_cases))
    n2 = write(p2, dict(common, cases=conv_cases))

    for path, cases, size in ((p1, torch_cases, n1), (p2, conv_cases, n2)):
        print("%s: %d cases, %d steps each, %.1f KiB" % (
            os.path.relpath(path), len(cases), NUM_STEPS, size / 1024.0))
        print("  " + ", ".join(c["name"] for c in cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
