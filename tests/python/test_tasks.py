"""adakit.embed, adakit.rl, adakit.minimize and adakit.report: `adakit embed all | nearest | analogy`,
`adakit rl`, `adakit minimize`, `adakit compare` and `adakit demo` as calls, each checked against the
CLI's --json numbers (or files) for the same options and seed."""

import numpy as np
import pytest

import adakit


@pytest.fixture
def corpus(tmp_path):
    """Two topics of four words, 60 lines (tests/cli/embed_test.sh's corpus)."""
    path = tmp_path / "corpus.txt"
    path.write_text(("king queen crown palace king crown\nqueen palace king crown queen palace\n"
                     "man woman street walks man street\nwoman walks man street woman walks\n") * 15)
    return path


def test_embed_pipeline_equals_the_cli(cli, corpus, tmp_path):
    summary, vectors = adakit.embed.run_pipeline(str(corpus), str(tmp_path / "py"), vector_size=6, iterations=5,
                                                 window=3, x_max=10, show=["king"], threads=1)
    j = cli("embed", "all", "--corpus", corpus, "--out", tmp_path / "cli", "-d", 6, "--iter", 5, "--window", 3,
            "--x-max", 10, "--show", "king", "-j", 1, "--json")
    assert summary["costs"] == j["costs"] and summary["nearest"] == j["nearest"]
    assert summary["vocab_size"] == len(vectors) == 8 and vectors.dim == 6
    for name in ("vocab.txt", "vectors.txt", "vectors.bin", "cooccurrence.bin"):
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    # The vectors in memory are the file's; queries as `adakit embed nearest | analogy`.
    from_bin = adakit.embed.read_vectors(str(tmp_path / "py" / "vectors.bin"), vocab=str(tmp_path / "py" / "vocab.txt"))
    np.testing.assert_array_equal(from_bin.vectors, vectors.vectors)
    text = adakit.embed.read_vectors(str(tmp_path / "cli" / "vectors.txt"))  # with its <unk> row, as the CLI reads it
    near = cli("embed", "nearest", "--vectors", tmp_path / "cli" / "vectors.txt", "-k", 3, "king", "--json")
    assert adakit.embed.nearest(text, "king", 3) == [(n["word"], n["similarity"]) for n in near["king"]]
    ana = cli("embed", "analogy", "--vectors", tmp_path / "cli" / "vectors.txt", "-k", 3, "man", "king", "woman", "--json")
    assert adakit.embed.analogy(text, "man", "king", "woman", 3) == [(n["word"], n["similarity"]) for n in ana["answers"]]
    # Cosine by hand.
    v = vectors.vectors.astype(np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    word, sim = vectors.nearest("king", 1)[0]
    assert sim == pytest.approx(v[vectors.index("king")] @ v[vectors.index(word)], rel=1e-6)
    with pytest.raises(ValueError):
        vectors.nearest("emperor")


def test_rl_run_equals_the_cli(cli):
    summary, curve = adakit.rl.run("cartpole", episodes=30, eval=5, seed=2)
    j = cli("rl", "cartpole", "--episodes", 30, "--eval", 5, "--seed", 2, "--json")
    for key in ("final_mean100", "eval_mean_return", "eval_std_return", "total_steps", "features", "options"):
        assert summary[key] == j[key], key
    assert summary["curve"]["series"] == j["curve"]["series"]
    lines = curve.splitlines()
    assert lines[0] == "episode,return,epsilon,mean100,steps" and len(lines) == 31
    assert sum(float(line.split(",")[1]) for line in lines[1:]) == summary["total_steps"]  # cartpole: +1 a step
    with pytest.raises(ValueError, match="environment"):
        adakit.rl.run("CartPole-v1")


def test_minimize_equals_the_cli_and_the_closed_form(cli):
    runs, table = adakit.minimize("rosenbrock", ["adagrad:lr=0.5", ("adam", {"lr": 0.05})], steps=200)
    j = cli("minimize", "-f", "rosenbrock", "--optimizer", "adagrad", "--lr", 0.5, "--steps", 200, "--json")
    assert (runs[0]["loss"], runs[0]["x"]) == (j["loss"], j["x"])
    assert [r["optimizer"] for r in runs] == ["adagrad", "adam"] and "rosenbrock" in table
    # SGD on Σ x² from x0 = 1: x_k = (1 - 2 lr)^k.
    (run,), _ = adakit.minimize("quadratic", "sgd:lr=0.1", dim=3, steps=10, x0="1")
    np.testing.assert_allclose(run["x"], [0.8 ** 10] * 3, rtol=1e-5)
    assert run["loss"] == pytest.approx(3 * 0.8 ** 20, rel=1e-5)


def test_compare_equals_the_cli(cli, tmp_path):
    c = adakit.report.compare("minimize", ["adagrad", "adam:lr=0.1"], seeds=2, function="sparse", steps=100,
                              out=str(tmp_path))
    j = cli("compare", "--optimizers", "adagrad,adam:lr=0.1", "--seeds", 2, "--json", "minimize", "-f", "sparse",
            "--steps", 100)
    ours = {r["optimizer"]: r["metrics"] for r in c.results()}
    theirs = {r["optimizer"]: r["metrics"] for r in j["results"]}
    assert ours == theirs
    assert (tmp_path / "summary.csv").read_text() == c.summary_csv()
    assert "adam:lr=0.1" in c.table()


def test_demo_equals_the_cli(cli, tmp_path):
    (summary,), report = adakit.report.run_demos(["basics"], str(tmp_path / "py"), quick=True)
    j = cli("demo", "basics", "--quick", "--out", tmp_path / "cli", "--json")
    demo = j["basics"]
    assert (summary["final_x_state_kept"], summary["final_x_state_reset"]) == \
        (demo["final_x_state_kept"], demo["final_x_state_reset"])
    assert str(report).endswith("report.html")
