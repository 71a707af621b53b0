#!/usr/bin/python3
"""Benchmark: adakit's `train` CLI against PyTorch on the same CPU, same models, same data.

Not a test (nothing runs it from `make test`). PyTorch and NumPy are benchmark references only; run
with Debian's interpreter, which has python3-torch and python3-numpy:

    /usr/bin/python3 bench/compare_nn.py [--threads 1,2] [--repeats 5] [--quick]

Every measured run is a fresh process: the adakit binary, or this script re-invoked as a PyTorch
worker (`--worker CASE`) with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS set to the
thread count before torch is imported (torch.set_num_threads alone does not cap a pthread OpenBLAS).
Runs alternate adakit, torch, adakit, torch, ... and the table reports medians over runs. Both sides
time only training (data already in memory as float32): per epoch, shuffle, gather the minibatches,
forward, loss, backward, optimizer step, and the running train loss / accuracy.

See bench/README.md.
"""

import argparse
import ctypes
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
DIGITS_CSV = os.path.join(ROOT, "data", "digits.csv.gz")
IRIS_CSV = os.path.join(ROOT, "data", "iris.csv")

# name, adakit data/model flags, batch, lr, thread counts allowed ("list" = --threads), timing unit
CASES = {
    "fashion-mnist": dict(
        title="Fashion-MNIST MLP 784-256-10 ReLU", batch=128, lr=0.01, unit="s/epoch",
        adakit=["--data", "fashion-mnist", "--model", "mlp:256", "--scale", "off"],
        epochs=2, quick_epochs=1, threads="list"),
    "digits": dict(
        title="digits CNN conv3x3x16-pool-fc (20 epochs)", batch=32, lr=0.05, unit="s/20 epochs",
        adakit=["--data", "digits", "--model", "cnn", "--test-split", "0.2"],
        epochs=20, quick_epochs=20, threads="list"),
    "iris": dict(
        title="iris-binary MLP 4-5-1 tanh, full batch", batch=80, lr=0.01, unit="s/step",
        adakit=["--data", "iris-binary", "--model", "mlp:5", "--activation", "tanh", "--test-split", "0.2"],
        epochs=2000, quick_epochs=500, threads=[1]),
}


def case_time(case, epoch_seconds):
    """The number the table reports for one run: the median epoch (fashion-mnist), the sum of the
    20 epochs (digits), the median step (iris: one full-batch step per epoch, so an epoch is a step;
    the median drops the first, warm-up step and any step the scheduler interrupted)."""
    if case == "digits":
        return sum(epoch_seconds)
    return statistics.median(epoch_seconds)


# ----------------------------------------------------------------------------------------------
# PyTorch worker (runs in its own process; imports torch only here)
# ----------------------------------------------------------------------------------------------

def mapped_libs(words=("blas", "lapack", "blis", "mkl", "atlas")):
    """Shared objects mapped into this process whose file name mentions one of `words`."""
    seen = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5].startswith("/"):
                path = parts[5]
                base = os.path.basename(path).lower()
                if any(w in base for w in words) and path not in seen:
                    seen.append(path)
    return seen


def openblas_threads(libs):
    """openblas_get_num_threads() of the OpenBLAS torch is running on, or None."""
    for path in libs:
        if "openblas" in path:
            try:
                lib = ctypes.CDLL(path)  # already mapped: dlopen returns the loaded copy
                return int(lib.openblas_get_num_threads())
            except (OSError, AttributeError):
                pass
    return None


def load_idx(path):
    import gzip
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def split_indices(n, test_fraction, seed):
    import numpy as np
    n_test = int(math.ceil(test_fraction * n))
    perm = np.random.default_rng(seed).permutation(n)
    return perm[n_test:], perm[:n_test]


def load_case_data(case, seed):
    """(x_train, y_train, x_test, y_test) as numpy float32 / int64 (float32 targets for BCE)."""
    import gzip
    import numpy as np
    if case == "fashion-mnist":
        xtr = load_idx(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz")).reshape(-1, 784)
        ytr = load_idx(os.path.join(FASHION_DIR, "train-labels-idx1-ubyte.gz"))
        xte = load_idx(os.path.join(FASHION_DIR, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
        yte = load_idx(os.path.join(FASHION_DIR, "t10k-labels-idx1-ubyte.gz"))
        f = lambda a: (a.astype(np.float32) / np.float32(255.0))
        return f(xtr), ytr.astype(np.int64), f(xte), yte.astype(np.int64)
    if case == "digits":
        with gzip.open(DIGITS_CSV, "rt") as fh:
            rows = np.loadtxt(fh, delimiter=",", skiprows=1, dtype=np.float32)
        x = (rows[:, :64] / np.float32(16.0)).reshape(-1, 1, 8, 8)
        y = rows[:, 64].astype(np.int64)
        tr, te = split_indices(len(y), 0.2, seed)  # 1797 -> 1437 train / 360 test, as adakit
        return x[tr], y[tr], x[te], y[te]
    if case == "iris":
        with open(IRIS_CSV) as fh:
            lines = [l.strip().split(",") for l in fh.read().splitlines()[1:] if l.strip()]
        lines = [l for l in lines if l[4] in ("setosa", "versicolor")]
        x = np.array([[float(v) for v in l[:4]] for l in lines], dtype=np.float32)
        y = np.array([1.0 if l[4] == "versicolor" else 0.0 for l in lines], dtype=np.float32)
        tr, te = split_indices(len(y), 0.2, seed)  # 100 -> 80 / 20
        mean, std = x[tr].mean(0), x[tr].std(0)  # standard scaling fitted on the training split
        x = (x - mean) / std
        return x[tr], y[tr].reshape(-1, 1), x[te], y[te].reshape(-1, 1)
    raise SystemExit(f"unknown case {case}")


def build_model(case):
    import torch.nn as nn
    if case == "fashion-mnist":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)), nn.CrossEntropyLoss()
    if case == "digits":
        return (nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(16 * 4 * 4, 10)), nn.CrossEntropyLoss())
    return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1)), nn.BCEWithLogitsLoss()


def worker(args):
    import numpy as np
    import torch
    threads = args.worker_threads
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    spec = CASES[args.worker]
    binary = args.worker == "iris"
    xtr_np, ytr_np, xte_np, yte_np = load_case_data(args.worker, args.seed)
    xtr, ytr = torch.from_numpy(np.ascontiguousarray(xtr_np)), torch.from_numpy(np.ascontiguousarray(ytr_np))
    xte, yte = torch.from_numpy(np.ascontiguousarray(xte_np)), torch.from_numpy(np.ascontiguousarray(yte_np))
    model, loss_fn = build_model(args.worker)
    opt = torch.optim.Adagrad(model.parameters(), lr=spec["lr"])
    gen = torch.Generator().manual_seed(args.seed)
    n, bs = xtr.shape[0], spec["batch"]
    epoch_seconds = []
    model.train()
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            xb, yb = xtr[idx], ytr[idx]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * idx.numel()
            pred = (out.detach() > 0).float() if binary else out.detach().argmax(1)
            correct += int((pred == yb).sum())
        epoch_seconds.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        out = model(xte)
        pred = (out > 0).float() if binary else out.argmax(1)
        test_acc = float((pred == yte).float().mean())
    libs = mapped_libs()
    print(json.dumps({
        "epoch_seconds": epoch_seconds, "seconds": sum(epoch_seconds), "test_accuracy": test_acc,
        "train_accuracy": correct / n, "train_samples": int(n), "threads": torch.get_num_threads(),
        "openblas_threads": openblas_threads(libs), "blas_libs": libs,
    }))


def probe():
    """Print torch's build configuration and the BLAS it actually maps after a matmul."""
    import torch
    a = torch.randn(512, 512)
    (a @ a).sum().item()
    libs = mapped_libs()
    print(json.dumps({"config": torch.__config__.show(), "parallel": torch.__config__.parallel_info(),
                      "version": torch.__version__, "blas_libs": libs, "openblas_threads": openblas_threads(libs)}))


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

def run_json(cmd, env=None, timeout=1800):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr.strip()[-2000:]}")
    for line in reversed(p.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON from {' '.join(cmd)}:\n{p.stdout[-2000:]}")


def torch_env(threads):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(threads)
    return env


def run_torch(case, threads, epochs, seed):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", case, "--worker-threads", str(threads),
           "--epochs", str(epochs), "--seed", str(seed)]
    return run_json(cmd, env=torch_env(threads))


def run_adakit(binary, case, threads, epochs, seed):
    spec = CASES[case]
    cmd = [binary, "train", *spec["adakit"], "--optimizer", "adagrad", "--lr", str(spec["lr"]),
           "--epochs", str(epochs), "--batch-size", str(spec["batch"]), "--seed", str(seed),
           "--threads", str(threads), "--json"]
    j = run_json(cmd)
    if "epoch_seconds" not in j or not j["epoch_seconds"]:
        # An older binary without per-epoch times: fall back to total training seconds / epochs.
        j["epoch_seconds"] = [j["seconds"] / max(1, j.get("epochs", epochs))] * max(1, j.get("epochs", epochs))
        j["fallback"] = True
    return j


def blas_report(binary):
    lines = []
    warn = []
    multiarch = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
    alt = f"libblas.so.3-{multiarch}"
    if shutil.which("update-alternatives"):
        p = subprocess.run(["update-alternatives", "--display", alt], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        lines.append(f"update-alternatives --display {alt}:")
        lines += ["    " + l for l in p.stdout.strip().splitlines()]
        current = [l for l in p.stdout.splitlines() if "currently points to" in l]
        if current and "openblas" not in current[0]:
            warn.append(f"the libblas.so.3 alternative is NOT OpenBLAS: {current[0].strip()}")
    try:
        pj = run_json([sys.executable, os.path.abspath(__file__), "--probe"], env=torch_env(1))
    except RuntimeError as e:
        raise SystemExit(f"cannot run the PyTorch probe (is python3-torch installed for {sys.executable}?)\n{e}")
    lines.append(f"torch {pj['version']} torch.__config__.show():")
    lines += ["    " + l for l in pj["config"].strip().splitlines()]
    bl = [l.strip() for l in pj["config"].splitlines() if "BLAS_INFO" in l]
    lines.append("torch BLAS libraries mapped after a matmul (/proc/self/maps):")
    lines += ["    " + l for l in pj["blas_libs"]] or ["    (none)"]
    libs = pj["blas_libs"]
    on_openblas = any("openblas" in os.path.basename(l).lower() for l in libs)
    reference = [l for l in libs if "/blas/" in l or (os.path.basename(l).startswith("libblas") and not on_openblas)]
    if reference or not on_openblas:
        warn.append("torch is NOT running on OpenBLAS (mapped: " + (", ".join(libs) or "nothing") + ")"
                    + ("; this looks like Debian's netlib reference BLAS" if reference else ""))
    lines.append(f"torch OpenBLAS threads under OPENBLAS_NUM_THREADS=1: {pj['openblas_threads']}")
    p = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines.append(f"ldd {os.path.relpath(binary, ROOT) if binary.startswith(ROOT) else binary} | grep blas:")
    ak = [l.strip() for l in p.stdout.splitlines() if "blas" in l.lower()]
    lines += ["    " + l for l in ak] or ["    (no BLAS library linked)"]
    for l in ak:
        if "=>" in l:
            real = os.path.realpath(l.split("=>")[1].split("(")[0].strip())
            lines.append(f"    {l.split()[0]} resolves to {real}")
    return lines, warn


def fmt_time(s):
    if s >= 1:
        return f"{s:.3f}"
    if s >= 1e-3:
        return f"{s * 1e3:.2f}m"
    return f"{s * 1e6:.1f}u"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adakit", default=os.path.join(ROOT, "build", "tools", "adakit", "adakit"),
                    help="the adakit binary (default: <repo>/build/tools/adakit/adakit)")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts (iris always uses 1)")
    ap.add_argument("--repeats", type=int, default=None, help="alternating adakit/torch pairs per setting (default 5, --quick 3)")
    ap.add_argument("--cases", default="fashion-mnist,digits,iris", help="comma list of: " + ",".join(CASES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="fewer epochs and repeats: well under ~2 minutes")
    ap.add_argument("--json", metavar="FILE", help="also write every run's numbers to FILE")
    ap.add_argument("--worker", choices=list(CASES), help=argparse.SUPPRESS)
    ap.add_argument("--worker-threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        return probe()
    if args.worker:
        return worker(args)

    binary = os.path.abspath(args.adakit)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"adakit binary not found: {binary} (build first: make, or pass --adakit PATH)")
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 5)
    thread_list = [int(t) for t in args.threads.split(",") if t.strip()]
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    for c in cases:
        if c not in CASES:
            raise SystemExit(f"unknown case {c} (known: {', '.join(CASES)})")

    print(f"# compare_nn: adakit vs PyTorch, {os.cpu_count()} CPUs, repeats={repeats}"
          f"{' (quick)' if args.quick else ''}, python {sys.executable}")
    try:
        with open("/proc/loadavg") as f:
            print(f"# load average at start: {' '.join(f.read().split()[:3])}")
    except OSError:
        pass
    env_keys = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env_set = ", ".join(f"{k}={os.environ[k]}" for k in env_keys if k in os.environ)
    print("# environment (inherited by both sides; the torch worker's *_NUM_THREADS are overridden): "
          + (env_set or "none of " + ", ".join(env_keys) + " set"))
    blines, warns = blas_report(binary)
    print("## BLAS")
    for l in blines:
        print(l)
    for w in warns:
        print("!" * 100 + f"\n!!! WARNING: {w}\n!!! The comparison is unfair: point libblas.so.3 at OpenBLAS "
              "(update-alternatives --config libblas.so.3-x86_64-linux-gnu)\n" + "!" * 100)
    sys.stdout.flush()

    rows, record = [], []
    fallback = False
    t_start = time.perf_counter()
    for case in cases:
        spec = CASES[case]
        epochs = spec["quick_epochs"] if args.quick else spec["epochs"]
        ts = thread_list if spec["threads"] == "list" else spec["threads"]
        for threads in ts:
            with open("/proc/loadavg") as f:
                print(f"# {case}, {threads} thread(s), {epochs} epoch(s) per run; load average "
                      f"{' '.join(f.read().split()[:3])}", flush=True)
            a_times, t_times, a_acc, t_acc, a_thr = [], [], [], [], []
            for r in range(repeats):
                seed = args.seed + r
                aj = run_adakit(binary, case, threads, epochs, seed)
                tj = run_torch(case, threads, epochs, seed)
                fallback = fallback or aj.get("fallback", False)
                if tj.get("openblas_threads") not in (None, threads):
                    print(f"! torch's OpenBLAS ran {tj['openblas_threads']} threads, asked {threads}")
                a_times.append(case_time(case, aj["epoch_seconds"]))
                t_times.append(case_time(case, tj["epoch_seconds"]))
                a_acc.append(aj.get("test_accuracy") or float("nan"))
                t_acc.append(tj["test_accuracy"])
                a_thr.append(aj.get("threads"))
                record.append(dict(case=case, threads=threads, repeat=r, epochs=epochs, adakit=aj, torch=tj))
                print(f"  {case} threads={threads} run {r + 1}/{repeats}: adakit {fmt_time(a_times[-1])}  "
                      f"torch {fmt_time(t_times[-1])}  ({spec['unit']})", flush=True)
            ta, tt = statistics.median(a_times), statistics.median(t_times)
            rows.append([case, str(threads), spec["unit"], str(epochs), fmt_time(tt), fmt_time(ta),
                         f"{ta / tt:.2f}", f"{statistics.median(t_acc):.4f}", f"{statistics.median(a_acc):.4f}",
                         f"{min(a_times) / min(t_times):.2f}"])
            if any(t not in (None, threads) for t in a_thr):
                print(f"! adakit reported threads {a_thr}, asked {threads}")

    print()
    print(f"## Results (medians over {repeats} alternating runs; ratio < 1 means adakit is faster; "
          "time suffix m = milliseconds, u = microseconds)")
    head = ["case", "threads", "unit", "epochs/run", "torch", "adakit", "adakit/torch",
            "torch test acc", "adakit test acc", "ratio of minima"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)] if rows else [len(h) for h in head]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    print(f"\n# wall time {time.perf_counter() - t_start:.1f} s")
    try:
        with open("/proc/loadavg") as f:
            print(f"# load average at end: {' '.join(f.read().split()[:3])}  (other processes on these CPUs add noise)")
    except OSError:
        pass
    if fallback:
        print("# NOTE: this adakit binary prints no epoch_seconds; its times are total training seconds / epochs")
    for w in warns:
        print(f"!!! WARNING: {w}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
