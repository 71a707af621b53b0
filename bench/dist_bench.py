#!/usr/bin/env python3
"""Data-parallel training (mpirun -np K adakit train) on the Fashion-MNIST MLP 784-256-10:

1. Step time: 1 process on 1 thread against 2 ranks of 1 thread each (replicated with overlapped
   buckets, replicated with one bucket after backward, sharded), same global batch, runs interleaved,
   median epoch of each run, median over the repeats; the throughput ratio is t(1 process) / t(2 ranks).
2. Bytes per step and rank: Comm's payload counters, and the bytes each rank wrote through the kernel
   (/proc/self/io wchar) with Open MPI's TCP transport (--mca btl self,tcp), against the ring minimum
   2 (K-1)/K * 4N for both modes.

    python3 bench/dist_bench.py [--adakit build/tools/adakit/adakit] [--repeats 3] [--epochs 2]

Prints the load average before and after: the machine may be shared, ratios are side by side.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODEL = ["--data", "fashion-mnist", "--model", "mlp:256", "--scale", "off", "--optimizer", "adagrad",
         "--lr", "0.01", "--batch-size", "128", "--seed", "1", "--threads", "1", "--json"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def run(cmd):
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}")
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def mpirun(k, extra=()):
    # Ranks waiting in MPI yield the core (Open MPI polls otherwise, which starves the other rank on a
    # machine with more runnable processes than cores).
    return ["mpirun", "--oversubscribe", "--mca", "mpi_yield_when_idle", "1", "-np", str(k), *extra]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adakit", default=os.path.join(ROOT, "build", "tools", "adakit", "adakit"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    a = ap.parse_args()
    if shutil.which("mpirun") is None:
        sys.exit("mpirun not found (Debian: openmpi-bin)")
    print("load average before:", open("/proc/loadavg").read().split()[:3])
    train = [a.adakit, "train", *MODEL, "--epochs", str(a.epochs)]
    configs = {
        "1 process, 1 thread": train,
        "2 ranks replicated (overlap, 256 KiB buckets)": mpirun(2) + train + ["--dist", "replicated"],
        "2 ranks replicated (one bucket after backward)": mpirun(2) + train + ["--dist", "replicated", "--dist-bucket-kb", "1000000"],
        "2 ranks sharded (ZeRO-1)": mpirun(2) + train + ["--dist", "sharded"],
    }
    times = {name: [] for name in configs}
    for r in range(a.repeats):
        for name, cmd in configs.items():
            j = run(cmd)
            t = statistics.median(j["epoch_seconds"])
            times[name].append(t)
            d = j.get("data_parallel", {})
            wait = f", in reduce {d['ms_per_step_in_reduce']:.2f} ms/step, in step {d['ms_per_step_in_step']:.2f}" if d else ""
            print(f"  repeat {r + 1}: {name}: {t:.3f} s/epoch, test acc {j['test_accuracy']:.4f}{wait}", flush=True)
    base = statistics.median(times["1 process, 1 thread"])
    print("\nstep time (median epoch, median of repeats), global batch 128, 469 steps an epoch")
    print(f"{'configuration':50s} {'s/epoch':>8s} {'ms/step':>8s} {'throughput vs 1 process':>24s}")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"{name:50s} {t:8.3f} {1000 * t / 469:8.2f} {base / t:23.2f}x")

    print("\nbytes per step and rank (rank 0), 1 epoch over TCP (--mca btl self,tcp)")
    print(f"{'ranks mode':18s} {'payload to MPI':>15s} {'written (wchar)':>16s} {'ring minimum':>13s} {'wchar/min':>10s} {'state/rank':>11s}")
    for k in (2, 3):
        for mode in ("replicated", "sharded"):
            cmd = mpirun(k, ["--mca", "btl", "self,tcp"]) + [a.adakit, "train", *MODEL, "--epochs", "1", "--dist", mode]
            d = run(cmd)["data_parallel"]
            payload = sum(v for key, v in d["mpi_payload_bytes_per_step"].items() if "checkpoint" not in key)
            wire = d.get("os_write_bytes_per_step", float("nan"))
            print(f"{k} {mode:16s} {payload:15.0f} {wire:16.0f} {d['min_sent_bytes_per_step']:13.0f} "
                  f"{wire / d['min_sent_bytes_per_step']:10.3f} {d['state_bytes_this_rank']:11d}", flush=True)
    print("\nload average after:", open("/proc/loadavg").read().split()[:3])


if __name__ == "__main__":
    main()
