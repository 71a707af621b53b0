#!/usr/bin/python3
"""Benchmark: size and accuracy of `adakit export` (compact predict-only models) against the full model,
on the Debian package descriptions task (bench/text_task.py), beside fastText's own `quantize` on the
same split when the `fasttext` binary is installed (Debian package fasttext).

Not a test. Run with Debian's interpreter (no third-party module is needed):

    /usr/bin/python3 bench/export_size.py [--adakit build/tools/adakit/adakit] [--workdir DIR] [--json out.json]

Steps:
  1. train.tsv / test.tsv from apt's Packages index (bench/text_task.py --data-only), unless present.
  2. The full model: the README's recipe (word 1-2-grams, tf-idf, softmax, AdaGrad lr 0.5, s0 = 1,
     10 epochs, batch 1, seed 1), `--save full.bin` (the binary model file, not the 4.5x larger JSON).
  3. `adakit export` at several settings, each with `--data test.tsv --json`: bytes, features kept,
     test accuracy of the export and of the full model, and how often they predict the same class;
     some with `--retrain-data train.tsv` (the kept features retrained after pruning).
  4. fastText (if found): `fasttext supervised` with the settings of its published AG News figure
     (classification-results.sh: -dim 10 -lr 0.25 -wordNgrams 2 -minCount 1 -bucket 10000000 -epoch 5)
     and `fasttext quantize -qnorm -retrain -epoch 5 -cutoff N` (its supervised-models page), on the same
     split, lower-cased with punctuation split off as its normalize_text does.

Prints markdown tables (the ones in docs/performance.md, "Compact models (adakit export)").
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (label, export flags). prune: features whose weights are all |w| <= EPS go; prune-weights: single weights.
EXPORTS = [
    ("float32, prune 0 (lossless)", ["--quantize", "none", "--prune", "0"]),
    ("int8, prune 0", ["--prune", "0"]),
    ("int8, per-feature scales, prune 0", ["--prune", "0", "--scale-by", "feature"]),
    ("int8, prune 0.5", ["--prune", "0.5"]),
    ("int8, prune 0.75", ["--prune", "0.75"]),
    ("int8, prune 0.75, prune-weights 0.5", ["--prune", "0.75", "--prune-weights", "0.5"]),
    ("int8, prune 1", ["--prune", "1"]),
    ("int8, prune 1, prune-weights 0.5", ["--prune", "1", "--prune-weights", "0.5"]),
    ("int8, prune 1.25", ["--prune", "1.25"]),
    ("int8, prune 1.25, per-feature scales", ["--prune", "1.25", "--scale-by", "feature"]),
    ("int8, prune 1.25, keep vocabulary", ["--prune", "1.25", "--keep-vocabulary"]),
    ("int8, prune 1.5", ["--prune", "1.5"]),
    ("int8, prune 2", ["--prune", "2"]),
    ("int8, prune 3", ["--prune", "3"]),
]
# Retraining after pruning (--retrain-data: the kept features train 5 more epochs from their weights,
# fastText's quantize -retrain), with the full model's optimizer settings (RECIPE's lr and accumulator).
RETRAIN = ["--retrain-data", "train.tsv", "--lr", "0.5", "--initial-accumulator-value", "1"]
RETRAIN_L1 = ["--retrain-data", "train.tsv", "--optimizer", "adagrad-l1", "--lr", "0.5", "--initial-accumulator-value", "1"]
EXPORTS += [
    ("int8, prune 1.5, retrained", ["--prune", "1.5"] + RETRAIN),
    ("int8, prune 1.5, prune-weights 0.5, retrained", ["--prune", "1.5", "--prune-weights", "0.5"] + RETRAIN),
    ("int8, prune 1.5, prune-weights 0.75, retrained", ["--prune", "1.5", "--prune-weights", "0.75"] + RETRAIN),
    ("int8, prune 1.5, prune-weights 1, retrained", ["--prune", "1.5", "--prune-weights", "1"] + RETRAIN),
    ("int8, prune 1.6, prune-weights 0.5, retrained", ["--prune", "1.6", "--prune-weights", "0.5"] + RETRAIN),
    ("int8, prune 1.75, prune-weights 0.5, retrained", ["--prune", "1.75", "--prune-weights", "0.5"] + RETRAIN),
    ("int8, prune 2, retrained", ["--prune", "2"] + RETRAIN),
    ("int8, prune 1.5, prune-weights 0.5, retrained with l1 1e-5", ["--prune", "1.5", "--prune-weights", "0.5"] + RETRAIN_L1 + ["--l1", "1e-5"]),
    ("int8, prune 1.5, prune-weights 0.5, retrained with l1 3e-5", ["--prune", "1.5", "--prune-weights", "0.5"] + RETRAIN_L1 + ["--l1", "3e-5"]),
]

RECIPE = ["--ngram", "1,2", "--tfidf", "--model", "softmax", "--optimizer", "adagrad", "--lr", "0.5",
          "--initial-accumulator-value", "1", "--epochs", "10", "--batch-size", "1", "--seed", "1"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def fasttext_text(src, dst):
    """label<TAB>text -> __label__label text, lower-cased, punctuation split off (fastText's normalize_text)."""
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            text = re.sub(r"([.!?,'/()\":;])", r" \1 ", text.lower())
            out.write(f"__label__{label} {' '.join(text.split())}\n")


def fasttext_rows(ft, work, threads):
    tr, te = os.path.join(work, "train.ft"), os.path.join(work, "test.ft")
    fasttext_text(os.path.join(work, "train.tsv"), tr)
    fasttext_text(os.path.join(work, "test.tsv"), te)
    model = os.path.join(work, "ft")
    sup = [ft, "supervised", "-input", tr, "-output", model, "-dim", "10", "-lr", "0.25", "-wordNgrams", "2",
           "-minCount", "1", "-bucket", "10000000", "-epoch", "5", "-thread", str(threads)]
    t0 = time.time()
    run(sup)
    secs = time.time() - t0

    def test(path):  # "N\t...\nP@1\t0.xxx\n..."
        out = run([ft, "test", path, te]).stdout
        return float(re.search(r"P@1\s+([0-9.]+)", out).group(1))

    rows = [dict(what="fastText supervised (the full model)", cmd=" ".join(sup[1:]).replace(work + "/", ""),
                 bytes=os.path.getsize(model + ".bin"), acc=test(model + ".bin"), seconds=secs)]
    for cutoff in (100000, 20000, 5000):
        q = [ft, "quantize", "-input", tr, "-output", model, "-qnorm", "-retrain", "-epoch", "5", "-lr", "0.25",
             "-thread", str(threads), "-cutoff", str(cutoff)]
        run(q)
        rows.append(dict(what=f"fastText quantize -cutoff {cutoff}", cmd=" ".join(q[1:]).replace(work + "/", ""),
                         bytes=os.path.getsize(model + ".ftz"), acc=test(model + ".ftz")))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adakit", default=os.path.join(ROOT, "build", "tools", "adakit", "adakit"))
    ap.add_argument("--workdir", default="/tmp/adakit_export_size")
    ap.add_argument("--fasttext", default=shutil.which("fasttext") or "", help="fastText binary ('' to skip)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="also write every result to this file")
    a = ap.parse_args()
    adakit, work = os.path.abspath(a.adakit), os.path.abspath(a.workdir)
    os.makedirs(work, exist_ok=True)
    tr, te = os.path.join(work, "train.tsv"), os.path.join(work, "test.tsv")
    if not (os.path.exists(tr) and os.path.exists(te)):
        run([sys.executable, os.path.join(HERE, "text_task.py"), "--data-only", "--workdir", work])
    full = os.path.join(work, "full.bin")
    train = [adakit, "train", "--data", tr, "--test-data", te] + RECIPE + ["--save", full, "--json"]
    j = json.loads(run(train).stdout)
    full_bytes = os.path.getsize(full)
    print(f"# full model: {j['features']} features x {j['weights'] // j['features']} classes, test accuracy "
          f"{j['test_accuracy']:.4f}, {full_bytes:,} bytes\n# adakit train --data train.tsv --test-data test.tsv "
          f"{' '.join(RECIPE)} --save full.bin", flush=True)

    rows = []
    for label, flags in EXPORTS:
        out = os.path.join(work, "small.bin")
        cmd = [adakit, "export", "--model", full, "--out", out, "--data", te, "--json"] + [tr if x == "train.tsv" else x for x in flags]
        e = json.loads(run(cmd).stdout)
        rows.append(dict(what=label, flags=" ".join(flags), bytes=e["out_bytes"], kept=e["features"]["kept"],
                         acc=e["test"]["export_accuracy"], full_acc=e["test"]["model_accuracy"],
                         agreement=e["test"]["agreement"]))
        print(f"  {label}: {e['out_bytes']:,} bytes, acc {e['test']['export_accuracy']:.4f}", flush=True)

    full_acc = rows[0]["full_acc"]
    print(f"\n| `adakit export --model full.bin --out small.bin ...` | bytes | of the full model | smaller by | "
          f"features kept | test accuracy | vs full (points) | same class as full |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| (the full model, `--save full.bin`) | {full_bytes:,} | 100% | 1x | {j['features']:,} | {full_acc:.4f} | 0 | 100% |")
    for r in rows:
        print(f"| `{r['flags']}` | {r['bytes']:,} | {100 * r['bytes'] / full_bytes:.2f}% | {full_bytes / r['bytes']:.0f}x | "
              f"{r['kept']:,} | {r['acc']:.4f} | {100 * (r['acc'] - full_acc):+.2f} | {100 * r['agreement']:.1f}% |")
    within = [r for r in rows if r["acc"] >= full_acc - 0.004]
    best = min(within, key=lambda r: r["bytes"])
    print(f"\nSmallest export within 0.4 points of the full model: `{best['flags']}`, {best['bytes']:,} bytes "
          f"(1/{full_bytes / best['bytes']:.0f} of the full model), {100 * (best['acc'] - full_acc):+.2f} points. "
          f"fastText's published AG News figure: 1/{387 / 1.6:.0f} for -0.4 points.")

    ft_rows = []
    if a.fasttext:
        ft_rows = fasttext_rows(a.fasttext, work, a.threads)
        base = ft_rows[0]
        print("\n| fastText on the same split | bytes | of its full model | smaller by | test accuracy (P@1) | vs its full (points) |")
        print("|---|---|---|---|---|---|")
        for r in ft_rows:
            print(f"| {r['what']} | {r['bytes']:,} | {100 * r['bytes'] / base['bytes']:.2f}% | "
                  f"{base['bytes'] / r['bytes']:.0f}x | {r['acc']:.4f} | {100 * (r['acc'] - base['acc']):+.2f} |")
        for r in ft_rows:
            print(f"#   fasttext {r['cmd']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(full=dict(bytes=full_bytes, accuracy=full_acc, train=j), exports=rows, fasttext=ft_rows), f,
                      indent=1)


if __name__ == "__main__":
    main()
