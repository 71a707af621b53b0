"""adakit's kernels as torch.optim optimizers, for CPU float32 tensors.

    import torch, adakit.torch
    opt = adakit.torch.Adagrad(model.parameters(), lr=0.01)   # torch.optim.Adagrad's arguments
    loss.backward(); opt.step(); opt.zero_grad()
    torch.save(opt.state_dict(), "opt.pt")                    # torch's layout: loads into either class

Each class is a torch.optim.Optimizer subclass with torch's constructor arguments, param groups
(add_param_group, per-group options, LR schedulers that change param_groups[g]["lr"]) and state
dicts. The step runs adakit's fused kernels on the tensors' own memory (tensor.numpy() views, no
copies), without the GIL, with torch.get_num_threads() threads. Sparse gradients
(nn.Embedding(sparse=True)) are coalesced, then only their rows are stepped. `foreach` is accepted and
ignored (there is one fused path); differentiable / capturable / fused=True are refused.

The live optimizer state is kept by adakit: state_dict() copies it out in torch's layout, and
load_state_dict() copies it in, so `opt.state` stays empty.

Classes: Adagrad, SGD, Adam, AdamW, RMSprop, Adadelta (torch's signatures), and one class per other
optimizer of adakit's registry (its options as keyword arguments; adakit.torch.optimizer(name, ...)).
"""

from collections import defaultdict

import torch as _torch
from torch.optim.optimizer import Optimizer as _TorchOptimizer, required as _required

from . import _adakit, _class_name

__all__ = ["optimizer"]

# Each optimizer's option names, from adakit's registry.
_OPTION_KEYS = {name: {key for key, _, _ in options} for name, _, _, options in _adakit.optimizers()}


class _AdakitOptimizer(_TorchOptimizer):
    """Shared machinery: maps torch's param groups onto an adakit._adakit.Optimizer."""

    _adakit_name = None

    def __init__(self, params, defaults):
        for flag in ("differentiable", "capturable", "fused"):
            if defaults.get(flag):
                raise NotImplementedError(f"adakit.torch.{type(self).__name__}: {flag}=True is not supported "
                                          "(adakit runs its own fused CPU kernels)")
        super().__init__(params, defaults)
        self._impl = None
        self._pushed = []  # adakit options last given to each group

    # ---- torch group <-> adakit options

    def _adakit_options(self, group):
        """The group's options under adakit's names. Keys the optimizer does not have are left out, as
        torch ignores them: `foreach` and the like, and what others store there (a scheduler's initial_lr)."""
        keys, out = _OPTION_KEYS[self._adakit_name], {}
        for key, value in group.items():
            if key == "betas":
                out["beta1"], out["beta2"] = (float(b) for b in value)
            elif key in keys:
                out[key] = value.item() if _torch.is_tensor(value) else value
        return out

    @staticmethod
    def _array(p, what):
        if p.device.type != "cpu":
            raise ValueError(f"adakit.torch: {what} is on {p.device}; adakit's kernels run on CPU tensors")
        if p.dtype != _torch.float32:
            raise TypeError(f"adakit.torch: {what} has dtype {p.dtype}; adakit needs torch.float32")
        if p.is_sparse or not p.is_contiguous():
            raise ValueError(f"adakit.torch: {what} is not a contiguous dense tensor (adakit never copies)")
        return p.detach().numpy()

    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def _sync(self):
        """Builds the adakit optimizer on first use, adds groups added since, pushes changed options."""
        if self._impl is None:
            groups = []
            for g, group in enumerate(self.param_groups):
                arrays = [self._array(p, f"parameter {i} of group {g}") for i, p in enumerate(group["params"])]
                groups.append((arrays, self._adakit_options(group)))
            self._impl = _adakit.Optimizer(self._adakit_name, {}, groups)
            self._pushed = [opts for _, opts in groups]
        for g in range(self._impl.num_groups, len(self.param_groups)):
            group = self.param_groups[g]
            arrays = [self._array(p, f"parameter {i} of group {g}") for i, p in enumerate(group["params"])]
            options = self._adakit_options(group)
            self._impl.add_param_group(arrays, options)
            self._pushed.append(options)
        for g, group in enumerate(self.param_groups):
            options = self._adakit_options(group)
            if options != self._pushed[g]:
                self._impl.set_group_options(g, {k: v for k, v in options.items() if self._pushed[g].get(k) != v})
                self._pushed[g] = options
        return self._impl

    # ---- torch.optim.Optimizer API

    @_torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with _torch.enable_grad():
                loss = closure()
        impl = self._sync()
        grads, values = [], []
        for i, p in enumerate(self._params()):
            values.append(self._array(p, f"parameter {i}"))
            g = p.grad
            if g is None:
                grads.append(None)
            elif g.is_sparse:
                if g.sparse_dim() != 1:
                    raise ValueError(f"adakit.torch: the sparse gradient of parameter {i} has {g.sparse_dim()} sparse "
                                     "dimensions; adakit steps rows of a table (sparse_dim 1, as nn.Embedding makes)")
                g = g.coalesce()
                grads.append((g._indices()[0].numpy(), self._array(g._values(), f"gradient of parameter {i}")))
            else:
                grads.append(self._array(g, f"gradient of parameter {i}"))
        impl.step(grads, values, _torch.get_num_threads())
        return loss

    def state_dict(self):
        """torch's layout: {"state": {i: {"step": tensor, buffer: tensor}}, "param_groups": [...]},
        buffers under torch's names (sum, exp_avg, ...). Copies. torch.optim's class of the same
        algorithm loads it, and so does this class."""
        sd = self._sync().state_dict()
        state = {i: {k: (_torch.tensor(float(v)) if k == "step" else _torch.from_numpy(v)) for k, v in st.items()}
                 for i, st in sd["state"].items()}
        groups, start = [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(packed)
        out = {"state": state, "param_groups": groups}
        if "group_state" in sd:
            out["adakit_group_state"] = {g: {k: _torch.from_numpy(v) for k, v in b.items()}
                                         for g, b in sd["group_state"].items()}
        return out

    def load_state_dict(self, state_dict):
        """Loads a state_dict() of this class or of torch.optim's class of the same algorithm."""
        state_dict = dict(state_dict)
        group_state = state_dict.pop("adakit_group_state", None)
        super().load_state_dict(state_dict)  # torch's checks; sets param_groups and self.state
        impl = self._sync()
        state = {}
        for i, p in enumerate(self._params()):
            if p not in self.state:
                continue
            entry = {}
            for key, value in self.state[p].items():
                if key == "step":
                    entry[key] = float(value)
                elif _torch.is_tensor(value):
                    entry[key] = value.detach().to(_torch.float32).contiguous().numpy()
            state[i] = entry
        d = {"optimizer": impl.name, "state": state,
             "param_groups": [dict(self._adakit_options(g), params=list(range(n)))
                              for g, n in zip(self.param_groups, impl.group_sizes)]}
        if group_state is not None:
            d["group_state"] = {g: {k: v.detach().to(_torch.float32).contiguous().numpy() for k, v in b.items()}
                                for g, b in group_state.items()}
        impl.load_state_dict(d)
        self._pushed = [self._adakit_options(g) for g in self.param_groups]
        self.state = defaultdict(dict)  # the live state is adakit's


def _torch_class(name, adakit_name, init, doc):
    return type(name, (_AdakitOptimizer,), {"_adakit_name": adakit_name, "__init__": init, "__doc__": doc,
                                            "__module__": __name__})


def _init_adagrad(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                  foreach=None, *, maximize=False, differentiable=False):
    _AdakitOptimizer.__init__(self, params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                                 initial_accumulator_value=initial_accumulator_value, eps=eps,
                                                 foreach=foreach, maximize=maximize, differentiable=differentiable))


def _init_sgd(self, params, lr=_required, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
              foreach=None, differentiable=False):
    if lr is _required:
        raise TypeError("adakit.torch.SGD: lr is required (as in torch.optim.SGD)")
    _AdakitOptimizer.__init__(self, params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                                 weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                                 foreach=foreach, differentiable=differentiable))


def _adam_init(default_weight_decay):
    def init(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=default_weight_decay, amsgrad=False, *,
             foreach=None, maximize=False, capturable=False, differentiable=False, fused=False):
        _AdakitOptimizer.__init__(self, params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                                     amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                                                     capturable=capturable, differentiable=differentiable, fused=fused))
    return init


def _init_rmsprop(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                  foreach=None, maximize=False, differentiable=False):
    _AdakitOptimizer.__init__(self, params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                                 momentum=momentum, centered=centered, foreach=foreach,
                                                 maximize=maximize, differentiable=differentiable))


def _init_adadelta(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, maximize=False,
                   differentiable=False):
    _AdakitOptimizer.__init__(self, params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                                 maximize=maximize, differentiable=differentiable))


# torch's optimizers, with torch's signatures (PyTorch 1.13).
_TORCH_SIGNATURES = {
    "adagrad": ("Adagrad", _init_adagrad),
    "sgd": ("SGD", _init_sgd),
    "adam": ("Adam", _adam_init(0)),
    "adamw": ("AdamW", _adam_init(1e-2)),
    "rmsprop": ("RMSprop", _init_rmsprop),
    "adadelta": ("Adadelta", _init_adadelta),
}


def _generic_init(defaults):
    def init(self, params, **options):
        unknown = set(options) - set(defaults)
        if unknown:
            raise TypeError(f"adakit.torch.{type(self).__name__}: unknown option(s) {sorted(unknown)} "
                            f"(options: {', '.join(defaults)})")
        _AdakitOptimizer.__init__(self, params, dict(defaults, **options))
    return init


_CLASSES = {}
for _name, _summary, _reference, _options in _adakit.optimizers():
    if _name in _TORCH_SIGNATURES:
        _cls_name, _init = _TORCH_SIGNATURES[_name]
        _doc = (f"torch.optim.{_cls_name} with adakit's fused kernel: {_summary} ({_reference}). "
                f"Same arguments and state dict as torch.optim.{_cls_name}.")
    else:  # an adakit optimizer torch does not have: its registry options, its registry defaults
        _cls_name = _class_name(_name)
        _init = _generic_init({k: v for k, v, _ in _options if k != "convention"})
        _doc = f"{_summary} ({_reference}). Options: " + ", ".join(f"{k}={v!r}" for k, v, _ in _options)
    _CLASSES[_name] = _torch_class(_cls_name, _name, _init, _doc)
    globals()[_cls_name] = _CLASSES[_name]
    __all__.append(_cls_name)


def optimizer(name, params, **options):
    """The adakit optimizer `name` as a torch.optim.Optimizer (torch's arguments for torch's optimizers)."""
    if name not in _CLASSES:
        raise ValueError(f"unknown optimizer {name!r} ({', '.join(_CLASSES)})")
    return _CLASSES[name](params, **options)
