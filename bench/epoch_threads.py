#!/usr/bin/python3
"""Epoch seconds of `adakit train` on 1 and 2 threads, interleaved, for one or more adakit binaries.

Each round runs every binary at --threads 1 then 2 on the same LIBSVM file with the same settings and
reads the median of its --json `epoch_seconds`; rounds alternate so that the VM's slow and fast spells
fall on every run alike. Prints, per binary, the median over the rounds of each thread count's epoch and
the median of the per-round 2-thread / 1-thread ratios (issue 19's "epochs on 2 threads" figure), and
checks that each binary wrote the same model at 1 and 2 threads. A benchmark, not a test.

    /usr/bin/python3 bench/epoch_threads.py --data /tmp/adakit-compare-text/debian-long/svm/train.svm \\
        --adakit new=build/tools/adakit/adakit --adakit old=/tmp/old/build/tools/adakit/adakit --rounds 8

The default settings are bench/compare_text.py's for debian-long (squared hinge, AdaGrad lr 0.5, the
accumulator at 30, batch 1, 5 epochs, seed 1), with no --test-data: train.svm's own 20% is held out.
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile

SETTINGS = ["--loss", "squared_hinge", "--optimizer", "adagrad", "--lr", "0.5", "--initial-accumulator-value", "30",
            "--epochs", "5", "--batch-size", "1", "--seed", "1"]


def run(binary, data, threads, extra, model):
    out = subprocess.run([binary, "--threads", str(threads), "train", "--data", data, "--json", "--save", model] +
                         SETTINGS + extra, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{binary} failed ({out.returncode}): {out.stderr.strip()[-400:]}")
    j = json.loads(out.stdout.splitlines()[-1])
    with open(model, "rb") as f:
        digest = hashlib.md5(f.read()).hexdigest()
    return statistics.median(j["epoch_seconds"]), j.get("fit_threads"), digest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a LIBSVM training file")
    ap.add_argument("--adakit", action="append", required=True, help="LABEL=PATH of an adakit binary (repeatable)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--extra", default="", help="more train flags, one string")
    a = ap.parse_args()
    bins = [s.split("=", 1) if "=" in s else (s, s) for s in a.adakit]
    extra = a.extra.split()
    res = {(label, t): [] for label, _ in bins for t in (1, 2)}
    digests, used = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            print(f"# round {r + 1}/{a.rounds}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
                  file=sys.stderr)
            for label, path in bins:
                for t in (1, 2):
                    epoch, sl, digest = run(path, a.data, t, extra, os.path.join(tmp, "m.bin"))
                    res[(label, t)].append(epoch)
                    digests.setdefault(label, set()).add(digest)
                    used[(label, t)] = sl
    print("| adakit | epoch, 1 thr | epoch, 2 thr | 2 thr / 1 thr (median of rounds) | fit threads at 2 thr | "
          "same model at 1 and 2 thr |")
    print("|---|---|---|---|---|---|")
    for label, _ in bins:
        one, two = res[(label, 1)], res[(label, 2)]
        ratio = statistics.median(b / x for x, b in zip(one, two))
        print(f"| {label} | {statistics.median(one):.3f} s | {statistics.median(two):.3f} s | {ratio:.2f} | "
              f"{used[(label, 2)] if used[(label, 2)] is not None else 'n/a'} | "
              f"{'yes' if len(digests[label]) == 1 else 'NO'} |")


if __name__ == "__main__":
    main()
