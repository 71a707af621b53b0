#!/usr/bin/python3
"""GloVe on real English text: adakit's trainer against a plain-C loop, and what the vectors learn.

    make                                    # builds build/tools/adakit/adakit (or pass --adakit PATH)
    /usr/bin/python3 bench/glove_bench.py [--repeats 5] [--iter 10] [--threads 1,2] [--quick] [--json FILE]

A benchmark, not a test. Steps:

1. Corpus: Debian's fortunes (apt-get install fortunes; one fortune per line) and the licence texts in
   /usr/share/common-licenses (one paragraph per line), about 2.8 MB. Without fortunes it falls back
   to the plain-text files under /usr/share/doc. Nothing is bundled; the corpus is assembled in --work.
2. The pipeline with adakit's CLI: embed vocab (adakit's `words` tokenizer: lower-cased runs of 2+ word
   characters; --min-count 5), embed cooccur (symmetric window 10, 1/distance), embed shuffle.
3. Quality: 25 iterations of embed train (d 50, x_max 10, eta 0.05, glove.c's AdaGrad convention, 2
   threads) on the shuffled file: the cost of every iteration (it must fall every time) and the
   nearest neighbours of a few frequent words.
4. Speed: the initial vectors are written once (embed train --iter 0 --binary-out init.bin); then
   adakit (embed train --init init.bin --shuffle none) and bench/glove_ref.c (compiled here with the
   reference Makefile's flags, -O3 -march=native -funroll-loops) train on the same shuffled file from
   the same vectors, in the same record order, with the same thread split, --iter iterations each.
   Each (threads, repeat) runs both, alternating which goes first. Reported: median epochs per second
   of each (training only: the records are in memory before the clock starts on both sides), the
   ratio, and the final costs (they must agree within 1%; with one thread the two loops do the same
   arithmetic in the same order and agree to about 1e-12).
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FREQUENT = ["man", "woman", "love", "life", "money", "computer", "god", "war", "law", "cat", "king", "program"]


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr[-2000:]))
    return p.stdout


def assemble_corpus(path):
    lines, sources = [], []
    fortune_files = [f for f in sorted(glob.glob("/usr/share/games/fortunes/*"))
                     if os.path.isfile(f) and not os.path.islink(f) and not f.endswith(".dat")]
    for f in fortune_files:
        text = open(f, encoding="utf-8", errors="replace").read()
        for fortune in text.split("\n%\n"):
            one = " ".join(fortune.split())
            if one:
                lines.append(one)
    if fortune_files:
        sources.append("fortunes (%d files)" % len(fortune_files))
    else:
        print("note: Debian's fortunes are not installed (apt-get install fortunes); using /usr/share/doc instead")
        budget = 2_500_000
        for f in sorted(glob.glob("/usr/share/doc/**/*", recursive=True)):
            if budget <= 0:
                break
            base = os.path.basename(f).lower()
            if os.path.islink(f) or not os.path.isfile(f) or f.endswith(".gz") or base == "copyright":
                continue
            if not (base.startswith("readme") or base.endswith(".txt") or base.startswith("news")):
                continue
            text = open(f, encoding="utf-8", errors="replace").read()
            if "\x00" in text:
                continue
            for para in text.split("\n\n"):
                one = " ".join(para.split())
                if one:
                    lines.append(one)
                    budget -= len(one)
        sources.append("/usr/share/doc plain-text files")
    licences = [f for f in sorted(glob.glob("/usr/share/common-licenses/*")) if os.path.isfile(f) and not os.path.islink(f)]
    for f in licences:
        for para in open(f, encoding="utf-8", errors="replace").read().split("\n\n"):
            one = " ".join(para.split())
            if one:
                lines.append(one)
    sources.append("/usr/share/common-licenses (%d files)" % len(licences))
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return sources, len(lines), os.path.getsize(path)


def adakit_train(adakit, work, vocab, threads, iters, extra=()):
    out = run([adakit, "embed", "train", "--cooccur", os.path.join(work, "cooccurrence.shuf.bin"), "--vocab", vocab,
               "--x-max", "10", "--threads", str(threads), "--iter", str(iters), "--json", *extra])
    return json.loads(out)


def c_train(binary, work, vocab_size, threads, iters):
    out = run([binary, "-input-file", os.path.join(work, "cooccurrence.shuf.bin"), "-init-file",
               os.path.join(work, "init.bin"), "-vocab-size", str(vocab_size), "-x-max", "10", "-threads", str(threads),
               "-iter", str(iters)])
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--adakit", default=os.path.join(ROOT, "build", "tools", "adakit", "adakit"))
    ap.add_argument("--work", default="/tmp/adakit_glove_bench")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--iter", type=int, default=10, help="iterations per timed run")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--quality-iter", type=int, default=25)
    ap.add_argument("--quick", action="store_true", help="3 repeats of 5 iterations, 15 quality iterations")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--json", help="write every run's numbers here")
    a = ap.parse_args()
    if a.quick:
        a.repeats, a.iter, a.quality_iter = 3, 5, 15
    if not os.access(a.adakit, os.X_OK):
        sys.exit("no adakit binary at %s (build it with make, or pass --adakit)" % a.adakit)
    os.makedirs(a.work, exist_ok=True)
    w = lambda name: os.path.join(a.work, name)
    report = {"load_start": load()}
    print("load average at start: %s (2 cores; figures are noisy when it is above 1)" % report["load_start"])

    # 1-2. Corpus and pipeline.
    sources, nlines, nbytes = assemble_corpus(w("corpus.txt"))
    print("corpus: %s; %d lines, %.2f MB -> %s" % (", ".join(sources), nlines, nbytes / 1e6, w("corpus.txt")))
    t0 = time.time()
    v = json.loads(run([a.adakit, "embed", "vocab", "--corpus", w("corpus.txt"), "--out", w("vocab.txt"), "--tokenizer",
                        "words", "--min-count", "5", "--json"]))
    c = json.loads(run([a.adakit, "embed", "cooccur", "--corpus", w("corpus.txt"), "--vocab", w("vocab.txt"), "--out",
                        w("cooccurrence.bin"), "--tokenizer", "words", "--window", "10", "--memory", "1", "--json"]))
    run([a.adakit, "embed", "shuffle", "--in", w("cooccurrence.bin"), "--out", w("cooccurrence.shuf.bin"), "--seed", "1"])
    print("pipeline: %d tokens, vocabulary %d (min count 5), %d nonzero co-occurrences (window 10); %.1f s"
          % (v["tokens"], v["vocab_size"], c["records"], time.time() - t0))
    report.update(corpus={"sources": sources, "lines": nlines, "bytes": nbytes}, vocab=v, cooccur=c)

    # 3. Quality.
    q = adakit_train(a.adakit, a.work, w("vocab.txt"), 2, a.quality_iter,
                     ["--shuffle", "none", "--text-out", w("vectors.txt"), "--binary-out", w("vectors.bin")])
    costs = q["costs"]
    falls = all(costs[i] < costs[i - 1] for i in range(1, len(costs)))
    print("\ncost per iteration (d 50, x_max 10, 2 threads): " + ", ".join("%.5f" % x for x in costs))
    print("falls at every iteration: %s" % ("yes" if falls else "NO"))
    vocab_words = {line.split(" ")[0] for line in open(w("vocab.txt"), encoding="utf-8")}
    show = [x for x in FREQUENT if x in vocab_words]
    near = json.loads(run([a.adakit, "embed", "nearest", "--vectors", w("vectors.txt"), "-k", "6", "--json", *show]))
    print("nearest neighbours (cosine of w + w~):")
    for word in show:
        print("  %-9s %s" % (word, ", ".join("%s %.2f" % (n["word"], n["similarity"]) for n in near[word])))
    report["quality"] = {"costs": costs, "falls_every_iteration": falls, "nearest": near}

    # 4. Speed.
    run([a.adakit, "embed", "train", "--cooccur", w("cooccurrence.shuf.bin"), "--vocab", w("vocab.txt"), "--iter", "0",
         "--binary-out", w("init.bin"), "--seed", "7", "-q"])
    binary = w("glove_ref")
    run([a.cc, "-O3", "-march=native", "-funroll-loops", "-o", binary, os.path.join(ROOT, "bench", "glove_ref.c"), "-lm",
         "-pthread"])
    vocab_size = v["vocab_size"]
    rows, raw = [], []
    print("\ntiming: %d iterations a run, %d runs per side and thread count (load %s)" % (a.iter, a.repeats, load()))
    for threads in [int(x) for x in a.threads.split(",")]:
        ada, ref = [], []
        for r in range(a.repeats):
            order = ["adakit", "c"] if r % 2 == 0 else ["c", "adakit"]
            for side in order:
                if side == "adakit":
                    j = adakit_train(a.adakit, a.work, w("vocab.txt"), threads, a.iter,
                                     ["--init", w("init.bin"), "--shuffle", "none"])
                    ada.append(j)
                else:
                    ref.append(c_train(binary, a.work, vocab_size, threads, a.iter))
        ea = statistics.median(x["epochs_per_second"] for x in ada)
        ec = statistics.median(x["epochs_per_second"] for x in ref)
        fa = statistics.median(x["final_cost"] for x in ada)
        fc = statistics.median(x["final_cost"] for x in ref)
        rows.append({"threads": threads, "adakit_epochs_per_second": ea, "c_epochs_per_second": ec, "ratio": ea / ec,
                     "ratio_of_maxima": max(x["epochs_per_second"] for x in ada) / max(x["epochs_per_second"] for x in ref),
                     "adakit_final_cost": fa, "c_final_cost": fc, "final_cost_rel_diff": abs(fa - fc) / fc, "load": load()})
        raw.append({"threads": threads, "adakit": ada, "c": ref})
    print("\n| threads | adakit epochs/s | C loop epochs/s | adakit / C | ratio of maxima | adakit final cost | C final cost "
          "| rel. diff | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for x in rows:
        print("| %d | %.3f | %.3f | %.2f | %.2f | %.6f | %.6f | %.1e | %s |" % (
            x["threads"], x["adakit_epochs_per_second"], x["c_epochs_per_second"], x["ratio"], x["ratio_of_maxima"],
            x["adakit_final_cost"], x["c_final_cost"], x["final_cost_rel_diff"], x["load"]))
    agree = all(x["final_cost_rel_diff"] < 0.01 for x in rows)
    faster = all(x["ratio"] >= 1.0 for x in rows)
    print("\nfinal costs agree within 1%%: %s; adakit at least as fast as the C loop: %s; load at end %s"
          % ("yes" if agree else "NO", "yes" if faster else "NO", load()))
    report.update(timing=rows, runs=raw, iterations=a.iter, repeats=a.repeats, load_end=load(),
                  costs_agree=agree, adakit_faster=faster)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
        print("wrote %s" % a.json)


if __name__ == "__main__":
    main()
