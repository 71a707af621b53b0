#!/usr/bin/python3
"""Benchmark: sparse logistic regression with AdaGrad, adakit against PyTorch, same data, same threads.

Not a test (nothing runs it from `make test`). PyTorch and NumPy are benchmark references only; run
with Debian's interpreter, which has python3-torch and python3-numpy:

    /usr/bin/python3 bench/compare_sparse_linear.py [--rows 1000000] [--bits 18,22,24] [--batch 32,256]
                                                    [--threads 1,2] [--repeats 3] [--quick]

Data: a seeded synthetic text-like dataset. Each row draws Poisson(--tokens) raw feature ids from a
bounded Zipf law, s = 1, over --vocab raw ids (P(k) = 1 / (k H_V), sampled exactly by inverse CDF:
a table for the first 2^16 ranks, the asymptotic expansion of the harmonic number beyond), hashes
them into 2^bits columns with a fixed 64-bit mixing function (splitmix64's finaliser), merges the
duplicates of a row (value = the count, like term frequencies) and gets a label from a planted
sparse linear model over the RAW ids (30% of them informative, Gaussian-like weights, plus logistic
noise), so the labels are the same for every hash size and the accuracy means something. The raw
draws do not depend on --bits either: the hash sizes differ only by their collisions.

Training, on both sides, one epoch (--epochs) over the rows IN FILE ORDER (the rows are i.i.d., so
that order is a random one; both sides see exactly the same batches), logistic loss (mean over the
batch), weights and bias starting at zero, AdaGrad with PyTorch's formula and the same lr:
  adakit:  build/bench/adakit-sparse-linear-bench (linear::fit, lazy AdaGrad, LinearModel logistic)
  torch:   nn.EmbeddingBag(2^bits, 1, mode='sum', sparse=True) with per_sample_weights = the values
           and offsets from the CSR row pointers, + a dense bias; BCEWithLogitsLoss (mean);
           torch.optim.Adagrad on the embedding weight (sparse gradient) and a second Adagrad on
           the bias (sparse Adagrad takes sparse gradients only); zero_grad(set_to_none=True).
Both time only the epoch loop (the data, the model and the optimizer state are in memory and
touched before the clock starts); both report the progressive loss and accuracy (each batch
measured before its own step). Same objective and same batches, so the two final losses must
agree closely: the script prints both and flags a relative gap over 1e-3.

Every measured run is a fresh process: the adakit binary, or this script re-invoked as a PyTorch
worker with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS set before torch is imported
(as in compare_nn.py, whose helpers it reuses). Runs alternate adakit, torch, adakit, torch, ... and
the table reports medians. See bench/README.md.
"""

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import compare_nn  # noqa: E402  (helpers: run_json, torch_env, mapped_libs, openblas_threads)

MAGIC = b"AKSPRS01"
HEAD_RANKS = 1 << 16
EULER_GAMMA = 0.5772156649015329


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------

def mix64(x):
    """splitmix64's finaliser on a uint64 array (wraps modulo 2^64)."""
    import numpy as np
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def harmonic_approx(k):
    """H_k for k >= HEAD_RANKS (float64 array): ln k + γ + 1/(2k) − 1/(12k²); error < 1/(120 k⁴)."""
    import numpy as np
    return np.log(k) + EULER_GAMMA + 0.5 / k - 1.0 / (12.0 * k * k)


def zipf_ranks(u, vocab):
    """Bounded Zipf, s = 1, over ranks 1..vocab by inverse CDF: the smallest k with H_k >= u·H_vocab."""
    import numpy as np
    head = np.cumsum(1.0 / np.arange(1, HEAD_RANKS + 1, dtype=np.float64))
    h_vocab = head[vocab - 1] if vocab <= HEAD_RANKS else float(harmonic_approx(np.float64(vocab)))
    t = u * h_vocab
    ranks = np.empty(t.shape, dtype=np.int64)
    in_head = t <= head[-1]
    ranks[in_head] = np.searchsorted(head, t[in_head], side="left") + 1
    tt = t[~in_head]
    if tt.size:
        k = np.maximum(np.floor(np.exp(tt - EULER_GAMMA)), HEAD_RANKS + 1).astype(np.float64)
        for _ in range(3):  # the estimate is within one rank; fix it both ways
            k = np.where(harmonic_approx(k) < tt, k + 1, k)
            k = np.where((k > HEAD_RANKS + 1) & (harmonic_approx(k - 1) >= tt), k - 1, k)
        ranks[~in_head] = k.astype(np.int64)
    return np.minimum(ranks, vocab)


def draw_raw(rows, vocab, tokens, seed):
    """(row_of_token int64, raw rank int64, labels int32, planted model's accuracy): the data before hashing."""
    import numpy as np
    rng = np.random.default_rng(seed)
    lengths = np.maximum(rng.poisson(tokens, rows), 1)
    row_of = np.repeat(np.arange(rows, dtype=np.int64), lengths)
    ranks = zipf_ranks(rng.random(row_of.size), vocab)
    # Planted model over the raw ids: w(k) != 0 for 30% of them, roughly N(0, 1) (sum of 4 uniforms).
    h = mix64(ranks.astype(np.uint64) ^ np.uint64(0x5851F42D4C957F2D + seed))
    u4 = sum(((h >> np.uint64(16 * i)) & np.uint64(0xFFFF)).astype(np.float64) / 65536.0 for i in range(4))
    w = np.where((h % np.uint64(10)) < np.uint64(3), (u4 - 2.0) * math.sqrt(3.0), 0.0)
    z = np.bincount(row_of, weights=w, minlength=rows) * (6.0 / np.sqrt(lengths))
    noise = rng.logistic(size=rows)
    labels = (z + noise > 0).astype(np.int32)
    planted_accuracy = float(((z > 0) == (labels == 1)).mean())  # the planted model's own (Bayes) accuracy
    return row_of, ranks, labels, planted_accuracy


def hash_rows(row_of, ranks, bits, rows):
    """CSR (indptr int64, indices int32 ascending per row, values float32 = counts) of the hashed rows."""
    import numpy as np
    cols = (mix64(ranks.astype(np.uint64)) & np.uint64((1 << bits) - 1)).astype(np.int64)
    keys, counts = np.unique((row_of << np.int64(bits)) | cols, return_counts=True)
    r = keys >> np.int64(bits)
    indptr = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=rows), out=indptr[1:])
    indices = (keys & np.int64((1 << bits) - 1)).astype(np.int32)
    return indptr, indices, counts.astype(np.float32)


def write_dataset(path, indptr, indices, values, labels, dim):
    """The layout documented in bench/sparse_linear_bench.cpp (little-endian)."""
    import numpy as np
    rows, nnz = labels.size, indices.size
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(MAGIC)
        f.write(np.array([rows, nnz, dim], dtype="<i8").tobytes())
        for a, dt in ((indptr, "<i8"), (indices, "<i4"), (values, "<f4"), (labels, "<i4")):
            f.write(np.ascontiguousarray(a, dtype=dt).tobytes())
    os.replace(tmp, path)


def read_dataset(path):
    import numpy as np
    with open(path, "rb") as f:
        if f.read(8) != MAGIC:
            raise SystemExit(f"{path}: not a compare_sparse_linear.py dataset")
        rows, nnz, dim = (int(v) for v in np.frombuffer(f.read(24), dtype="<i8"))
        indptr = np.fromfile(f, dtype="<i8", count=rows + 1)
        indices = np.fromfile(f, dtype="<i4", count=nnz)
        values = np.fromfile(f, dtype="<f4", count=nnz)
        labels = np.fromfile(f, dtype="<i4", count=rows)
    if labels.size != rows or indptr[-1] != nnz:
        raise SystemExit(f"{path}: truncated")
    return indptr, indices, values, labels, dim


# ----------------------------------------------------------------------------------------------
# PyTorch worker (runs in its own process; imports torch only here)
# ----------------------------------------------------------------------------------------------

def worker(args):
    import numpy as np
    import torch
    import torch.nn as nn
    torch.set_num_threads(args.worker_threads)
    indptr_np, indices_np, values_np, labels_np, dim = read_dataset(args.worker)
    n, bs = labels_np.size, args.batch_size
    idx = torch.from_numpy(indices_np.astype(np.int64))
    val = torch.from_numpy(values_np)
    y = torch.from_numpy(labels_np.astype(np.float32))
    indptr = torch.from_numpy(indptr_np)
    starts = indptr_np.tolist()  # Python ints: slicing bounds without tensor -> int conversions
    emb = nn.EmbeddingBag(dim, 1, mode="sum", sparse=True)
    nn.init.zeros_(emb.weight)  # adakit starts at zero too: same trajectory
    bias = nn.Parameter(torch.zeros(1))
    opt_w = torch.optim.Adagrad([emb.weight], lr=args.lr)
    opt_b = torch.optim.Adagrad([bias], lr=args.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    # Touch the state before the clock (Adagrad creates state_sum in its constructor in 1.13).
    for o in (opt_w, opt_b):
        for st in o.state.values():
            for v in st.values():
                if torch.is_tensor(v):
                    v.add_(0)
    epoch_seconds, epoch_loss, epoch_acc = [], [], []
    epoch_cpu = []
    for _ in range(args.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        loss_sum, correct = 0.0, 0
        for s in range(0, n, bs):
            e = min(s + bs, n)
            a, b = starts[s], starts[e]
            z = emb(idx[a:b], indptr[s:e] - a, per_sample_weights=val[a:b]).squeeze(1) + bias
            yb = y[s:e]
            loss = loss_fn(z, yb)
            opt_w.zero_grad(set_to_none=True)
            opt_b.zero_grad(set_to_none=True)
            loss.backward()
            opt_w.step()
            opt_b.step()
            loss_sum += loss.item() * (e - s)
            correct += int(((z.detach() > 0) == (yb > 0.5)).sum())
        epoch_seconds.append(time.perf_counter() - t0)
        epoch_cpu.append(time.process_time() - c0)
        epoch_loss.append(loss_sum / n)
        epoch_acc.append(correct / n)
    med = statistics.median(epoch_seconds)
    libs = compare_nn.mapped_libs()
    print(json.dumps({
        "side": "torch", "rows": int(n), "nnz": int(indices_np.size), "dim": int(dim), "batch_size": bs,
        "threads": torch.get_num_threads(), "openblas_threads": compare_nn.openblas_threads(libs),
        "epoch_seconds": epoch_seconds, "seconds_per_epoch": med, "examples_per_s": n / med,
        "epoch_cpu_seconds": epoch_cpu, "cpu_seconds_per_epoch": statistics.median(epoch_cpu),
        "epoch_loss": epoch_loss, "epoch_accuracy": epoch_acc, "loss": epoch_loss[-1], "accuracy": epoch_acc[-1],
    }))


def probe():
    import torch
    print(json.dumps({"version": torch.__version__, "parallel": torch.__config__.parallel_info(),
                      "threads": torch.get_num_threads()}))


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

def run_torch(path, threads, batch, lr, epochs):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", path, "--worker-threads", str(threads),
           "--batch-size", str(batch), "--lr", str(lr), "--epochs", str(epochs)]
    return compare_nn.run_json(cmd, env=compare_nn.torch_env(threads), timeout=7200)


def run_adakit(binary, path, threads, batch, lr, epochs):
    cmd = [binary, "--data", path, "--threads", str(threads), "--batch-size", str(batch), "--lr", str(lr),
           "--epochs", str(epochs)]
    return compare_nn.run_json(cmd, timeout=7200)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def ints(text):
    return [int(t) for t in text.split(",") if t.strip()]


def print_table(head, rows):
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adakit", default=os.path.join(ROOT, "build", "bench", "adakit-sparse-linear-bench"),
                    help="the bench binary (default: <repo>/build/bench/adakit-sparse-linear-bench)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--bits", default="18,22,24", help="comma list of hash sizes (log2 of the columns)")
    ap.add_argument("--batch", default="32,256", help="comma list of batch sizes")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts")
    ap.add_argument("--repeats", type=int, default=None, help="alternating adakit/torch pairs per setting (default 3, --quick 1)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per run (the time is the median epoch)")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--vocab", type=int, default=1 << 27, help="raw ids the Zipf law ranges over")
    ap.add_argument("--tokens", type=float, default=43.0, help="mean raw tokens per row (Poisson) before merging")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", help="keep the generated files here (default: a temporary folder, removed)")
    ap.add_argument("--quick", action="store_true", help="200k rows, 1 pair per setting, threads 1")
    ap.add_argument("--json", metavar="FILE", help="also write every run's numbers to FILE")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--batch-size", type=int, default=32, help=argparse.SUPPRESS)
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.probe:
        return probe()
    if args.worker:
        return worker(args)

    import numpy as np
    binary = os.path.abspath(args.adakit)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"bench binary not found: {binary} (build it: ninja -C build adakit-sparse-linear-bench)")
    if args.quick:
        args.rows = min(args.rows, 200_000)
        if args.threads == "1,2":
            args.threads = "1"
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    bits_list, batches, thread_list = ints(args.bits), ints(args.batch), ints(args.threads)
    if not bits_list or min(bits_list) < 1 or max(bits_list) > 30:
        raise SystemExit("--bits takes hash sizes in 1..30")

    print(f"# compare_sparse_linear: adakit vs PyTorch, {os.cpu_count()} CPUs, repeats={repeats}, "
          f"python {sys.executable}")
    print(f"# load average at start: {loadavg()}")
    env_keys = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env_set = ", ".join(f"{k}={os.environ[k]}" for k in env_keys if k in os.environ)
    print("# environment (inherited by both sides; the torch worker's *_NUM_THREADS are overridden): "
          + (env_set or "none of " + ", ".join(env_keys) + " set"))
    pj = compare_nn.run_json([sys.executable, os.path.abspath(__file__), "--probe"], env=compare_nn.torch_env(1))
    print(f"# torch {pj['version']}; torch.__config__.parallel_info():")
    print("\n".join("#     " + l for l in pj["parallel"].strip().splitlines()))
    print("# (no BLAS call on either side: EmbeddingBag, sparse Adagrad and adakit's linear models are plain loops)")

    # SIGTERM (a killed run) unwinds like an exception, so the temporary folder below is removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(f"stopped by signal {signum}"))
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="adakit-sparse-bench-")
    os.makedirs(data_dir, exist_ok=True)
    t_start = time.perf_counter()
    try:
        t0 = time.perf_counter()
        row_of, ranks, labels, planted = draw_raw(args.rows, args.vocab, args.tokens, args.seed)
        print(f"# data: {args.rows} rows, {row_of.size} raw tokens (mean {row_of.size / args.rows:.1f}), "
              f"Zipf s=1 over {args.vocab} raw ids, {labels.mean():.3f} positive, the planted model's own "
              f"accuracy {planted:.3f}, seed {args.seed} ({time.perf_counter() - t0:.1f} s)", flush=True)
        paths, nnz = {}, {}
        for bits in bits_list:
            t0 = time.perf_counter()
            indptr, indices, values = hash_rows(row_of, ranks, bits, args.rows)
            path = os.path.join(data_dir, f"zipf-{args.rows}-b{bits}-s{args.seed}.bin")
            write_dataset(path, indptr, indices, values, labels, 1 << bits)
            paths[bits], nnz[bits] = path, indices.size
            print(f"#   2^{bits} columns: {indices.size} nonzeros ({indices.size / args.rows:.2f} a row), "
                  f"{np.unique(indices).size} distinct columns used, {os.path.getsize(path) / 2**20:.0f} MiB "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
        del row_of, ranks

        # The memory floor of each hash size (adakit-sparse-linear-bench --reference): read and write
        # w[j] and s[j] once per nonzero, nothing else. Interleaved over the hash sizes.
        floor = {bits: [] for bits in bits_list}
        for r in range(repeats):
            for bits in bits_list:
                floor[bits].append(compare_nn.run_json([binary, "--data", paths[bits], "--epochs", "0", "--reference"]))
        for bits in bits_list:
            print(f"#   memory floor 2^{bits}: "
                  f"{statistics.median(j['reference_seconds_median'] for j in floor[bits]):.3f} s wall, "
                  f"{statistics.median(j['reference_cpu_seconds_median'] for j in floor[bits]):.3f} s CPU per pass")

        results, record = {}, []
        for batch in batches:
            for threads in thread_list:
                for bits in bits_list:
                    print(f"# 2^{bits}, batch {batch}, {threads} thread(s); load average {loadavg()}", flush=True)
                    runs = []
                    for r in range(repeats):
                        aj = run_adakit(binary, paths[bits], threads, batch, args.lr, args.epochs)
                        tj = run_torch(paths[bits], threads, batch, args.lr, args.epochs)
                        if tj.get("openblas_threads") not in (None, threads):
                            print(f"! torch's OpenBLAS ran {tj['openblas_threads']} threads, asked {threads}")
                        if aj.get("threads") != threads or tj.get("threads") != threads:
                            print(f"! threads reported: adakit {aj.get('threads')}, torch {tj.get('threads')}, asked {threads}")
                        runs.append((aj, tj))
                        record.append(dict(bits=bits, batch=batch, threads=threads, repeat=r, adakit=aj, torch=tj))
                        print(f"  run {r + 1}/{repeats}: adakit {aj['seconds_per_epoch']:.3f} s/epoch "
                              f"(loss {aj['loss']:.6f}, acc {aj['accuracy']:.4f})   torch {tj['seconds_per_epoch']:.3f} s/epoch "
                              f"(loss {tj['loss']:.6f}, acc {tj['accuracy']:.4f})", flush=True)
                    results[(batch, threads, bits)] = runs
    finally:
        if not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)

    med = lambda runs, side, key: statistics.median(run[0 if side == "adakit" else 1][key] for run in runs)
    print()
    print(f"## Results: one epoch of logistic regression + AdaGrad (lr {args.lr}) over {args.rows} rows, "
          f"medians over {repeats} alternating runs; speedup = adakit examples/s ÷ torch examples/s")
    head = ["hash", "batch", "threads", "nnz/row", "torch s/epoch", "adakit s/epoch", "torch ex/s", "adakit ex/s",
            "speedup", "CPU s torch", "CPU s adakit", "CPU speedup", "torch loss", "adakit loss", "torch acc", "adakit acc"]
    rows, loss_gaps = [], []
    for (batch, threads, bits), runs in results.items():
        ta, tt = med(runs, "adakit", "seconds_per_epoch"), med(runs, "torch", "seconds_per_epoch")
        ca, ct = med(runs, "adakit", "cpu_seconds_per_epoch"), med(runs, "torch", "cpu_seconds_per_epoch")
        la, lt = runs[-1][0]["loss"], runs[-1][1]["loss"]
        gap = abs(la - lt) / max(abs(lt), 1e-12)
        loss_gaps.append(gap)
        rows.append([f"2^{bits}", str(batch), str(threads), f"{nnz[bits] / args.rows:.1f}", f"{tt:.3f}", f"{ta:.3f}",
                     f"{args.rows / tt:,.0f}", f"{args.rows / ta:,.0f}", f"{tt / ta:.1f}x", f"{ct:.3f}", f"{ca:.3f}",
                     f"{ct / ca:.1f}x", f"{lt:.6f}", f"{la:.6f}", f"{runs[-1][1]['accuracy']:.4f}",
                     f"{runs[-1][0]['accuracy']:.4f}"])
    print_table(head, rows)
    print("(CPU s: the process's CPU time for the epoch, all threads; on a busy machine it is less inflated by the "
          "other processes than wall time)")

    lo, hi = min(bits_list), max(bits_list)
    print()
    print("## Targets")
    for batch in batches:
        for threads in thread_list:
            keys = [(batch, threads, b) for b in bits_list]
            sp = [med(results[k], "torch", "seconds_per_epoch") / med(results[k], "adakit", "seconds_per_epoch") for k in keys]
            line = f"batch {batch}, {threads} thread(s): speedup over torch {min(sp):.1f}x .. {max(sp):.1f}x"
            if threads == 1:
                line += " (target >= 5x: " + ("met" if min(sp) >= 5 else "NOT met") + ")"
            if lo != hi:
                a_hi, a_lo = results[(batch, threads, hi)], results[(batch, threads, lo)]
                ratio = med(a_hi, "adakit", "seconds_per_epoch") / med(a_lo, "adakit", "seconds_per_epoch")
                cratio = med(a_hi, "adakit", "cpu_seconds_per_epoch") / med(a_lo, "adakit", "cpu_seconds_per_epoch")
                line += f"; adakit epoch 2^{hi} / 2^{lo} = {ratio:.2f} wall, {cratio:.2f} CPU"
                if lo == 18 and hi == 24:
                    line += " (target <= 1.20: " + ("met" if max(ratio, cratio) <= 1.2 else "NOT met") + ")"
                extra = med(a_hi, "adakit", "cpu_seconds_per_epoch") - med(a_lo, "adakit", "cpu_seconds_per_epoch")
                f_extra = statistics.median(j["reference_cpu_seconds_median"] for j in floor[hi]) - \
                    statistics.median(j["reference_cpu_seconds_median"] for j in floor[lo])
                line += (f"; CPU seconds added by 2^{hi} over 2^{lo}: adakit {extra:+.3f}, "
                         f"memory floor {f_extra:+.3f}")
            print(line)
    if lo != hi:
        print(f"(memory floor: the CPU time of one pass that only reads and writes w[j] and s[j] for every nonzero, "
              f"the least any lazy update of weights and accumulators stored apart can cost; what it adds from 2^{lo} "
              f"to 2^{hi} is cache and TLB misses, not work: the coordinates touched per epoch are the same)")
    worst = max(loss_gaps) if loss_gaps else 0.0
    print(f"same objective: largest relative gap between the two final progressive losses {worst:.2e}"
          + ("" if worst <= 1e-3 else "  !!! over 1e-3: the two sides do not train the same model"))
    print(f"\n# wall time {time.perf_counter() - t_start:.1f} s; load average at end: {loadavg()} "
          "(other processes on these CPUs add noise)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
