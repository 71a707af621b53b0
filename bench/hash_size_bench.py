#!/usr/bin/python3
"""Benchmark: does adakit's epoch time grow with the hash size? (sparse-learning issue: 2^18 vs 2^24
within 20%). adakit only; compare_sparse_linear.py has the PyTorch side.

Not a test (nothing runs it from `make test`). Same data as compare_sparse_linear.py (its generator:
Zipf s = 1 raw ids hashed into 2^bits columns, ~40 nonzeros a row, the same raw draws for every hash
size), one epoch of logistic regression with AdaGrad (lr 0.1) per measurement, through
adakit-sparse-linear-bench (linear::fit). Several builds can be compared side by side in one run:

    /usr/bin/python3 bench/hash_size_bench.py [--adakit NAME=BINARY ...] [--bits 18,24] [--batch 32,256]
                                              [--rows 1000000] [--repeats 5] [--epochs 2] [--data-dir DIR]

Every (repeat, batch, bits, build) is a fresh process, in that nesting, so the builds and the hash
sizes alternate and share the machine's load alike. Each process trains --epochs epochs. The table
gives the median wall and CPU seconds of the epochs after each process's first, examples/s, and the
ratio of the largest hash size's epoch to the smallest's, per build and batch size; the first epochs
apart (on the benchmark VM the first epoch over a fresh 2^24 table costs ~0.8 s more than the later
ones; no page fault happens in it, the cause is not pinned down). The builds must train
bit for bit the same model (loss, sum of |w| and bias after the run): the script says so or flags it.
Once per repeat and hash size, the last build's --reference gives the memory floors: the least one
pass over the nonzeros costs that reads and writes w[j] and s[j], kept in two tables or side by side.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import compare_sparse_linear as csl  # noqa: E402  (the data generator)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def make_data(data_dir, rows, bits_list, seed):
    paths = {b: os.path.join(data_dir, f"zipf-{rows}-b{b}-s{seed}.bin") for b in bits_list}
    if all(os.path.exists(p) for p in paths.values()):
        return paths
    row_of, ranks, labels, _ = csl.draw_raw(rows, 1 << 27, 43.0, seed)
    for b, path in paths.items():
        if not os.path.exists(path):
            indptr, indices, values = csl.hash_rows(row_of, ranks, b, rows)
            csl.write_dataset(path, indptr, indices, values, labels, 1 << b)
            print(f"# 2^{b}: {indices.size} nonzeros ({indices.size / rows:.1f} a row) -> {path}", flush=True)
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--adakit", action="append", metavar="NAME=BINARY",
                    help="a build to time (repeatable); default: this tree's build/bench/adakit-sparse-linear-bench")
    ap.add_argument("--bits", default="18,24")
    ap.add_argument("--batch", default="32,256")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5, help="processes per (batch, bits, build)")
    ap.add_argument("--epochs", type=int, default=2, help="epochs per process (each one a sample)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", help="keep (and reuse) the generated files here (default: a temporary folder)")
    args = ap.parse_args()
    builds = []
    for spec in args.adakit or [f"adakit={os.path.join(ROOT, 'build', 'bench', 'adakit-sparse-linear-bench')}"]:
        name, _, path = spec.partition("=")
        if not path or not os.access(path, os.X_OK):
            raise SystemExit(f"--adakit {spec}: expected NAME=BINARY, an executable")
        builds.append((name, os.path.abspath(path)))
    bits_list = [int(b) for b in args.bits.split(",")]
    batches = [int(b) for b in args.batch.split(",")]
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="adakit-hash-bench-")
    os.makedirs(data_dir, exist_ok=True)
    print(f"# hash_size_bench: {os.cpu_count()} CPUs, {args.rows} rows, repeats {args.repeats} x {args.epochs} "
          f"epochs; load average at start {loadavg()}", flush=True)
    try:
        paths = make_data(data_dir, args.rows, bits_list, args.seed)
        samples = {}  # (build, batch, bits) -> {"wall": [...], "cpu": [...], "fingerprint": set()}
        floors = {b: [] for b in bits_list}
        for r in range(args.repeats):
            for bits in bits_list:
                out = subprocess.run([builds[-1][1], "--data", paths[bits], "--epochs", "0", "--reference"],
                                     capture_output=True, text=True, check=True).stdout
                floors[bits].append(json.loads(out))
            for batch in batches:
                for bits in bits_list:
                    for name, binary in builds:
                        out = subprocess.run([binary, "--data", paths[bits], "--epochs", str(args.epochs),
                                              "--batch-size", str(batch), "--threads", "1"],
                                             capture_output=True, text=True, check=True).stdout
                        j = json.loads(out)
                        s = samples.setdefault((name, batch, bits),
                                               {"wall": [], "cpu": [], "first": [], "fingerprint": set()})
                        s["first"].append(j["epoch_seconds"][0])
                        later = slice(1, None) if args.epochs > 1 else slice(None)
                        s["wall"] += j["epoch_seconds"][later]
                        s["cpu"] += j["epoch_cpu_seconds"][later]
                        s["fingerprint"].add((j["loss"], j["weights_l1"], j["bias"]))
            print(f"# repeat {r + 1}/{args.repeats} done; load average {loadavg()}", flush=True)
    finally:
        if not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)

    lo, hi = min(bits_list), max(bits_list)
    print()
    later_n = args.repeats * max(args.epochs - 1, 1)
    print(f"## One epoch, logistic regression + AdaGrad, {args.rows} rows, 1 thread: medians of the {later_n} "
          f"epochs after each process's first{'' if args.epochs > 1 else ' (--epochs 1: the first epochs)'}, "
          f"and of the {args.repeats} first epochs apart")
    print(f"| build | batch | hash | s/epoch (wall) | s/epoch (CPU) | examples/s | 2^{hi} / 2^{lo} (wall) | (CPU) "
          f"| first epoch (wall) | 2^{hi} / 2^{lo} |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, _ in builds:
        for batch in batches:
            med = {b: (statistics.median(samples[(name, batch, b)]["wall"]),
                       statistics.median(samples[(name, batch, b)]["cpu"]),
                       statistics.median(samples[(name, batch, b)]["first"])) for b in bits_list}
            for b in bits_list:
                ratio = f"**{med[hi][0] / med[lo][0]:.2f}x**" if b == hi else ""
                ratio_cpu = f"{med[hi][1] / med[lo][1]:.2f}x" if b == hi else ""
                ratio_first = f"{med[hi][2] / med[lo][2]:.2f}x" if b == hi else ""
                print(f"| {name} | {batch} | 2^{b} | {med[b][0]:.3f} | {med[b][1]:.3f} | {args.rows / med[b][0]:,.0f} "
                      f"| {ratio} | {ratio_cpu} | {med[b][2]:.3f} | {ratio_first} |")
    print()
    for b in bits_list:
        f = lambda key: statistics.median(j[key] for j in floors[b]) if key in floors[b][0] else float("nan")
        print(f"memory floor 2^{b} (CPU s a pass): w and s in two tables {f('reference_cpu_seconds_median'):.3f}, "
              f"side by side {f('reference_interleaved_cpu_seconds_median'):.3f}")
    same = True
    for batch in batches:
        for b in bits_list:
            prints = set().union(*(samples[(name, batch, b)]["fingerprint"] for name, _ in builds))
            if len(prints) != 1:
                same = False
                print(f"! batch {batch}, 2^{b}: the builds trained different models: {sorted(prints)}")
    if same:
        print("(every build trained bit for bit the same model: same loss, sum of |w| and bias)")
    print(f"# load average at the end {loadavg()}")


if __name__ == "__main__":
    main()
