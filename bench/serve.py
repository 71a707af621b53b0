#!/usr/bin/python3
"""Benchmark: `adakit serve` throughput and latency — predictions per second and p50 / p90 / p99
latency for 1 and 8 concurrent clients, closed loop and pipelined, over a unix socket and TCP.

Not a test (nothing runs it from `make test`). Standard library only:

    cmake --build build --target adakit_cli adakit-serve-load
    python3 bench/serve.py [--build build] [--models tiny,debian,synthetic] [--seconds 5] [--repeats 3]

Models (each trained here, into --workdir, unless its .bin is there already):
  tiny       the README's tutorial model: `train --data sentiment-tiny --epochs 20 --lr 0.5
             --batch-size 1` (six sentences); requests: its six texts.
  debian     the README's sparse text example (`--ngram 1,2 --tfidf --model softmax --optimizer
             adagrad --lr 0.5 --initial-accumulator-value 1 --epochs 10 --batch-size 1`) on a real task:
             Debian package short descriptions labelled by section, from `bench/text_task.py
             --data-only` (apt's local Packages index, offline); requests: the test split's texts.
  synthetic  100,000 generated lines over a 50,000-word Zipf vocabulary, 4 classes, trained with
             `train --data synthetic.tsv --ngram 1,2`; requests: 10,000 further generated lines.

Each (model, transport) starts one server (`adakit serve --model M --socket P`, or `--port 0`), waits
until it accepts, then runs `adakit-serve-load` (bench/serve_load.cpp) for each configuration —
clients x pipeline depth in --configs — --repeats times, configurations interleaved, and stops the
server with SIGTERM. Figures are medians over the repeats. Columns:
  server cores       the server's CPU time (user + system, /proc/PID/stat) over the run's wall time,
                     warm-up included; "client cores": the same for the load generator
  server CPU µs/req  the server's CPU time over the requests it answered in the run (warm-up included)
  other cores        the machine's busy time (/proc/stat) less those two: every other process (above
                     0.1, the run competed with other work)
  server threads     the server's threads in mid-run
  stdio, 1 thread    `adakit serve --stdio` reading the request file (repeated to --stdio-lines lines)
                     from a file into /dev/null: handle() and line I/O on one thread with no round
                     trips (model loading included), what one core does with the model alone

The server and the clients share the machine's cores; the header prints how many there are and the
load average before and after (other work on the machine lowers every figure).
"""

import argparse
import json
import os
import random
import resource
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def machine_busy_seconds():
    with open("/proc/stat") as f:
        t = [int(x) for x in f.readline().split()[1:]]
    return (sum(t[:7]) - t[3] - t[4]) / CLK_TCK  # user, nice, system, irq, softirq (guest time is in user)


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def texts_of(tsv):
    with open(tsv, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t", 1)[1] for line in f if "\t" in line]


def synthetic_lines(n, vocab, classes, seed):
    """label<TAB>text lines: words from one Zipf(1.1) vocabulary, a fifth of them from the class's
    own 400 mid-frequency words, 8 to 30 words per line."""
    rng = random.Random(seed)
    cum, total = [], 0.0
    for r in range(1, vocab + 1):
        total += r ** -1.1
        cum.append(total)
    topics = [random.Random(1000 + c).sample(range(200, vocab), 400) for c in range(classes)]
    out = []
    for _ in range(n):
        c = rng.randrange(classes)
        k = rng.randint(8, 30)
        common = rng.choices(range(vocab), cum_weights=cum, k=k)
        words = [f"w{topics[c][rng.randrange(400)] if rng.random() < 0.2 else w}" for w in common]
        out.append(f"c{c}\t{' '.join(words)}")
    return out


def prepare(model, adakit, work):
    """Trains `model` (once) and writes its request file; returns (model path, request path, train cmd)."""
    d = os.path.join(work, model)
    os.makedirs(d, exist_ok=True)
    bin_path, req = os.path.join(d, f"{model}.bin"), os.path.join(d, "requests.txt")
    if model == "tiny":
        cmd = [adakit, "train", "--data", "sentiment-tiny", "--epochs", "20", "--lr", "0.5", "--batch-size", "1"]
        texts = texts_of(os.path.join(ROOT, "data", "sentiment-tiny.tsv"))
    elif model == "debian":
        if not os.path.exists(os.path.join(d, "train.tsv")):
            run([sys.executable, os.path.join(HERE, "text_task.py"), "--data-only", "--workdir", d], stdout=subprocess.DEVNULL)
        cmd = [adakit, "train", "--data", os.path.join(d, "train.tsv"), "--test-data", os.path.join(d, "test.tsv"),
               "--ngram", "1,2", "--tfidf", "--model", "softmax", "--optimizer", "adagrad", "--lr", "0.5",
               "--initial-accumulator-value", "1", "--epochs", "10", "--batch-size", "1"]
        texts = texts_of(os.path.join(d, "test.tsv"))
    elif model == "synthetic":
        data = os.path.join(d, "synthetic.tsv")
        if not os.path.exists(data):
            write_lines(data, synthetic_lines(100_000, 50_000, 4, seed=1))
        cmd = [adakit, "train", "--data", data, "--ngram", "1,2"]
        texts = [line.split("\t", 1)[1] for line in synthetic_lines(10_000, 50_000, 4, seed=2)]
    else:
        sys.exit(f"unknown model {model} (tiny, debian, synthetic)")
    cmd += ["--save", bin_path, "--json"]
    if not os.path.exists(bin_path):
        out = run(cmd, capture_output=True, text=True).stdout
        with open(os.path.join(d, "train.json"), "w") as f:
            f.write(out)
    write_lines(req, texts)
    info = {}
    try:
        with open(os.path.join(d, "train.json")) as f:
            j = json.load(f)
        info = {k: j.get(k) for k in ("features", "weights", "test_accuracy", "train_samples")}
    except (OSError, ValueError):
        pass
    info["file_mb"] = os.path.getsize(bin_path) / 1e6
    return bin_path, req, " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd[1:]), info


class Server:
    def __init__(self, adakit, model, transport, work):
        self.err_path = os.path.join(work, "serve.err")
        self.err = open(self.err_path, "w")
        cmd = [adakit, "serve", "--model", model]
        if transport == "unix":
            self.sock = os.path.join(work, "serve.sock")
            cmd += ["--socket", self.sock]
        else:
            cmd += ["--port", "0"]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        self.flags = self.wait_ready(transport)
        self.answered = 0

    def wait_ready(self, transport, timeout=60.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                sys.exit(f"adakit serve exited with {self.proc.returncode}: {open(self.err_path).read()}")
            if transport == "tcp":
                m = re.search(r"on 127\.0\.0\.1:(\d+)", open(self.err_path).read())
                if m:
                    return ["--port", m.group(1)]
            else:
                try:
                    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                        s.connect(self.sock)
                    return ["--socket", self.sock]
                except OSError:
                    pass
            time.sleep(0.05)
        sys.exit("adakit serve did not start listening")

    def threads(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.err.close()
        return rc


def load(loader, server, req, clients, pipeline, seconds, warmup):
    cpu0, busy0, t0 = cpu_seconds(server.proc.pid), machine_busy_seconds(), time.monotonic()
    proc = subprocess.Popen([loader] + server.flags + ["--requests", req, "--clients", str(clients), "--pipeline",
                            str(pipeline), "--seconds", str(seconds), "--warmup", str(warmup)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(warmup + seconds / 2)
    threads = server.threads()  # mid-run: one per connected client, and the server's own
    stdout, stderr = proc.communicate()
    wall, busy = time.monotonic() - t0, machine_busy_seconds() - busy0
    if proc.returncode not in (0, 1):
        sys.exit(f"adakit-serve-load failed ({proc.returncode}): {stderr}")
    j = json.loads(stdout)
    j["server_threads"] = threads
    cpu = cpu_seconds(server.proc.pid) - cpu0
    j["server_cores"] = cpu / wall
    j["client_cores"] = j["client_cpu_s"] / wall
    j["other_cores"] = max(0.0, busy - cpu - j["client_cpu_s"]) / wall  # every other process on the machine
    answered = (j.get("server_stats") or {}).get("requests", 0)  # warm-up and !stats included
    j["server_cpu_us_per_request"] = 1e6 * cpu / max(1, answered - server.answered)
    server.answered = answered
    return j


def stdio_rate(adakit, model, req, lines):
    texts = open(req, encoding="utf-8").read().splitlines()
    path = req + ".stdio"
    write_lines(path, (texts * (lines // len(texts) + 1))[:lines])
    with open(path) as fin:
        r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
        run([adakit, "serve", "--model", model, "--stdio", "--quiet"], stdin=fin, stdout=subprocess.DEVNULL)
        wall, r1 = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return lines / wall, cpu / wall, 1e6 * cpu / lines  # model loading included


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build folder (Release)")
    ap.add_argument("--workdir", default="/tmp/adakit-serve-bench")
    ap.add_argument("--models", default="tiny,debian,synthetic")
    ap.add_argument("--transports", default="unix,tcp")
    ap.add_argument("--configs", default="1x1,8x1,1x32,8x32", help="clients x pipeline depth, comma-separated")
    ap.add_argument("--seconds", type=int, default=5, help="measured seconds per run")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--stdio-lines", type=int, default=200_000)
    ap.add_argument("--json", help="also write every run to this file")
    a = ap.parse_args()
    adakit = os.path.join(a.build, "tools", "adakit", "adakit")
    loader = os.path.join(a.build, "bench", "adakit-serve-load")
    for p in (adakit, loader):
        if not os.access(p, os.X_OK):
            sys.exit(f"{p} is missing: cmake --build {a.build} --target adakit_cli adakit-serve-load")
    os.makedirs(a.workdir, exist_ok=True)
    configs = [tuple(int(x) for x in c.split("x")) for c in a.configs.split(",")]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"# {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {cpu}; "
          f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"# {a.seconds} s measured after {a.warmup} s warm-up, median of {a.repeats} repeats, configurations interleaved")
    rows, everything = [], []
    for model in a.models.split(","):
        bin_path, req, train_cmd, info = prepare(model, adakit, a.workdir)
        n_req = sum(1 for _ in open(req, encoding="utf-8"))
        print(f"# {model}: adakit {train_cmd}\n#   {info.get('features')} features, {info.get('weights')} weights, "
              f"{info['file_mb']:.1f} MB file, test accuracy {info.get('test_accuracy')}, {n_req} request texts")
        stdio, cores, us = stdio_rate(adakit, bin_path, req, a.stdio_lines)
        rows.append((model, "stdio", "1 thread", "-", f"{stdio:.0f}", "-", "-", "-", f"{cores:.2f}", f"{us:.1f}", "-", "-", "-", "-"))
        for transport in a.transports.split(","):
            server = Server(adakit, bin_path, transport, a.workdir)
            runs = {c: [] for c in configs}
            for _ in range(a.repeats):
                for clients, depth in configs:
                    j = load(loader, server, req, clients, depth, a.seconds, a.warmup)
                    j.update(model=model, transport=transport)
                    runs[(clients, depth)].append(j)
                    everything.append(j)
            rc = server.stop()
            if rc != 0:
                print(f"# note: {' '.join(server.cmd[1:3])} ... exited with {rc} on SIGTERM "
                      f"({'killed by the signal, not a clean stop' if rc in (-15, 143) else 'error'})")
            for (clients, depth), js in runs.items():
                med = lambda k: statistics.median(x[k] for x in js)
                rps = med("requests_per_s")
                rows.append((model, transport, str(clients), str(depth), f"{rps:.0f}", f"{med('p50_us'):.0f}",
                             f"{med('p90_us'):.0f}", f"{med('p99_us'):.0f}", f"{med('server_cores'):.2f}",
                             f"{med('server_cpu_us_per_request'):.1f}",
                             f"{med('client_cores'):.2f}", f"{med('other_cores'):.2f}", str(sum(x["errors"] for x in js)),
                             str(max(x["server_threads"] for x in js))))
    head = ("model", "transport", "clients", "pipeline", "requests/s", "p50 µs", "p90 µs", "p99 µs", "server cores",
            "server CPU µs/req", "client cores", "other cores", "errors", "server threads")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    print(f"# load average after: {os.getloadavg()[0]:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(everything, f, indent=1)


if __name__ == "__main__":
    main()
