"""adakit.data and adakit.nn: what `adakit train` / `adakit predict` do, as calls. Each run is checked
against the CLI's --json numbers for the same flags and seed (the same library code reached two ways
must give the same floats), and save / load against the model in memory."""

import numpy as np
import pytest

import adakit


def test_prepare_data_splits_and_scales_as_documented():
    d = adakit.data.prepare_data("iris", test_split=0.2, seed=0)
    assert (len(d.train), len(d.test), len(d.validation)) == (120, 30, 0)
    assert d.train.class_names == ["setosa", "versicolor", "virginica"]
    # Stratified: 10 test rows per class; the scaler is fitted on the training split alone.
    assert np.bincount(d.test.labels).tolist() == [10, 10, 10]
    x = d.train.features
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-5)
    raw, test = adakit.data.load_data("iris")
    assert test is None and len(raw) == 150
    row = d.train.features[0]
    mean, scale = np.array(d.scaler_mean), np.array(d.scaler_scale)
    assert any(np.allclose(row, (r - mean) / scale, atol=1e-6) for r in raw.features)


def test_dense_train_equals_the_cli(cli, tmp_path):
    model, report = adakit.nn.train("iris", model="mlp:16", optimizer="adagrad", options={"lr": 0.1}, epochs=5,
                                    batch_size=16, seed=3, save=tmp_path / "m.safetensors", threads=1)
    j = cli("train", "--data", "iris", "--model", "mlp:16", "--optimizer", "adagrad", "--lr", "0.1", "--epochs", 5,
            "--batch-size", 16, "--seed", 3, "--json")
    for key in ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "epochs", "train_samples",
                "test_samples", "optimizer_state_bytes"):
        assert report[key] == j[key], key
    assert report["curve"]["series"] == j["curve"]["series"]
    assert report["options"]["lr"] == 0.1


def test_build_fit_save_load_predict(tmp_path):
    d = adakit.data.prepare_data("iris", seed=1, validation_split=0.25)
    m = adakit.nn.build_model("mlp:8", d, activation="tanh", seed=1)
    assert m.info["objective"] == "softmax_ce" and m.info["input_shape"] == [4]
    assert m.num_parameters == 4 * 8 + 8 + 8 * 3 + 3
    fit = m.fit(d.train, "adam:lr=0.01", {"weight_decay": 0.001}, epochs=4, batch_size=8, seed=1,
                validation=d.validation)
    assert fit["optimizer"] == "adam" and fit["options"]["lr"] == 0.01 and fit["options"]["weight_decay"] == 0.001
    assert [h["epoch"] for h in fit["history"]] == [1, 2, 3, 4]
    assert np.isfinite(fit["history"][-1]["validation"]["loss"])
    path = tmp_path / "iris.safetensors"
    m.save(str(path))
    m2 = adakit.nn.load_model(path)
    assert m2.info == m.info
    np.testing.assert_array_equal(m2.outputs(d.test), m.outputs(d.test))
    e, e2 = m.evaluate(d.test), m2.evaluate(d.test)
    assert (e2["loss"], e2["accuracy"]) == (e["loss"], e["accuracy"]) and np.isnan(e["mse"])
    # Predicted classes are the argmax of the logits; evaluate's accuracy counts them.
    classes = m2.predict(d.test.features)
    np.testing.assert_array_equal(classes, m.outputs(d.test).argmax(axis=1))
    assert m.evaluate(d.test)["accuracy"] == pytest.approx(np.mean(classes == d.test.labels))
    # Raw data through the model's scaler gives the prepared data's outputs.
    raw, _ = adakit.data.load_data("iris")
    fitted = m2.fit_to_model(raw)
    np.testing.assert_allclose(fitted.features[:, :], (raw.features - np.array(m.info["scaler_mean"]))
                               / np.array(m.info["scaler_scale"]), rtol=1e-6, atol=1e-6)


def test_model_errors_are_value_errors():
    d = adakit.data.prepare_data("iris", seed=0)
    with pytest.raises(ValueError, match="model"):
        adakit.nn.build_model("nope", d)
    m = adakit.nn.build_model("logreg", d)
    with pytest.raises(ValueError):
        m.fit(d.train, "adagrad", {"no_such_option": 1}, epochs=1)
    with pytest.raises(ValueError, match="features"):
        m.outputs(np.zeros((2, 5), np.float32))


def test_sparse_text_train_save_read_equals_the_cli(cli, tmp_path):
    lm, report = adakit.nn.train("sentiment-tiny", optimizer="adagrad:lr=0.5", epochs=3, batch_size=4, seed=1,
                                 save=tmp_path / "lin.json")
    j = cli("train", "--data", "sentiment-tiny", "--optimizer", "adagrad", "--lr", "0.5", "--epochs", 3,
            "--batch-size", 4, "--seed", 1, "--json")
    for key in ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "features", "nonzero_weights",
                "train_samples", "test_samples"):
        assert report[key] == j[key], key
    model, vectorizer = adakit._adakit.read_linear_model(str(tmp_path / "lin.json"))
    assert model.task == lm.task == "logistic" and vectorizer.num_features == lm.dim
    np.testing.assert_array_equal(model.weights, lm.weights)
    np.testing.assert_array_equal(model.bias, lm.bias)
    # The saved model predicts the bundled data as `adakit predict` would read it.
    d = adakit._adakit.linear_read_for_model(model, vectorizer, "sentiment-tiny")
    X = vectorizer.transform(["a wonderful film"])
    np.testing.assert_array_equal(adakit._adakit.linear_decision_function(model, X),
                                  adakit._adakit.linear_decision_function(lm, X))
    m = adakit._adakit.linear_evaluate(model, d.X, d.labels)
    assert m["samples"] == len(d) and 0 <= m["accuracy"] <= 1



def test_binary_model_file_is_the_json_one_and_the_cli_reads_it(cli, tmp_path):
    lm, _ = adakit.nn.train("sentiment-tiny", optimizer="adagrad:lr=0.5", epochs=3, batch_size=4, seed=1,
                            save=tmp_path / "lin.bin")
    model, vectorizer = adakit._adakit.read_linear_model(str(tmp_path / "lin.bin"))
    np.testing.assert_array_equal(model.weights, lm.weights)
    np.testing.assert_array_equal(model.bias, lm.bias)
    adakit._adakit.save_linear_model(str(tmp_path / "again.json"), model, vectorizer)
    texts = ["a wonderful film", "what a terrible film"]
    a = cli("predict", "--model", tmp_path / "lin.bin", "--text", texts[0], "--text", texts[1], "--probabilities", "--json")
    b = cli("predict", "--model", tmp_path / "again.json", "--text", texts[0], "--text", texts[1], "--probabilities", "--json")
    assert a == b


def test_prepare_sparse_data_with_a_vectorizer():
    s = adakit.data.prepare_sparse_data("sentiment-tiny", seed=0, text=adakit.data.TextVectorizer(ngram_max=2,
                                                                                                weighting="binary"))
    rows, cols, indptr, indices, values = s.train.X
    assert rows == len(s.train) and cols == s.vectorizer.num_features and indptr[-1] == len(indices)
    assert set(values.tolist()) == {1.0}
    assert any(" " in f for f in s.vectorizer.feature_names)  # bigrams
    with pytest.raises(ValueError, match="weighting"):
        adakit.data.TextVectorizer(weighting="nope")
