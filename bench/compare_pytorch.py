#!/usr/bin/python3
"""Benchmark: adakit's optimizer steps against torch.optim's, same cases, same CPU, one invocation.

Not a test (nothing runs it from `make test`). PyTorch and NumPy are benchmark references only; run
with Debian's interpreter, which has python3-torch (1.13) and python3-numpy:

    /usr/bin/python3 bench/compare_pytorch.py [--quick] [--threads 1,2] [--runs 5] [--repeats 5]

Cases (every dense step: parameter 0.5, gradient 1e-3 held fixed, float32):
  adagrad, sgd, sgd momentum 0.9, adam, adamw, adam amsgrad, rmsprop, adadelta at 1M, 16M, 64M
  elements; a 200-tensor "model" of 16M elements (AdaGrad and Adam; sizes drawn here, the same list
  given to both sides); row-sparse AdaGrad on a 1,000,000 x 64 table, batches of 4096 indices,
  uniform and Zipf s = 1 (with duplicates): PyTorch gets the sparse_coo gradient nn.Embedding(sparse=True)
  makes, adakit the same index batches (adagrad_step_rows), 64 batches used in turn; the metric is
  unique rows per second (mean unique rows of a batch / median step time).

Sides, all timed per step with a monotonic clock:
  adakit      build/bench/adakit-step-timer (a fresh process per run, timing each thread count of
              --threads in turn): 2 warm-up steps, then --repeats timed Optimizer::step() calls.
  torch       a PyTorch worker process (this script, --torch-worker), torch.optim with foreach=False
              and with foreach=True, torch.set_num_threads(T). Each case's tensors and optimizers
              are built once (2 warm-up steps each); every run then times up to --repeats steps (as
              many as fit in --max-seconds, at least one), after 2 more warm-up steps when a step
              takes under 50 ms (the caches are cold after the other side ran).
  torch+heap  the same worker, started with GLIBC_TUNABLES=glibc.malloc.mmap_max=0:
              glibc.malloc.trim_threshold=<huge>, so that freed memory stays in the heap: torch.optim's
              per-step temporaries (torch.sqrt(...), foreach lists) then reuse resident pages instead
              of fresh mmap'd ones. Where a page fault is expensive (virtual machines) the default
              allocator makes PyTorch many times slower; this column shows PyTorch without that cost.
              Use --torch-heaps default to skip it.

Each run alternates the sides (torch, torch+heap, adakit, torch, ...) so that drifts in machine load
hit all of them; a side's figure for a case is the median over runs of the per-run median step.
The table prints G elements/s (sparse: unique rows/s) and adakit / best torch path.
Sparse cases time at least 20 steps a run (a step takes about a millisecond).
`--quick`: 1M and 16M only, 3 runs of 3 steps, no 200-tensor Adam: about two minutes on an idle
two-core machine. The full run takes about fifteen minutes there, mostly PyTorch's 64M steps on its
default allocator (every temporary is fresh memory, and first touches are slow in a VM).
`--json FILE` writes every raw time. `--bandwidth` runs no PyTorch: it prints adakit-bench's metric
(each dense step's bandwidth as a fraction of a reference loop) measured with adakit-step-timer
--reference, which alternates the two on the same memory. See docs/performance.md.
"""

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WARMUP = 2

# label -> (adakit optimizer, adakit options, torch class name, torch kwargs)
DENSE = {
    "adagrad": ("adagrad", "", "Adagrad", {}),
    "sgd": ("sgd", "", "SGD", {"lr": 1e-3}),
    "sgd_momentum": ("sgd", "momentum=0.9", "SGD", {"lr": 1e-3, "momentum": 0.9}),
    "adam": ("adam", "", "Adam", {}),
    "adamw": ("adamw", "", "AdamW", {}),
    "adam_amsgrad": ("adam", "amsgrad=true", "Adam", {"amsgrad": True}),
    "rmsprop": ("rmsprop", "", "RMSprop", {}),
    "adadelta": ("adadelta", "", "Adadelta", {}),
}
SIZES = {"1M": 1 << 20, "16M": 16 << 20, "64M": 64 << 20}
# 64 different index batches, used in turn: a row is seldom revisited while still in cache (as in
# training over a large table), on both sides.
SPARSE_ROWS, SPARSE_DIM, SPARSE_BATCH, SPARSE_BATCHES = 1_000_000, 64, 4096, 64
SPARSE_REPEATS = 20  # sparse steps take about a millisecond: at least this many timed steps per run
MODEL_TENSORS, MODEL_TOTAL = 200, 16 << 20


# ----------------------------------------------------------------------------------------------
# PyTorch worker: reads one JSON command a line on stdin, answers one JSON line on stdout.
# ----------------------------------------------------------------------------------------------

def mapped_libs(words=("blas", "lapack", "blis", "mkl", "atlas", "omp")):
    seen = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5].startswith("/"):
                base = os.path.basename(parts[5]).lower()
                if any(w in base for w in words) and parts[5] not in seen:
                    seen.append(parts[5])
    return seen


def torch_worker():
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but replies on the pipe
    import torch
    import numpy as np

    state = {}

    def step(opt, params, sparse_grads, k):
        if sparse_grads is not None:
            params[0].grad = sparse_grads[k % len(sparse_grads)]
        t0 = time.perf_counter()
        opt.step()
        return time.perf_counter() - t0

    def setup(cmd):
        state.clear()
        gc.collect()
        t_start = time.perf_counter()
        torch.set_num_threads(cmd["threads"][0])
        cls = getattr(torch.optim, cmd["torch_class"])
        sparse_grads = None
        if cmd["kind"] == "sparse":
            rows, dim = cmd["rows"], cmd["dim"]
            batches = np.fromfile(cmd["indices_file"], dtype=np.int64).reshape(-1, cmd["batch"])
            emb = torch.nn.Embedding(rows, dim, sparse=True)
            with torch.no_grad():
                emb.weight.fill_(0.5)
            sparse_grads = []
            for b in batches:
                emb.weight.grad = None
                out_rows = emb(torch.from_numpy(b.copy()))
                out_rows.backward(torch.full_like(out_rows, 1e-3))
                sparse_grads.append(emb.weight.grad)
            assert sparse_grads[0].is_sparse and not sparse_grads[0].is_coalesced()
            params = [emb.weight]
        else:
            params = [torch.full((n,), 0.5, dtype=torch.float32) for n in cmd["sizes"]]
            for p in params:
                p.grad = torch.full_like(p, 1e-3)
        opts, steps, est = {}, {}, {}
        for fe in cmd["foreach"]:
            opts[fe] = cls(params, foreach=fe, **cmd["torch_kwargs"])
            steps[fe] = 0
            t = []
            for _ in range(WARMUP):
                t.append(step(opts[fe], params, sparse_grads, steps[fe]))
                steps[fe] += 1
            est[fe] = t[-1]
        state.update(params=params, opts=opts, steps=steps, est=est, sparse_grads=sparse_grads)
        return {"setup_s": time.perf_counter() - t_start,
                "coalesced": None if sparse_grads is None else sparse_grads[0].is_coalesced()}

    def time_steps(cmd):
        fe, threads = cmd["foreach"], cmd["threads"]
        torch.set_num_threads(threads)
        opt, params, sg = state["opts"][fe], state["params"], state["sparse_grads"]
        # Cheap steps get a fresh warm-up each run (caches after the other side ran); expensive ones
        # (>= 50 ms) were warmed up once at setup and are capped at max_seconds per run.
        est = state["est"][fe]
        warm = WARMUP if est < 0.05 else 0
        repeats = max(1, min(cmd["repeats"], int(cmd["max_seconds"] / max(est, 1e-9))))
        for _ in range(warm):
            step(opt, params, sg, state["steps"][fe])
            state["steps"][fe] += 1
        times = []
        for _ in range(repeats):
            times.append(step(opt, params, sg, state["steps"][fe]))
            state["steps"][fe] += 1
        state["est"][fe] = statistics.median(times)
        return {"times": times, "threads": torch.get_num_threads(), "warmup": warm}

    def info(_cmd):
        a = torch.randn(256, 256)
        _ = a @ a  # maps the BLAS
        return {"torch": torch.__version__, "numpy": np.__version__, "config": torch.__config__.show(),
                "parallel": torch.__config__.parallel_info(), "default_threads": torch.get_num_threads(),
                "libs": mapped_libs(), "glibc_tunables": os.environ.get("GLIBC_TUNABLES", "")}

    handlers = {"setup": setup, "time": time_steps, "info": info,
                "free": lambda _c: (state.clear(), gc.collect(), {})[-1]}
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            reply = handlers[cmd["cmd"]](cmd)
        except Exception as e:  # reported to the driver, which stops
            reply = {"error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


class Worker:
    def __init__(self, name, extra_env):
        env = dict(os.environ)
        env.update(extra_env)
        self.name = name
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--torch-worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)

    def call(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"compare_pytorch: torch worker '{self.name}' died")
        reply = json.loads(line)
        if "error" in reply:
            sys.exit(f"compare_pytorch: torch worker '{self.name}': {reply['error']}")
        return reply

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------

def model_sizes(total=MODEL_TOTAL, count=MODEL_TENSORS, seed=1):
    """200 sizes spread like a model's layers (log-uniform over e^0..e^6 relative weights, so a few
    large matrices and many small vectors), summing to `total`. Deterministic."""
    import numpy as np
    w = np.exp(np.random.default_rng(seed).uniform(0.0, 6.0, count))
    sizes = np.maximum(1, np.floor(total * w / w.sum())).astype(np.int64)
    sizes[-1] += total - int(sizes.sum())
    assert sizes.min() >= 1 and int(sizes.sum()) == total
    return [int(s) for s in sizes]


def sparse_batches(dist, seed=7):
    import numpy as np
    rng = np.random.default_rng(seed)
    if dist == "uniform":
        b = rng.integers(0, SPARSE_ROWS, size=(SPARSE_BATCHES, SPARSE_BATCH), dtype=np.int64)
    else:  # Zipf s = 1 over the rows, by inverse CDF (numpy's zipf needs s > 1)
        cdf = np.cumsum(1.0 / np.arange(1, SPARSE_ROWS + 1))
        cdf /= cdf[-1]
        u = rng.random((SPARSE_BATCHES, SPARSE_BATCH))
        b = np.minimum(np.searchsorted(cdf, u, side="left"), SPARSE_ROWS - 1).astype(np.int64)
    unique = [len(np.unique(row)) for row in b]
    return b, unique


def load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def run_adakit(exe, case, threads, repeats, extra=()):
    cmd = [exe, "--optimizer", case["adakit_optimizer"], "--repeats", str(repeats), *extra]
    if case["adakit_options"]:
        cmd += ["--options", case["adakit_options"]]
    if case["kind"] == "dense":
        cmd += ["--elements", str(case["sizes"][0])]
    elif case["kind"] == "tensors":
        cmd += ["--tensor-sizes", case["sizes_file"]]
    else:
        cmd += ["--sparse", case["dist"], "--indices", case["indices_file"], "--rows", str(SPARSE_ROWS),
                "--dim", str(SPARSE_DIM), "--batch", str(SPARSE_BATCH)]
    cmd += ["--threads", ",".join(str(t) for t in threads)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"compare_pytorch: {' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()}")
    out = json.loads(res.stdout)
    got = [e["threads"] for e in out["per_threads"]]
    if got != list(threads):
        sys.exit(f"compare_pytorch: adakit-step-timer ran threads {got}, asked {list(threads)}")
    return out


def build_cases(args, tmp):
    cases = []
    wanted = set(args.cases.split(",")) if args.cases else None
    sizes = [s for s in args.sizes.split(",")]
    for label, (aopt, aoptions, tcls, tkw) in DENSE.items():
        if wanted and label not in wanted:
            continue
        for s in sizes:
            cases.append(dict(name=f"{label}", size_label=s, kind="dense", sizes=[SIZES[s]], elements=SIZES[s],
                              adakit_optimizer=aopt, adakit_options=aoptions, torch_class=tcls, torch_kwargs=tkw))
    msizes = model_sizes()
    sizes_file = os.path.join(tmp, "model200_sizes.txt")
    with open(sizes_file, "w") as f:
        f.write("\n".join(str(s) for s in msizes) + "\n")
    for label in (["adagrad"] if args.quick else ["adagrad", "adam"]):
        name = f"model200_{label}"
        if wanted and name not in wanted and "model200" not in wanted:
            continue
        aopt, aoptions, tcls, tkw = DENSE[label]
        cases.append(dict(name=name, size_label="16M/200", kind="tensors", sizes=msizes, sizes_file=sizes_file,
                          elements=MODEL_TOTAL, adakit_optimizer=aopt, adakit_options=aoptions, torch_class=tcls,
                          torch_kwargs=tkw))
    for dist in ("uniform", "zipf"):
        name = f"sparse_{dist}"
        if wanted and name not in wanted and "sparse" not in wanted:
            continue
        batches, unique = sparse_batches(dist)
        path = os.path.join(tmp, f"indices_{dist}.bin")
        batches.tofile(path)
        cases.append(dict(name=name, size_label="1Mx64", kind="sparse", dist=dist, indices_file=path,
                          unique=unique, mean_unique=statistics.mean(unique), elements=SPARSE_ROWS * SPARSE_DIM,
                          adakit_optimizer="adagrad", adakit_options="", torch_class="Adagrad", torch_kwargs={}))
    return cases


def print_environment(workers, exe):
    print("== machine")
    model = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True)
                  .stdout.splitlines() if l.startswith("Model name")), platform.processor())
    print(f"cpu: {model}; {os.cpu_count()} logical CPUs; load average {load():.2f}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
                "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GLIBC_TUNABLES"):
        if var in os.environ:
            print(f"env {var}={os.environ[var]} (passed through unchanged)")
    alt = subprocess.run(["update-alternatives", "--display", "libblas.so.3-x86_64-linux-gnu"],
                         capture_output=True, text=True)
    if alt.returncode == 0:
        print("libblas.so.3: " + next((l.strip() for l in alt.stdout.splitlines() if "link currently" in l), "?"))
    info = None
    for w in workers:
        info = w.call(cmd="info")
        print(f"== torch worker '{w.name}' (GLIBC_TUNABLES={info['glibc_tunables'] or 'unset'})")
        print(f"torch {info['torch']}, numpy {info['numpy']}; torch.get_num_threads() at start: "
              f"{info['default_threads']} (each timing sets torch.set_num_threads(T) and records get_num_threads())")
        print("BLAS / OpenMP objects mapped after a matmul: " + ", ".join(info["libs"]))
    if info:
        print("== torch.__config__.show()")
        print(info["config"].rstrip())
        blas = [l for l in info["config"].splitlines() if "BLAS_INFO" in l]
        print("(torch's BLAS: " + ("BLAS_INFO=" + blas[0].split("BLAS_INFO=")[1].split(",")[0] if blas else "?") +
              ", i.e. the libblas.so.3 above; no optimizer step calls BLAS)")
    print(f"== adakit: {exe} (adakit-step-timer; --threads T calls adakit::set_num_threads(T))")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1M and 16M, 3 runs of 3 steps (about two minutes)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, help="alternations per case (default 5, --quick 3)")
    ap.add_argument("--repeats", type=int, help="timed steps per run and side (default 5, --quick 3)")
    ap.add_argument("--max-seconds", type=float, help="torch times as many of --repeats steps as fit "
                    "in this many seconds, at least one (default 1.0, --quick 0.4)")
    ap.add_argument("--sizes", help="dense sizes, of 1M,16M,64M (default all; --quick 1M,16M)")
    ap.add_argument("--cases", help="comma list of case names (adagrad, sgd, ..., model200, sparse_zipf, ...)")
    ap.add_argument("--torch-heaps", default="default,retained", help="torch workers: default,retained")
    ap.add_argument("--adakit", default=os.path.join(ROOT, "build", "bench", "adakit-step-timer"))
    ap.add_argument("--bandwidth", action="store_true",
                    help="no PyTorch: adakit's dense steps as a fraction of the reference loop on the same memory "
                         "(adakit-step-timer --reference), median over --runs processes")
    ap.add_argument("--json", help="write all raw times here")
    ap.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        torch_worker()
        return
    args.runs = args.runs or (3 if args.quick else 5)
    args.repeats = args.repeats or (3 if args.quick else 5)
    args.max_seconds = args.max_seconds or (0.4 if args.quick else 1.0)
    args.sizes = args.sizes or ("1M,16M" if args.quick else "1M,16M,64M")
    threads = [int(t) for t in args.threads.split(",")]
    if not os.access(args.adakit, os.X_OK):
        sys.exit(f"compare_pytorch: {args.adakit} not found; build it with\n  cmake --build build --target adakit-step-timer")

    if args.bandwidth:
        bandwidth_table(args, threads)
        return
    heaps = args.torch_heaps.split(",")
    workers = []
    if "default" in heaps:
        workers.append(Worker("default", {}))
    if "retained" in heaps:
        workers.append(Worker("retained", {"GLIBC_TUNABLES": "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold="
                                           + str(1 << 40)}))
    t_begin = time.time()
    print_environment(workers, args.adakit)
    print(f"== {args.runs} alternating runs per case; per run and side: {WARMUP} warm-up steps then up to "
          f"{args.repeats} timed steps, sparse {max(args.repeats, SPARSE_REPEATS)} (torch: as many as fit in "
          f"{args.max_seconds:g} s, at least 1; its warm-up of steps >= 50 ms is done once per case)\n", flush=True)

    raw = []
    with tempfile.TemporaryDirectory(prefix="adakit-cmp-") as tmp:
        cases = build_cases(args, tmp)
        for case in cases:
            foreach = [False] if case["kind"] == "sparse" else [False, True]
            setup = {}
            for w in workers:
                setup[w.name] = w.call(cmd="setup", kind=case["kind"], sizes=case.get("sizes"),
                                       indices_file=case.get("indices_file"), rows=SPARSE_ROWS, dim=SPARSE_DIM,
                                       batch=SPARSE_BATCH, torch_class=case["torch_class"],
                                       torch_kwargs=case["torch_kwargs"], foreach=foreach, threads=threads)
            res = {(w.name, fe, t): [] for w in workers for fe in foreach for t in threads}
            res.update({("adakit", None, t): [] for t in threads})
            tthreads = {}
            load_before = load()
            t_case = time.time()
            repeats = max(args.repeats, SPARSE_REPEATS) if case["kind"] == "sparse" else args.repeats
            for _run in range(args.runs):
                for t in threads:
                    for w in workers:
                        for fe in foreach:
                            r = w.call(cmd="time", foreach=fe, threads=t, repeats=repeats,
                                       max_seconds=args.max_seconds)
                            res[(w.name, fe, t)].append(r["times"])
                            tthreads[t] = r["threads"]
                # One adakit process per run times every thread count in turn (page-faulting in
                # a fresh 64M case costs seconds on some virtual machines).
                for entry in run_adakit(args.adakit, case, threads, repeats)["per_threads"]:
                    res[("adakit", None, entry["threads"])].append(entry["times"])
            for w in workers:
                w.call(cmd="free")
            for t in threads:
                row = dict(case=case["name"], size=case["size_label"], elements=case["elements"], threads=t,
                           torch_threads=tthreads.get(t), load=load_before, kind=case["kind"],
                           case_seconds=time.time() - t_case,
                           torch_setup_seconds={k: v["setup_s"] for k, v in setup.items()})
                unit = case["mean_unique"] if case["kind"] == "sparse" else case["elements"]
                for (side, fe, tt), runs in res.items():
                    if tt != t:
                        continue
                    key = "adakit" if side == "adakit" else f"torch_{side}_{'foreach' if fe else 'loop'}"
                    med = median([median(r) for r in runs])
                    row[key] = unit / med
                    row[key + "_runs"] = runs
                if case["kind"] == "sparse":
                    row["mean_unique_rows"] = case["mean_unique"]
                raw.append(row)
                print_row(row, heaps)
    for w in workers:
        w.close()
    print_table(raw, heaps)
    print(f"\nload average at the end {load():.2f}; wall time {time.time() - t_begin:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "rows": raw}, f, indent=1)


def bandwidth_table(args, threads):
    """adakit-bench's metric, measured so that allocation-to-allocation differences cancel: each run is
    a fresh adakit-step-timer --reference process that alternates the reference loop and the step on
    the same buffers; the table gives the median over runs of each run's fraction."""
    print(f"== adakit steps as a fraction of the reference loop (read 3 arrays, write 2) on the same memory; "
          f"{args.runs} processes per case, {args.repeats} alternating pairs each; load average {load():.2f}")
    print(f"{'case':<17} {'elements':>9} {'thr':>3} {'bytes/elem':>10} {'ref GB/s':>9} {'step GB/s':>9} "
          f"{'of ref':>7} {'min-max over runs':>18}")
    raw = []
    with tempfile.TemporaryDirectory(prefix="adakit-bw-") as tmp:
        cases = [c for c in build_cases(args, tmp) if c["kind"] != "sparse"]
        for case in cases:
            per = {t: [] for t in threads}
            for _ in range(args.runs):
                out = run_adakit(args.adakit, case, threads, args.repeats, ["--reference"])
                for e in out["per_threads"]:
                    per[e["threads"]].append(e)
            for t in threads:
                fr = [e["fraction_of_reference"] for e in per[t]]
                row = dict(case=case["name"], size=case["size_label"], threads=t, fractions=fr,
                           bytes_per_element=per[t][0]["bytes_per_element"],
                           reference_gb_per_s=median([e["reference_gb_per_s"] for e in per[t]]),
                           step_gb_per_s=median([e["step_gb_per_s"] for e in per[t]]))
                raw.append(row)
                print(f"{row['case']:<17} {row['size']:>9} {t:>3} {row['bytes_per_element']:>10g} "
                      f"{row['reference_gb_per_s']:9.1f} {row['step_gb_per_s']:9.1f} {100 * median(fr):6.0f}% "
                      f"{100 * min(fr):8.0f}%-{100 * max(fr):.0f}%", flush=True)
    print(f"load average at the end {load():.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "bandwidth": raw}, f, indent=1)


def fmt(v, scale=1e9, width=8, digits=3):
    return f"{v / scale:{width}.{digits}f}" if v == v and v is not None else f"{'-':>{width}}"


def best(row, heap):
    vals = [row.get(f"torch_{heap}_loop"), row.get(f"torch_{heap}_foreach")]
    vals = [v for v in vals if v is not None]
    return max(vals) if vals else None


def print_row(row, heaps):
    parts = [f"{row['case']:<17} {row['size']:>7} T={row['threads']}"]
    for h in heaps:
        parts.append(f"{h}: loop {fmt(row.get(f'torch_{h}_loop'), 1e9 if row['kind'] != 'sparse' else 1e6)}"
                     f" foreach {fmt(row.get(f'torch_{h}_foreach'), 1e9 if row['kind'] != 'sparse' else 1e6)}")
    parts.append(f"adakit {fmt(row['adakit'], 1e9 if row['kind'] != 'sparse' else 1e6)}"
                 f" ({'M rows/s' if row['kind'] == 'sparse' else 'G elem/s'}); load {row['load']:.2f};"
                 f" {row['case_seconds']:.0f} s")
    print("  ".join(parts), flush=True)


def print_table(rows, heaps):
    dense = [r for r in rows if r["kind"] != "sparse"]
    sparse = [r for r in rows if r["kind"] == "sparse"]
    labels = {"default": "torch", "retained": "torch+heap"}
    if dense:
        print("\n== dense steps: G elements/s (median over runs); ratio = adakit / best torch path")
        head = f"{'case':<17} {'elements':>9} {'thr':>3}"
        for h in heaps:
            head += f" {labels[h] + ' fe=F':>16} {labels[h] + ' fe=T':>16}"
        head += f" {'adakit':>8}"
        for h in heaps:
            head += f" {'/' + labels[h]:>12}"
        print(head)
        for r in dense:
            line = f"{r['case']:<17} {r['size']:>9} {r['threads']:>3}"
            for h in heaps:
                line += f" {fmt(r.get(f'torch_{h}_loop'), width=16)} {fmt(r.get(f'torch_{h}_foreach'), width=16)}"
            line += f" {fmt(r['adakit'])}"
            for h in heaps:
                b = best(r, h)
                line += f" {(r['adakit'] / b if b else float('nan')):11.2f}x"
            print(line)
    if sparse:
        print("\n== sparse AdaGrad, 1,000,000 x 64, batches of 4096: unique rows/s (millions); torch foreach=True "
              "takes the same single-tensor path for sparse gradients in 1.13, so only foreach=False is timed")
        head = f"{'case':<17} {'unique/batch':>12} {'thr':>3}"
        for h in heaps:
            head += f" {labels[h]:>12}"
        head += f" {'adakit':>9}"
        for h in heaps:
            head += f" {'/' + labels[h]:>12}"
        print(head)
        for r in sparse:
            line = f"{r['case']:<17} {r['mean_unique_rows']:>12.0f} {r['threads']:>3}"
            for h in heaps:
                line += f" {fmt(r.get(f'torch_{h}_loop'), 1e6, 12, 2)}"
            line += f" {fmt(r['adakit'], 1e6, 9, 2)}"
            for h in heaps:
                b = best(r, h)
                line += f" {(r['adakit'] / b if b else float('nan')):11.2f}x"
            print(line)
    tt = sorted({(r["threads"], r["torch_threads"]) for r in rows})
    print("\nthreads: " + "; ".join(f"adakit --threads {t}, torch.get_num_threads() = {g}" for t, g in tt))


if __name__ == "__main__":
    main()
