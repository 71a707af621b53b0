#!/usr/bin/env bash
# Speed of two builds side by side: the existing benches, old and new interleaved on the same machine.
#
#   bench/speed_side_by_side.sh OLD_BUILD_DIR NEW_BUILD_DIR [--rounds N] [--quick] [--json FILE]
#
# Each build folder needs the bench binaries (configure with -DADAKIT_BUILD_BENCH=ON, the default):
# bench/adakit-step-timer, bench/adakit-sparse-linear-bench, tools/adakit/adakit. Three benches, each
# round running old then new (the order swapped every other round), --rounds rounds (default 3):
#   bandwidth  bench/compare_pytorch.py --bandwidth --adakit BUILD/bench/adakit-step-timer (--quick: 1M
#              and 16M elements, every dense optimizer and the 200-tensor AdaGrad model, 1 and 2 threads,
#              one process per case a round): each dense step's bandwidth as a fraction of the reference
#              loop on the same memory (higher is better). No PyTorch is involved.
#   sparse     the adakit side of bench/compare_sparse_linear.py: adakit-sparse-linear-bench on the
#              script's synthetic Zipf data (its own generator, 300,000 rows; 200,000 with --quick),
#              hashed into 2^18 and 2^22 columns, lazy AdaGrad logistic regression, seconds per epoch
#              (median of 2 epochs; lower is better) for (2^18, batch 32, 1 thread) and (2^22, batch 256,
#              2 threads). The PyTorch side is skipped (it is not needed to compare two adakit builds).
#   glove      the adakit side of bench/glove_bench.py: its corpus (fortunes or /usr/share/doc, and the
#              licence texts), vocabulary, co-occurrences (window 10) and shuffle made once with OLD, initial
#              vectors written once (--iter 0, seed 7); then embed train --init --shuffle none, 5 iterations
#              (3 with --quick), 1 and 2 threads: epochs per second (higher is better).
# Prints each figure's median old, median new, new/old, and the spread (min-max over rounds) of each
# side, then the geometric mean of the ratios per bench. Figures are wall-clock on a shared machine: a
# ratio within the rounds' spread is noise. About 6 minutes on an idle 2-core machine (3 rounds).
# Needs /usr/bin/python3 with NumPy (the data generators); PyTorch is not used.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 OLD_BUILD_DIR NEW_BUILD_DIR [--rounds N] [--quick] [--json FILE]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 - "$here" "$@" << 'EOF'
import argparse, json, math, os, statistics, subprocess, sys, tempfile, time

here = sys.argv[1]
sys.path.insert(0, here)
ap = argparse.ArgumentParser(prog="speed_side_by_side.sh")
ap.add_argument("old")
ap.add_argument("new")
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--quick", action="store_true", help="smaller sparse data and fewer GloVe iterations")
ap.add_argument("--json", help="write every measurement here")
ap.add_argument("--benches", default="bandwidth,sparse,glove")
a = ap.parse_args(sys.argv[2:])
benches = a.benches.split(",")

def need(path):
    if not os.access(path, os.X_OK):
        sys.exit("speed_side_by_side: no executable %s (configure the build with -DADAKIT_BUILD_BENCH=ON and build "
                 "adakit-step-timer adakit-sparse-linear-bench adakit_cli)" % path)
    return path

builds = {}
for side, d in (("old", a.old), ("new", a.new)):
    d = os.path.abspath(d)
    builds[side] = {"timer": need(os.path.join(d, "bench", "adakit-step-timer")),
                    "sparse": need(os.path.join(d, "bench", "adakit-sparse-linear-bench")),
                    "adakit": need(os.path.join(d, "tools", "adakit", "adakit"))}

def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)
    if p.returncode != 0:
        sys.exit("speed_side_by_side: command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr[-2000:]))
    return p.stdout

def load():
    return "%.2f" % os.getloadavg()[0]

t_begin = time.time()
print("# speed_side_by_side: old %s, new %s; %d rounds; %d CPUs; load average %s"
      % (os.path.abspath(a.old), os.path.abspath(a.new), a.rounds, os.cpu_count(), load()), flush=True)
try:
    import torch  # noqa: F401
    print("# (PyTorch is installed; it is not used here: this compares two adakit builds)")
except ImportError:
    print("# PyTorch not installed: the PyTorch sides of the benches are skipped (not needed for old vs new)")

tmp = tempfile.mkdtemp(prefix="adakit-speed-")
records = []  # dict(bench, setting, metric, better, side, round, value)

def record(bench, setting, metric, better, side, rnd, value):
    records.append(dict(bench=bench, setting=setting, metric=metric, better=better, side=side, round=rnd, value=value))

# ---------------------------------------------------------------- preparation
sparse_settings = [(18, 32, 1), (22, 256, 2)]
sparse_paths = {}
if "sparse" in benches:
    import numpy as np
    import compare_sparse_linear as csl
    rows = 200_000 if a.quick else 300_000
    t0 = time.time()
    row_of, ranks, labels, planted = csl.draw_raw(rows, 1 << 27, 43.0, 1)
    for bits in sorted({s[0] for s in sparse_settings}):
        indptr, indices, values = csl.hash_rows(row_of, ranks, bits, rows)
        path = os.path.join(tmp, "zipf-%d-b%d.bin" % (rows, bits))
        csl.write_dataset(path, indptr, indices, values, labels, 1 << bits)
        sparse_paths[bits] = path
    del row_of, ranks
    print("# sparse data: %d rows (compare_sparse_linear.py's generator, seed 1), 2^%s columns; %.1f s"
          % (rows, ", 2^".join(str(b) for b in sorted(sparse_paths)), time.time() - t0), flush=True)

glove_iter = 3 if a.quick else 5
if "glove" in benches:
    import glove_bench
    t0 = time.time()
    w = lambda name: os.path.join(tmp, name)
    sources, nlines, nbytes = glove_bench.assemble_corpus(w("corpus.txt"))
    ad = builds["old"]["adakit"]
    v = json.loads(run([ad, "embed", "vocab", "--corpus", w("corpus.txt"), "--out", w("vocab.txt"), "--tokenizer", "words",
                        "--min-count", "5", "--json"]))
    c = json.loads(run([ad, "embed", "cooccur", "--corpus", w("corpus.txt"), "--vocab", w("vocab.txt"), "--out",
                        w("cooccurrence.bin"), "--tokenizer", "words", "--window", "10", "--memory", "1", "--json"]))
    run([ad, "embed", "shuffle", "--in", w("cooccurrence.bin"), "--out", w("cooccurrence.shuf.bin"), "--seed", "1"])
    run([ad, "embed", "train", "--cooccur", w("cooccurrence.shuf.bin"), "--vocab", w("vocab.txt"), "--iter", "0",
         "--binary-out", w("init.bin"), "--seed", "7", "-q"])
    print("# glove data: %s; %.2f MB, %d tokens, vocabulary %d, %d co-occurrence records; %.1f s"
          % (", ".join(sources), nbytes / 1e6, v["tokens"], v["vocab_size"], c["records"], time.time() - t0), flush=True)

# ---------------------------------------------------------------- one side, one round
def bandwidth(side, rnd):
    out = os.path.join(tmp, "bw.json")
    run([sys.executable, os.path.join(here, "compare_pytorch.py"), "--bandwidth", "--quick", "--runs", "1",
         "--threads", "1,2", "--adakit", builds[side]["timer"], "--json", out])
    for row in json.load(open(out))["bandwidth"]:
        setting = "%s %s t%d" % (row["case"], row["size"], row["threads"])
        record("bandwidth", setting, "fraction of reference", "higher", side, rnd, statistics.median(row["fractions"]))

def sparse(side, rnd):
    for bits, batch, threads in sparse_settings:
        j = json.loads(run([builds[side]["sparse"], "--data", sparse_paths[bits], "--threads", str(threads),
                            "--batch-size", str(batch), "--lr", "0.1", "--epochs", "2"]))
        record("sparse", "2^%d batch %d t%d" % (bits, batch, threads), "s/epoch", "lower", side, rnd,
               j["seconds_per_epoch"])

def glove(side, rnd):
    for threads in (1, 2):
        j = json.loads(run([builds[side]["adakit"], "embed", "train", "--cooccur", w("cooccurrence.shuf.bin"), "--vocab",
                            w("vocab.txt"), "--x-max", "10", "--threads", str(threads), "--iter", str(glove_iter),
                            "--init", w("init.bin"), "--shuffle", "none", "--json"]))
        record("glove", "d 50, %d iter, t%d" % (glove_iter, threads), "epochs/s", "higher", side, rnd,
               j["epochs_per_second"])

runners = {"bandwidth": bandwidth, "sparse": sparse, "glove": glove}
for bench in benches:
    t0 = time.time()
    for rnd in range(a.rounds):
        for side in (("old", "new") if rnd % 2 == 0 else ("new", "old")):
            runners[bench](side, rnd)
    print("# %s: %d rounds in %.0f s (load average %s)" % (bench, a.rounds, time.time() - t0, load()), flush=True)

# ---------------------------------------------------------------- table
print("\n| bench | setting | metric | old median | new median | new/old | old min-max | new min-max |")
print("|---|---|---|---|---|---|---|---|")
keys = []
for r in records:
    k = (r["bench"], r["setting"], r["metric"], r["better"])
    if k not in keys:
        keys.append(k)
per_bench = {}
for k in keys:
    vals = {s: [r["value"] for r in records if (r["bench"], r["setting"], r["metric"], r["better"]) == k and r["side"] == s]
            for s in ("old", "new")}
    mo, mn = statistics.median(vals["old"]), statistics.median(vals["new"])
    ratio = mn / mo
    per_bench.setdefault(k[0], []).append(ratio)
    print("| %s | %s | %s (%s better) | %.4g | %.4g | %.3f | %.4g-%.4g | %.4g-%.4g |" % (
        k[0], k[1], k[2], k[3], mo, mn, ratio, min(vals["old"]), max(vals["old"]), min(vals["new"]), max(vals["new"])))
print()
for bench, ratios in per_bench.items():
    g = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
    better = next(k[3] for k in keys if k[0] == bench)
    print("%-9s geometric mean of new/old over %d figures: %.3f (%s is better)" % (bench, len(ratios), g, better))
print("\nload average at the end %s; wall time %.0f s" % (load(), time.time() - t_begin))
if a.json:
    with open(a.json, "w") as f:
        json.dump({"old": os.path.abspath(a.old), "new": os.path.abspath(a.new), "rounds": a.rounds, "records": records}, f,
                  indent=1)
import shutil
shutil.rmtree(tmp, ignore_errors=True)
EOF
