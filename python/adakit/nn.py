"""Neural-network models as ``adakit train`` and ``adakit predict`` build, train and save them
(include/adakit/nn/models.hpp, train/fit.hpp, io/model.hpp)::

    d = adakit.data.prepare_data("iris", seed=0)
    m = adakit.nn.build_model("mlp:16", d, seed=0)       # a spec: mlp:H[,H..], logreg, softmax, linreg, cnn[:C,../H]
    history = m.fit(d.train, "adagrad", {"lr": 0.1}, epochs=20, batch_size=16, seed=0)
    m.evaluate(d.test)                                     # {"loss", "accuracy", "mse", "samples"}
    m.save("iris.safetensors")
    m2 = adakit.nn.load_model("iris.safetensors")
    m2.predict(m2.fit_to_model(raw_dataset))               # raw data: scaled and reshaped as at training

``train(data, model, optimizer, ...)`` does all of it in one call, dense or sparse data alike, and
returns the model and the report that ``adakit train --json`` prints.
"""

import math

from . import _adakit
from ._adakit import Model, model_input_shape

__all__ = ["Model", "build_model", "load_model", "model_input_shape", "train"]


def build_model(spec, data, activation="relu", dropout=0.0, seed=0):
    """nn::build_model(spec, train, {activation, dropout, seed}). `data`: a PreparedData (its
    training split, and its scaler, which the model file keeps for prediction) or a Dataset."""
    if isinstance(data, _adakit.PreparedData):
        return Model.build(spec, data.train, activation, dropout, seed, data.scaler_mean, data.scaler_scale)
    return Model.build(spec, data, activation, dropout, seed)


def load_model(path):
    """io::load_model: a model file (Model.save, adakit train --save) or a dense checkpoint."""
    return Model.load(str(path))


def _number(v):
    return v if v is not None and math.isfinite(v) else None


def _curve(points, series):
    return {"x": "epoch", "points": points, "series": {k: [_number(v) for v in vs] for k, vs in series.items()}}


def _spec(optimizer, options):
    """"adagrad:lr=0.1,lr_decay=0" + {"lr": 0.2} -> ("adagrad", {"lr": 0.2, "lr_decay": "0"})."""
    name, _, rest = optimizer.partition(":")
    opts = dict(kv.split("=", 1) for kv in rest.split(",") if kv) if rest else {}
    opts.update(options or {})
    return name, opts


def train(data, model="auto", optimizer="adagrad", options=None, *, format="auto", test_data="", data_dir="",
          test_split=0.2, validation_split=0.0, scale="auto", label_column="", activation="relu", dropout=0.0,
          epochs=10, batch_size=32, seed=0, patience=0, on_nonfinite="error", schedule="constant", clip_norm=0.0,
          clip_value=0.0, text=None, save=None, threads=0):
    """``adakit train`` as a call: (model, report). Dense data (a built-in or a CSV file) trains an nn
    Model (model "auto" = "mlp:64"); LIBSVM and text-tsv data (format "auto" goes by the name) train a
    sparse LinearModel (model "auto", "logreg", "softmax" or "linreg"; `text`: a TextVectorizer whose
    options vectorize text-tsv data). `save`: a model file path (safetensors for nn models, JSON for
    linear ones). The report holds the keys of ``adakit train --json``: train_loss, test_loss,
    train_accuracy / test_accuracy (or _mse), epochs, curve, ..."""
    fmt = _adakit.guess_format(data) if format == "auto" else format
    if fmt != "dense":
        return _train_sparse(data, model, optimizer, options, fmt, test_data, data_dir, test_split, epochs,
                             batch_size, seed, text, save, threads)
    if text is not None:
        raise ValueError("text applies to text-tsv data")
    d = _adakit.prepare_data(data, test_data, data_dir, test_split, seed, label_column, validation_split, scale)
    spec = "mlp:64" if model in ("", "auto") else model
    m = build_model(spec, d, activation, dropout, seed)
    fit = m.fit(d.train, optimizer, options or {}, epochs=epochs, batch_size=batch_size, seed=seed, patience=patience,
                on_nonfinite=on_nonfinite, schedule=schedule, clip_norm=clip_norm, clip_value=clip_value,
                validation=d.validation if len(d.validation) > 0 else None, threads=threads)
    tm = m.evaluate(d.train, threads=threads)
    te = m.evaluate(d.test, threads=threads) if len(d.test) > 0 else {"loss": math.nan, "accuracy": math.nan, "mse": math.nan}
    if save is not None:
        m.save(str(save))
    mse = m.info["objective"] == "mse"
    metric = "mse" if mse else "accuracy"
    history = fit["history"]
    series = {"train_loss": [h["train"]["loss"] for h in history],
              "train_" + metric: [h["train"][metric] for h in history]}
    if len(d.validation) > 0:
        series["validation_loss"] = [h["validation"]["loss"] for h in history]
        series["validation_" + metric] = [h["validation"][metric] for h in history]
    report = {"data": data, "model": spec, "optimizer": fit["optimizer"], "options": fit["options"],
              "optimizer_state_bytes": fit["optimizer_state_bytes"], "epochs": fit["epochs_run"],
              "seconds": fit["seconds"], "train_samples": len(d.train), "test_samples": len(d.test),
              "stopped_early": fit["stopped_early"], "skipped_steps": fit["skipped_steps"],
              "train_loss": _number(tm["loss"]), "test_loss": _number(te["loss"]),
              "train_" + metric: _number(tm[metric]), "test_" + metric: _number(te[metric]),
              "epoch_seconds": [h["epoch_seconds"] for h in history],
              "curve": _curve([h["epoch"] for h in history], series)}
    if save is not None:
        report["saved"] = str(save)
    return m, report


def _train_sparse(data, model, optimizer, options, fmt, test_data, data_dir, test_split, epochs, batch_size, seed,
                  text, save, threads):
    task = "regression" if model == "linreg" else "auto" if model in ("", "auto") else "classification"
    d = _adakit.prepare_sparse_data(data, test_data, data_dir, test_split, seed, fmt, task, text)
    lm = _adakit.linear_model_for_dataset(d.train, max(1, d.train.X[1]), model or "auto")
    name, opts = _spec(optimizer, options)
    history = _adakit.linear_fit(lm, name, opts, d.train.X, d.train.labels, d.train.targets, epochs, batch_size, seed,
                                 True, threads)
    tm = _adakit.linear_evaluate(lm, d.train.X, d.train.labels, d.train.targets)
    te = (_adakit.linear_evaluate(lm, d.test.X, d.test.labels, d.test.targets) if len(d.test) > 0
          else {"loss": math.nan, "accuracy": math.nan, "mse": math.nan})
    if save is not None:
        _adakit.save_linear_model(str(save), lm, d.vectorizer)
    metric = "mse" if lm.task == "squared" else "accuracy"
    report = {"data": data, "format": fmt, "model": lm.task, "optimizer": name,
              "epochs": len(history), "seconds": history[-1]["seconds"] if history else 0.0,
              "train_samples": len(d.train), "test_samples": len(d.test), "features": lm.dim,
              "weights": lm.dim * lm.outputs, "nonzero_weights": lm.count_nonzero_weights(),
              "train_loss": _number(tm["loss"]), "test_loss": _number(te["loss"]),
              "train_" + metric: _number(tm[metric]), "test_" + metric: _number(te[metric]),
              "curve": _curve([h["epoch"] for h in history],
                              {"train_loss": [h["loss"] for h in history],
                               "train_" + metric: [h[metric] for h in history]})}
    if save is not None:
        report["saved"] = str(save)
    return lm, report
