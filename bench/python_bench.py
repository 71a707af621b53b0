#!/usr/bin/python3
"""Benchmark: adakit's Python package against PyTorch and scikit-learn, side by side in one run.

Not a test (nothing runs it from `make test`). Run with Debian's interpreter (python3-torch,
python3-sklearn) after building the package (cmake ... && ninja -C build _adakit):

    /usr/bin/python3 bench/python_bench.py [--part step,text] [--threads 1,2] [--runs 5] [--quick]

step   adakit.torch.Adagrad.step() against torch.optim.Adagrad (foreach=False and foreach=True) on one
       float32 parameter of --size elements (default 16M; parameter 0.5, gradient 1e-3 held fixed),
       torch.set_num_threads(T) for T in --threads (adakit.torch steps with torch's thread count).
       Each side has its own parameter, gradient and state, 2 warm-up steps; then every run times
       --steps steps of each side in turn (the order rotates between runs). A side's figure is the
       median over runs of each run's median step. --heap also runs the whole comparison again in a
       child process with GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=<huge>,
       so that torch's per-step temporaries reuse resident memory instead of fresh page-faulting
       mmaps (see docs/performance.md: first touches are slow in this VM).
text   the text task of bench/text_task.py (Debian package descriptions -> archive section; tf-idf
       1-2-grams as LIBSVM files in --workdir, made by `bench/text_task.py --quick` when missing).
       adakit.sklearn.LogisticRegression with the prescribed setting (softmax, adagrad, lr 0.5,
       initial_accumulator_value 1, 10 epochs, batch 1: the CLI's) sets the target accuracy (its own
       minus --tolerance). Then sklearn.linear_model.SGDClassifier(loss="log_loss", tol=None) is swept
       over alpha x epochs, and adakit over lr x epochs (s0 1), fewest epochs first, for each side's
       cheapest setting (CPU time) reaching the target ("to equal accuracy"). The three fits are then
       timed --runs times in rotating order; the table gives medians of wall and CPU time and
       SGDClassifier's time over each adakit row. Everything runs on one thread (SGDClassifier's
       n_jobs=None, adakit.set_num_threads(1)).
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def import_adakit(build_dir):
    try:
        import adakit  # noqa: F401
    except ImportError:
        sys.path.insert(0, os.path.join(build_dir, "python"))
    import adakit
    return adakit


# ---------------------------------------------------------------- step

def step_bench(a, adakit):
    import torch
    import adakit.torch as atorch

    n = a.size
    results = []
    for threads in a.threads:
        torch.set_num_threads(threads)
        sides = {}
        for label, make in [("torch foreach=False", lambda p: torch.optim.Adagrad([p], lr=0.01, foreach=False)),
                            ("torch foreach=True", lambda p: torch.optim.Adagrad([p], lr=0.01, foreach=True)),
                            ("adakit.torch", lambda p: atorch.Adagrad([p], lr=0.01))]:
            p = torch.nn.Parameter(torch.full((n,), 0.5))
            p.grad = torch.full((n,), 1e-3)
            opt = make(p)
            for _ in range(2):
                opt.step()
            sides[label] = (p, opt, [])
        labels = list(sides)
        for run in range(a.runs):
            order = labels[run % len(labels):] + labels[:run % len(labels)]
            for label in order:
                _, opt, medians = sides[label]
                times = []
                for _ in range(a.steps):
                    t0 = time.perf_counter()
                    opt.step()
                    times.append(time.perf_counter() - t0)
                medians.append(statistics.median(times))
        row = {"threads": threads, "elements": n}
        for label in labels:
            row[label] = statistics.median(sides[label][2])
            row[label + " runs"] = sides[label][2]
        results.append(row)
        del sides
        gc.collect()
    return results


def print_step(results, title):
    print(f"\n## adakit.torch.Adagrad.step() vs torch.optim.Adagrad — {title}\n")
    print("| elements | threads | torch foreach=False | torch foreach=True | adakit.torch | vs foreach=False | "
          "vs foreach=True |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        f, t, k = r["torch foreach=False"], r["torch foreach=True"], r["adakit.torch"]
        print(f"| {r['elements'] / 2**20:.0f}M | {r['threads']} | {1e3 * f:.2f} ms | {1e3 * t:.2f} ms | {1e3 * k:.2f} ms | "
              f"**{f / k:.2f}×** | **{t / k:.2f}×** |")


# ---------------------------------------------------------------- text

def text_bench(a, adakit):
    import numpy as np
    from sklearn.datasets import load_svmlight_files
    from sklearn.linear_model import SGDClassifier
    from adakit.sklearn import LogisticRegression

    train, test = os.path.join(a.workdir, "train.svm"), os.path.join(a.workdir, "test.svm")
    if not (os.path.exists(train) and os.path.exists(test)):
        subprocess.run([sys.executable, os.path.join(HERE, "text_task.py"), "--quick", "--workdir", a.workdir],
                       check=True)
    xtr, ytr, xte, yte = load_svmlight_files([train, test], dtype=np.float32, zero_based=False)
    ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
    print(f"\n## text task: {xtr.shape[0]} train / {xte.shape[0]} test rows, {xtr.shape[1]} features, "
          f"{len(np.unique(ytr))} classes, {xtr.nnz / xtr.shape[0]:.1f} nonzeros a row "
          f"(X: CSR {xtr.data.dtype}, indices {xtr.indices.dtype}, indptr {xtr.indptr.dtype})")
    adakit.set_num_threads(1)

    def timed(clf):
        t0, c0 = time.perf_counter(), time.process_time()
        clf.fit(xtr, ytr)
        return time.perf_counter() - t0, time.process_time() - c0, float(clf.score(xte, yte))

    def ada(lr, epochs):
        return lambda: timed(LogisticRegression(optimizer="adagrad", lr=lr, epochs=epochs, batch_size=1,
                                                random_state=a.seed, optimizer_options={"initial_accumulator_value": 1}))

    def sgd(alpha, epochs):
        return lambda: timed(SGDClassifier(loss="log_loss", alpha=alpha, max_iter=epochs, tol=None,
                                           random_state=a.seed))

    prescribed = ada(0.5, 10)
    _, _, acc = prescribed()
    target = acc - a.tolerance

    def sweep(label, settings):
        """The cheapest setting (CPU time) that reaches `target`, fewest epochs first; else the most accurate."""
        rows, chosen = [], None
        for epochs in sorted({e for _, e in settings}):
            for key, e in settings:
                if e != epochs:
                    continue
                wall, cpu, ac = (ada if label == "adakit" else sgd)(key, e)()
                rows.append({"key": key, "epochs": e, "accuracy": ac, "seconds": wall, "cpu": cpu})
                print(f"  {label} {'lr' if label == 'adakit' else 'alpha'}={key:g} epochs={e}: accuracy {ac:.4f}, "
                      f"{wall:.2f} s ({cpu:.2f} s CPU)", flush=True)
                if ac >= target and (chosen is None or cpu < chosen["cpu"]):
                    chosen = rows[-1]
            if chosen is not None:
                break  # more epochs only cost more
        return chosen or max(rows, key=lambda r: r["accuracy"]), rows

    print(f"prescribed adakit setting (lr 0.5, s0 1, 10 epochs): test accuracy {acc:.4f}; target for the others "
          f">= {target:.4f} (that minus {a.tolerance})")
    sgd_best, sgd_rows = sweep("SGDClassifier", [(al, e) for e in a.sgd_epochs for al in a.sgd_alphas])
    ada_best, ada_rows = sweep("adakit", [(lr, e) for e in a.ada_epochs for lr in a.ada_lrs])
    sides = {"prescribed": prescribed, "adakit tuned": ada(ada_best["key"], ada_best["epochs"]),
             "SGDClassifier": sgd(sgd_best["key"], sgd_best["epochs"])}
    runs = {k: [] for k in sides}  # (wall, cpu, accuracy) per fit
    names = list(sides)
    for run in range(a.runs):
        for name in names[run % 3:] + names[:run % 3]:
            runs[name].append(sides[name]())
    med = {k: [statistics.median(r[i] for r in rs) for i in range(3)] for k, rs in runs.items()}
    labels = {"prescribed": "adakit.sklearn.LogisticRegression(adagrad, lr 0.5, s0 1, 10 epochs, batch 1)",
              "adakit tuned": f"adakit.sklearn.LogisticRegression(adagrad, lr {ada_best['key']:g}, s0 1, "
                              f"{ada_best['epochs']} epochs, batch 1)",
              "SGDClassifier": f"SGDClassifier(log_loss, alpha={sgd_best['key']:g}, {sgd_best['epochs']} epochs, "
                               "tol=None)"}
    print(f"\n| learner | test accuracy | fit, wall (median of {a.runs}) | fit, CPU | SGDClassifier / this (wall, CPU) |")
    print("|---|---|---|---|---|")
    for k in names:
        w, c, ac = med[k]
        print(f"| {labels[k]} | {ac:.4f} | {w:.2f} s | {c:.2f} s | "
              f"**{med['SGDClassifier'][0] / w:.2f}×**, **{med['SGDClassifier'][1] / c:.2f}×** |")
    if sgd_best["accuracy"] < target or ada_best["accuracy"] < target:
        print("(a side never reached the target: its most accurate setting is shown)")
    return {"target": target, "median": med, "runs": runs, "sgd_sweep": sgd_rows, "adakit_sweep": ada_rows,
            "sgd_setting": sgd_best, "adakit_setting": ada_best}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", default="step,text")
    ap.add_argument("--threads", type=lambda t: [int(x) for x in t.split(",")], default=[1, 2])
    ap.add_argument("--size", type=lambda t: int(float(t.rstrip("M")) * 2**20) if t.endswith("M") else int(t),
                    default=16 * 2**20, help="elements of the parameter (e.g. 16M)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5, help="timed steps of each side per run")
    ap.add_argument("--heap", action="store_true", help="also run the step comparison with glibc's heap kept")
    ap.add_argument("--workdir", default="/tmp/adakit-text-task")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tolerance", type=float, default=0.005, help="accuracy SGDClassifier may miss adakit's by")
    ap.add_argument("--sgd-alphas", type=lambda t: [float(x) for x in t.split(",")], default=[1e-5, 3e-6, 1e-6])
    ap.add_argument("--sgd-epochs", type=lambda t: [int(x) for x in t.split(",")], default=[1, 2, 3, 5, 10, 20])
    ap.add_argument("--ada-lrs", type=lambda t: [float(x) for x in t.split(",")], default=[0.5, 1.0, 2.0])
    ap.add_argument("--ada-epochs", type=lambda t: [int(x) for x in t.split(",")], default=[1, 2, 3, 5, 10])
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--quick", action="store_true", help="3 runs of 3 steps")
    ap.add_argument("--json", help="write every raw time to this file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.quick:
        a.runs, a.steps = 3, 3
    adakit = import_adakit(a.build_dir)
    parts = a.part.split(",")
    out = {}
    if a.worker:
        print(json.dumps(step_bench(a, adakit)))
        return
    import torch
    print(f"# load average {os.getloadavg()[0]:.1f}; torch {torch.__version__}; adakit {adakit.__version__} "
          f"({adakit.__file__})")
    if "step" in parts:
        out["step"] = step_bench(a, adakit)
        print_step(out["step"], "default allocator")
        if a.heap:
            env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=1099511627776")
            args = [sys.executable, os.path.abspath(__file__), "--worker", "--threads", ",".join(map(str, a.threads)),
                    "--size", str(a.size), "--runs", str(a.runs), "--steps", str(a.steps), "--build-dir", a.build_dir]
            out["step_heap"] = json.loads(subprocess.run(args, env=env, check=True, capture_output=True,
                                                         text=True).stdout.splitlines()[-1])
            print_step(out["step_heap"], "glibc heap kept (torch's temporaries do not page-fault)")
    if "text" in parts:
        out["text"] = text_bench(a, adakit)
    print(f"\n# load average at the end {os.getloadavg()[0]:.1f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
