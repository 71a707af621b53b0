"""adakit: AdaGrad and its family as fast C++ kernels — for NumPy, PyTorch and scikit-learn.

Optimizers over float32 NumPy arrays, updated in place (no copies, the GIL released while the
kernels run)::

    import numpy as np, adakit
    w = np.zeros((256, 10), np.float32); b = np.zeros(10, np.float32)
    opt = adakit.Adagrad([w, b], lr=0.1, lr_decay=1e-4)
    opt.step([gw, gb])                      # float32 gradients of the same shapes
    opt.step([(rows, row_grads), None])     # row-sparse step of an embedding table; b skipped
    state = opt.state_dict(); opt.load_state_dict(state)

Every optimizer of adakit's registry has a class here (Adagrad, SGD, Adam, AdamW, RMSprop, Adadelta,
and any added since: ``adakit.optimizer_names()``), or use ``adakit.optimizer(name, params, **options)``.
``adakit.torch`` wraps the same kernels as ``torch.optim`` optimizers (needs torch);
``adakit.sklearn`` has scikit-learn estimators (needs scikit-learn).

What the ``adakit`` command line does, as calls: ``adakit.nn.train`` (adakit train / predict: data
prepared by ``adakit.data``, nn models built from a spec, saved and loaded; sparse linear models),
``adakit.embed`` (GloVe: embed all / nearest / analogy), ``adakit.rl.run`` (adakit rl),
``adakit.minimize`` (adakit minimize), ``adakit.report`` (adakit compare / demo).
"""

import re as _re

from . import _adakit
from ._adakit import num_threads, set_num_threads

__version__ = "0.1.0"

__all__ = ["Optimizer", "optimizer", "optimizer_names", "optimizer_info", "num_threads", "set_num_threads",
           "minimize", "test_functions"]


def optimizer_names():
    """Names of every optimizer in adakit's registry (include/adakit/optim/registry.hpp)."""
    return [info[0] for info in _adakit.optimizers()]


def optimizer_info(name):
    """(summary, reference, [(option, default, help), ...]) of the optimizer `name`."""
    for info in _adakit.optimizers():
        if info[0] == name:
            return info[1], info[2], info[3]
    raise ValueError(f"unknown optimizer {name!r} ({', '.join(optimizer_names())})")


def _split_groups(params):
    """torch's forms: an iterable of arrays, or of dicts {"params": arrays, **options}."""
    if hasattr(params, "__array__") or isinstance(params, dict):
        raise TypeError("params must be an iterable of arrays or of dicts {'params': [...], **options}, "
                        f"not a {type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError("the optimizer got an empty parameter list")
    if all(isinstance(p, dict) for p in params):
        groups = []
        for g in params:
            g = dict(g)
            arrays = g.pop("params")
            arrays = [arrays] if hasattr(arrays, "__array_interface__") else list(arrays)
            groups.append((arrays, g))
        return groups
    if any(isinstance(p, dict) for p in params):
        raise TypeError("params mixes arrays and parameter-group dicts")
    return [(params, {})]


class Optimizer:
    """An adakit optimizer over float32 NumPy arrays, updated in place.

    params: arrays (float32, C-contiguous, writable — anything else is a TypeError or ValueError,
    never a silent copy), or parameter groups {"params": [...], **options}. options: the optimizer's
    options (``help(adakit.Adagrad)`` lists them); a group's own options override them.
    """

    name = None  # the registry name; set by each subclass

    def __init__(self, params, **options):
        if self.name is None:
            raise TypeError("use adakit.optimizer(name, params, ...) or a subclass such as adakit.Adagrad")
        self._impl = _adakit.Optimizer(self.name, options, _split_groups(params))

    @property
    def params(self):
        """The arrays, in order over all groups (the indices of state_dict()["state"])."""
        return self._impl.params

    @property
    def param_groups(self):
        """Each group's options and arrays (copies of the options: change them with set_options)."""
        arrays, out, start = self._impl.params, [], 0
        for g, n in enumerate(self._impl.group_sizes):
            d = self._impl.group_options(g)
            d["params"] = arrays[start:start + n]
            start += n
            out.append(d)
        return out

    def set_options(self, group=0, **options):
        """Changes options of one group, e.g. opt.set_options(lr=0.05) (a schedule's step)."""
        self._impl.set_group_options(group, options)

    def add_param_group(self, group):
        """Adds {"params": arrays, **options} (options default to the constructor's)."""
        (arrays, overrides), = _split_groups([group])
        self._impl.add_param_group(arrays, overrides)

    @property
    def steps(self):
        return self._impl.steps

    def step(self, grads, threads=0):
        """One step. grads: one entry per parameter (order of `params`): a float32 array of the
        parameter's shape, None (the parameter is skipped: state and step count untouched), or
        (indices, rows) — a row-sparse gradient of a [rows, dim] table: int64/int32 row ids
        (duplicates are summed) and float32 rows [len(indices), dim]. threads > 0 overrides
        adakit.set_num_threads for this step."""
        self._impl.step(list(grads), None, threads)

    def state_dict(self):
        """{"optimizer", "steps", "state": {i: {"step", buffers...}}, "param_groups": [...]}: copies,
        in torch's layout (buffers under torch's names: sum, exp_avg, momentum_buffer, ...)."""
        return self._impl.state_dict()

    def load_state_dict(self, state_dict):
        """Restores a state_dict() of the same optimizer over arrays of the same shapes (or a
        torch.optim state dict converted to NumPy). Checked entirely before anything changes."""
        self._impl.load_state_dict(state_dict)

    def reset(self):
        """Forgets all state: the next step behaves like the first."""
        self._impl.reset()

    def __repr__(self):
        groups = ", ".join(repr(self._impl.group_options(g)) for g in range(self._impl.num_groups))
        return f"adakit.{type(self).__name__}({groups})"


_CLASS_NAMES = {"adagrad": "Adagrad", "sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
                "adadelta": "Adadelta"}


def _class_name(name):
    """Registry name -> class name: torch's spelling for torch's optimizers, else CamelCase."""
    return _CLASS_NAMES.get(name) or "".join(p[:1].upper() + p[1:] for p in _re.split(r"[-_]", name) if p)


def _doc(name, summary, reference, options):
    lines = [f"{summary} ({reference}).", "", f"adakit optimizer {name!r} over float32 NumPy arrays. Options:"]
    lines += [f"    {key} = {default!r}: {text}" for key, default, text in options]
    return "\n".join(lines)


_CLASSES = {}
for _name, _summary, _reference, _options in _adakit.optimizers():
    _cls = type(_class_name(_name), (Optimizer,), {"name": _name, "__doc__": _doc(_name, _summary, _reference, _options),
                                                  "__module__": __name__})
    _CLASSES[_name] = _cls
    globals()[_cls.__name__] = _cls
    __all__.append(_cls.__name__)


def optimizer(name, params, **options):
    """The optimizer `name` of adakit's registry over `params` (see Optimizer)."""
    if name not in _CLASSES:
        raise ValueError(f"unknown optimizer {name!r} ({', '.join(_CLASSES)})")
    return _CLASSES[name](params, **options)


def test_functions():
    """(name, summary, default dim, fixed dim) of every test function (include/adakit/train/minimize.hpp)."""
    return _adakit.test_functions()


def minimize(functions, optimizers, **options):
    """``adakit minimize`` as a call (train::minimize_runs): every function of `functions` (a name or a
    list) with every optimizer of `optimizers` (a spec such as "adagrad:lr=0.5", a (name, options)
    pair, or a list of them). Keyword arguments: dim, steps, seed, schedule, clip_norm, clip_value,
    x0 (text: "1.5" or "1,-2"), trace (a CSV path, one run), out (a directory), threads. Returns
    (runs, table): one dict per run (final x, loss, distance to the minimiser, curve) and the text table."""
    if isinstance(functions, str):
        functions = [functions]
    if isinstance(optimizers, (str, tuple)):
        optimizers = [optimizers]
    return _adakit.minimize_runs(list(functions), list(optimizers), **options)


from . import data, embed, nn, report, rl  # noqa: E402  (they import _adakit too)
