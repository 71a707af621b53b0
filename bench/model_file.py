#!/usr/bin/python3
"""Benchmark: sparse model files, binary against JSON, on a real text task.

Not a test. Trains the README's text recipe (word 1-2-grams, tf-idf, softmax, AdaGrad) once on the
Debian descriptions task of bench/text_task.py, saves the model as a binary file (m.bin), as JSON
(m.json) and as a binary file with the optimizer's state (m_state.bin), then measures, each side by
side in one run:

  - file size;
  - `adakit train ... --save FILE` wall time (median of --train-runs runs), and the run without --save;
  - `adakit predict --model FILE --text "..."`: wall time (median, min, max of --runs runs) and peak
    resident memory (the child's ru_maxrss), for each file; also `adakit --version` (process start-up).

    /usr/bin/python3 bench/model_file.py [--adakit BIN] [--old-adakit OLD_BIN] [--workdir DIR] [--runs N]

--old-adakit: an earlier build, which saves and reads only the JSON file: its `predict` on its own
m.json is the "before" figure. Prints a table and the ratios; --json FILE writes the figures.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RECIPE = ["--ngram", "1,2", "--tfidf", "--model", "softmax", "--optimizer", "adagrad", "--lr", "0.5",
          "--initial-accumulator-value", "1", "--epochs", "10", "--batch-size", "1", "--seed", "1", "--quiet"]


def run(cmd):
    """Wall seconds and peak RSS (MB) of one child process; raises on a non-zero exit."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    err = p.stderr.read().decode()
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err}")
    return secs, usage.ru_maxrss / 1024.0


def repeat(cmd, n):
    runs = [run(cmd) for _ in range(n)]
    walls = sorted(r[0] for r in runs)
    return {"median_ms": 1000 * statistics.median(walls), "min_ms": 1000 * walls[0], "max_ms": 1000 * walls[-1],
            "max_rss_mb": max(r[1] for r in runs), "runs": n}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--adakit", default=os.path.join(ROOT, "build", "tools", "adakit", "adakit"))
    ap.add_argument("--old-adakit", help="an earlier build (JSON model files only), for the 'before' figures")
    ap.add_argument("--workdir", default="/tmp/adakit-model-file")
    ap.add_argument("--runs", type=int, default=21, help="predict runs per file (median reported)")
    ap.add_argument("--train-runs", type=int, default=3)
    ap.add_argument("--text", default="multiplayer tank battle game")
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()

    w = a.workdir
    os.makedirs(w, exist_ok=True)
    train, test = os.path.join(w, "train.tsv"), os.path.join(w, "test.tsv")
    if not (os.path.exists(train) and os.path.exists(test)):
        subprocess.run([sys.executable, os.path.join(HERE, "text_task.py"), "--data-only", "--workdir", w], check=True)
    data = ["--data", train, "--test-data", test]
    sides = [("new", a.adakit)] + ([("old", a.old_adakit)] if a.old_adakit else [])
    out = {"task": "Debian descriptions (bench/text_task.py)", "recipe": " ".join(RECIPE), "text": a.text}

    # Training: without --save, then each file; interleaved rounds.
    saves = {"none": [], "bin": [], "json": [], "state": []}
    for _ in range(a.train_runs):
        for kind, extra in (("none", []), ("bin", ["--save", os.path.join(w, "m.bin")]),
                            ("json", ["--save", os.path.join(w, "m.json")]),
                            ("state", ["--save", os.path.join(w, "m_state.bin"), "--save-state"])):
            saves[kind].append(run([a.adakit, "train"] + data + RECIPE + extra)[0])
    out["train_seconds"] = {k: statistics.median(v) for k, v in saves.items()}
    if a.old_adakit:
        run([a.old_adakit, "train"] + data + RECIPE + ["--save", os.path.join(w, "old.json")])
    files = {"bin": "m.bin", "json": "m.json", "state": "m_state.bin"}
    out["bytes"] = {k: os.path.getsize(os.path.join(w, f)) for k, f in files.items()}

    predict = {"startup (--version)": repeat([a.adakit, "--version"], a.runs)}
    for k, f in files.items():
        predict[f"new, {f}"] = repeat([a.adakit, "predict", "--model", os.path.join(w, f), "--text", a.text], a.runs)
    if a.old_adakit:
        predict["old, its JSON file"] = repeat([a.old_adakit, "predict", "--model", os.path.join(w, "old.json"),
                                                "--text", a.text], min(a.runs, 5))
    out["predict"] = predict

    b = out["bytes"]
    print(f"# {out['task']}; recipe: adakit train {out['recipe']}")
    print(f"# files: m.json {b['json']:,} B; m.bin {b['bin']:,} B ({b['bin'] / b['json']:.1%} of the JSON); "
          f"m_state.bin {b['state']:,} B ({b['state'] / b['json']:.1%})")
    t = out["train_seconds"]
    print(f"# train (median of {a.train_runs}): no --save {t['none']:.2f} s, m.bin {t['bin']:.2f} s, "
          f"m.json {t['json']:.2f} s, m_state.bin {t['state']:.2f} s")
    print("\n| predict --text | median ms | min-max ms | peak RSS MB |\n|---|---|---|---|")
    for k, r in predict.items():
        print(f"| {k} | {r['median_ms']:.0f} | {r['min_ms']:.0f}-{r['max_ms']:.0f} | {r['max_rss_mb']:.0f} |")
    if a.old_adakit:
        old, new = predict["old, its JSON file"], predict["new, m.bin"]
        print(f"\nnew binary / old JSON: wall {new['median_ms'] / old['median_ms']:.3f}, "
              f"peak RSS {new['max_rss_mb'] / old['max_rss_mb']:.3f}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
