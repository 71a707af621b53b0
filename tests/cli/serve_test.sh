#!/usr/bin/env bash
# Drives `adakit serve` with real clients: requests on stdin/stdout, over a unix socket (a learning
# client while eight predicting ones come and go) and over TCP. The promise: a server that learns B's
# lines ends with a snapshot byte for byte the file of `adakit train --init-model` over B (one pass, in
# order, batch 1), predictions in between or not. Snapshots every N, on !snapshot, at SIGTERM, and
# whole under SIGKILL; bad requests answered with an error while the server goes on; --max-clients;
# usage errors. The socket clients are Python (the standard library's socket module).
set -uo pipefail
bin=$1
source "$(dirname "$0")/harness.sh"
py=/usr/bin/python3

# ---- data: two sentiments as label<TAB>text (A: 200 lines, B: 60, T: 40, 10% of labels flipped); B
# brings words A never had ("newNNN"), so learning grows the vocabulary. LIBSVM: three classes owning
# ten features each, a noise feature in 31..40; B's rows sometimes use 41..45, which A and T lack, so
# the model's columns grow.
awk -v W="$work" 'BEGIN { srand(3);
  split("good great fine love superb nice happy best", p, " ");
  split("bad awful poor hate boring worst sad dull", n, " ");
  split("the a movie film plot it was and", c, " ");
  for (i = 0; i < 300; i++) { y = rand() < 0.5; s = "";
    for (k = 0; k < 6; k++) { j = int(rand() * 8) + 1; s = s " " (rand() < 0.6 ? c[j] : (y ? p[j] : n[j])) }
    if (i >= 200 && i < 260 && i % 4 == 0) s = s " new" i;
    if (rand() < 0.1) y = !y;
    print (y ? "pos" : "neg") "\t" substr(s, 2) > (W "/" (i < 200 ? "A" : i < 260 ? "B" : "T") ".tsv") } }'
awk -v W="$work" 'BEGIN { srand(11);
  for (i = 0; i < 300; i++) { c = i % 3; k = 0; split("", seen);
    for (j = 0; j < 5; j++) { f = c * 10 + int(rand() * 10) + 1; if (!(f in seen)) { seen[f] = 1; idx[++k] = f } }
    g = 30 + int(rand() * 10) + 1; if (i >= 200 && i < 260 && i % 5 == 0) g = 40 + int(rand() * 5) + 1;
    if (!(g in seen)) { seen[g] = 1; idx[++k] = g }
    for (a = 1; a <= k; a++) for (b = a + 1; b <= k; b++) if (idx[b] < idx[a]) { t = idx[a]; idx[a] = idx[b]; idx[b] = t }
    line = c; for (a = 1; a <= k; a++) line = line " " idx[a] ":" sprintf("%.3f", 0.5 + rand());
    print line > (W "/" (i < 200 ? "A" : i < 260 ? "B" : "T") ".svm") } }'
cut -f2 "$work/T.tsv" | awk '{ print } NR % 10 == 0 { print "!stats" }' > "$work/preds.txt"  # 44 requests, no labels

# ---- helpers
# client.py ADDR MODE: one client. ADDR: a unix socket path or tcp:PORT. With $GO set, it connects, then
# waits until that file exists before sending (so that clients started together overlap).
#   send   stdin's bytes, then the end of its stream; stdout: every reply until the server closes
#   each   stdin's lines one at a time, each after the reply to the one before
#   half   stdin's bytes (a line without its end), then disconnects without reading
#   hold D one !stats, touches D/held.PID, stays connected until D/release exists
cat > "$work/client.py" <<'EOF'
import os, socket, sys, threading, time
addr, mode = sys.argv[1], sys.argv[2]
if addr.startswith("tcp:"):
    s = socket.create_connection(("127.0.0.1", int(addr[4:])), timeout=20)
else:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(addr)
data = b"" if mode == "hold" else sys.stdin.buffer.read()
go = os.environ.get("GO")
while go and not os.path.exists(go):
    time.sleep(0.005)
out = sys.stdout.buffer
if mode == "send":
    def sender():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server closed first (too many clients)
    t = threading.Thread(target=sender)
    t.start()
    while True:
        b = s.recv(65536)
        if not b:
            break
        out.write(b)
    t.join()
elif mode == "each":
    f = s.makefile("rb")
    for line in data.splitlines(keepends=True):
        s.sendall(line)
        out.write(f.readline())
elif mode == "half":
    s.sendall(data)
elif mode == "hold":
    s.sendall(b"!stats\n")
    s.makefile("rb").readline()
    d = sys.argv[3]
    open(os.path.join(d, "held.%d" % os.getpid()), "w").close()
    for _ in range(2000):
        if os.path.exists(os.path.join(d, "release")):
            break
        time.sleep(0.005)
s.close()
EOF
# replies FILE N EXPR: FILE holds N replies, each a JSON object for which EXPR holds.
# replies FILE - EXPR1 EXPR2 ...: one reply per EXPR, reply k satisfying EXPR k.
# EXPR sees r (the reply), i (its index), rs (all the replies) and probs_ok(r) (probabilities add up to
# 1, the reply's label is the most probable, "top" is sorted and starts with it).
cat > "$work/replies.py" <<'EOF'
import json, sys
path, n, exprs = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(path, "rb").read().decode("utf-8")
lines = text.split("\n")
if lines[-1] != "":
    sys.exit("%s: the last reply does not end its line" % path)
rs = [json.loads(l) for l in lines[:-1]]
want = len(exprs) if n == "-" else int(n)
if len(rs) != want:
    sys.exit("%s: %d replies, expected %d:\n%s" % (path, len(rs), want, text[:2000]))
def probs_ok(r):
    p = r["probabilities"]
    top = r.get("top", [{"label": r["label"], "probability": r["probability"]}])
    return (abs(sum(p.values()) - 1) < 1e-6 and r["probability"] == max(p.values()) == p[r["label"]]
            and top[0]["label"] == r["label"] and all(a["probability"] >= b["probability"] for a, b in zip(top, top[1:])))
for i, r in enumerate(rs):
    e = exprs[i] if n == "-" else exprs[0]
    try:
        ok = eval(e)
    except Exception as x:
        ok = False
        e += " (%r)" % x
    if not ok:
        sys.exit("%s: reply %d %s fails: %s" % (path, i + 1, json.dumps(r), e))
EOF
replies() { local out; out=$("$py" "$work/replies.py" "$@" 2>&1); local st=$?; check "$1: $out" $st; }
client() { "$py" "$work/client.py" "$@"; }
# serve NAME ARGS...: a server in the background (pid in $server) under a 60 s limit, stdin from
# $serve_stdin (else none), stdout in NAME.out, stderr in NAME.err; returns once it has started (listens).
serve() {
  local name=$1; shift
  timeout -s KILL 60 "$bin" serve "$@" < "${serve_stdin:-/dev/null}" > "$work/$name.out" 2> "$work/$name.err" &
  server=$! server_name=$name
  for _ in $(seq 400); do grep -q " on " "$work/$name.err" 2> /dev/null && return 0; sleep 0.025; done
  echo "  $name: no start line: $(cat "$work/$name.err")"
}
# stop WHAT: SIGTERM to $server; it must exit 0 (after its last snapshot).
stop() {
  kill -TERM "$server"
  wait "$server" 2> /dev/null
  local st=$?
  [ "$st" -ne 0 ] && tail -3 "$work/$server_name.err"
  check "$1: SIGTERM ends the server with 0 (got $st)" $st
}
same() { cmp -s "$2" "$3"; local st=$?; check "$1 ($(basename "$2") vs $(basename "$3"))" $st; }
# expected NAME MODEL DATA: what the server must end as: train --init-model MODEL over DATA (B or its
# first lines), one pass in order, batch 1, T as the test file.
expected() {
  "$bin" train --init-model "$2" --data "$3" --test-data "$work/T.${3##*.}" --epochs 1 --no-shuffle --batch-size 1 \
    --save "$work/$1" --save-state --quiet
  local st=$?
  check "train --init-model $(basename "$2") --data $(basename "$3")" $st
}

# ---- the saved models (A, with the optimizer state) and the expected files (A then B)
for ext in tsv svm; do
  "$bin" train --data "$work/A.$ext" --test-data "$work/T.$ext" --epochs 2 --batch-size 4 --lr 0.5 --seed 1 \
    --save "$work/a_$ext.bin" --save-state --quiet
  check "train on A.$ext --save-state" $?
  expected "ab_$ext.bin" "$work/a_$ext.bin" "$work/B.$ext"
  ! cmp -s "$work/a_$ext.bin" "$work/ab_$ext.bin"; check "$ext: learning B changes the model" $?
done
a=$work/a_tsv.bin

# ---- stdio: predictions (text and LIBSVM), a labelled line without and with --learn, !stats
printf 'a good great film\nthe awful boring plot\n!stats\npos\tnice happy film\n' |
  "$bin" serve --model "$a" --probabilities --top-k 2 -q > "$work/text.out"
check "stdio text server" $?
replies "$work/text.out" - 'r["label"] == "pos" and len(r["top"]) == 2 and probs_ok(r)' \
  'r["label"] == "neg" and len(r["top"]) == 2 and probs_ok(r)' \
  'r["requests"] == 3 and r["predictions"] == 2 and r["errors"] == 0 and r["learning"] is False and "steps" not in r' \
  'r["label"] == "pos" and r["correct"] is True and "learned" not in r and probs_ok(r)'
printf '1:1 2:1 3:0.5\n11:1 12:1\n21:1 25:1 33:1\n2 21:1 22:1\n0 21:1\n' |
  "$bin" serve --model "$work/a_svm.bin" --probabilities --top-k 3 -q > "$work/svm.out"
check "stdio LIBSVM server" $?
replies "$work/svm.out" - 'r["label"] == "0" and len(r["top"]) == 3 and probs_ok(r)' \
  'r["label"] == "1" and len(r["top"]) == 3 and probs_ok(r)' 'r["label"] == "2" and probs_ok(r)' \
  'r["correct"] is True' 'r["correct"] is False'
printf '!stats\npos\tgood nice film\nthe good film\n!stats\n' | "$bin" serve --model "$a" --learn -q > "$work/learn.out"
check "stdio learning server" $?
replies "$work/learn.out" - 'r["learning"] is True and r["learned"] == 0' \
  'r["learned"] is True and r["loss"] > 0 and r["label"] in ("pos", "neg") and "correct" not in r' \
  '"learned" not in r and r["label"] == "pos"' \
  'r["learned"] == 1 and r["predictions"] == 2 and r["requests"] == 4 and r["steps"] == rs[0]["steps"] + 1'

# A LIBSVM prediction may name features the model lacks (they weigh nothing, as in adakit predict); a
# value whose step would overflow float32 is refused and changes nothing; --max-features caps growth.
printf '1:1 2:1 900:1\n0 1:3e38 2:3e38\n0 99999999:1\n1:1 2:1 900:1\n!stats\n' |
  "$bin" serve --model "$work/a_svm.bin" --learn --max-features 1000 -q > "$work/out"
check "stdio LIBSVM: odd requests" $?
replies "$work/out" - '"label" in r' '"too large to learn from" in r["error"]' '"99999999" in r["error"]' \
  'r["label"] == rs[0]["label"] and r["probability"] == rs[0]["probability"]' 'r["learned"] == 0 and r["features"] == 40'

# ---- exactness over stdio: B's lines with a prediction after each (text), B as it is (LIBSVM)
{ echo '!stats'; awk '{ print; print "the plot of the film " NR }' "$work/B.tsv"; echo '!stats'; } > "$work/B_mixed.tsv"
"$bin" serve --model "$a" --learn --save "$work/stdio_tsv.bin" < "$work/B_mixed.tsv" > "$work/mixed.out" 2> "$work/err"
check "stdio: learning B (text) with predictions in between" $?
replies "$work/mixed.out" 122 '(r["features"] > rs[0]["features"] and r["learned"] == 60 if i == 121 else True if i == 0
  else ("learned" in r) == (i % 2 == 1) and r["label"] in ("pos", "neg"))'
grep -q "snapshot .*stdio_tsv.bin" "$work/err"; check "stdio: the snapshot at the end is reported" $?
same "stdio text: snapshot = train --init-model" "$work/stdio_tsv.bin" "$work/ab_tsv.bin"
{ echo '!stats'; cat "$work/B.svm"; echo '!stats'; } |
  "$bin" serve --model "$work/a_svm.bin" --learn --save "$work/stdio_svm.bin" -q > "$work/out"
check "stdio: learning B (LIBSVM)" $?
replies "$work/out" 62 'r["features"] == 40 if i == 0 else r["features"] == 45 if i == 61 else r["learned"] is True'
same "stdio LIBSVM: snapshot = train --init-model" "$work/stdio_svm.bin" "$work/ab_svm.bin"
# SIGTERM on stdio (the input still open): the snapshot holds what was learnt.
mkfifo "$work/in"
exec 3<> "$work/in"  # open for writing before the server opens it for reading
serve_stdin=$work/in serve stdio --model "$work/a_svm.bin" --learn --save "$work/term_svm.bin"
cat "$work/B.svm" >&3
for _ in $(seq 400); do [ "$(wc -l < "$work/stdio.out")" -ge 60 ] && break; sleep 0.025; done
stop "stdio, input still open"
exec 3>&-
same "stdio SIGTERM: snapshot = train --init-model" "$work/term_svm.bin" "$work/ab_svm.bin"

# ---- exactness over a unix socket: one client learns B line by line while eight others predict
serve socket --model "$a" --learn --save "$work/sock.bin" --socket "$work/s.sock"
grep -q "unix socket" "$work/socket.err"; st=$?; check "socket server: start line ($(cat "$work/socket.err"))" $st
rm -f "$work/go"
pids=()
for k in 1 2 3 4 5 6 7 8; do GO=$work/go client "$work/s.sock" each < "$work/preds.txt" > "$work/pred$k.out" & pids+=($!); done
GO=$work/go client "$work/s.sock" each < "$work/B.tsv" > "$work/learner.out" & learner=$!
sleep 0.2
touch "$work/go"
wait "$learner"; check "socket: the learning client" $?
for k in 1 2 3 4 5 6 7 8; do wait "${pids[$((k - 1))]}"; check "socket: predicting client $k" $?; done
replies "$work/learner.out" 60 'r["learned"] is True'
for k in 1 2 3 4 5 6 7 8; do
  replies "$work/pred$k.out" 44 '("learned" in r and r["learned"] <= 60) if i % 11 == 10 else ("label" in r and "learned" not in r)'
done
stop "socket server"
same "socket: snapshot = train --init-model, eight clients predicting meanwhile" "$work/sock.bin" "$work/ab_tsv.bin"
[ ! -e "$work/s.sock" ]; check "socket: the socket file is removed at the end" $?
expect_code "predict with the snapshot" 0 "$bin" predict --model "$work/sock.bin" --text "a good film" --text "awful boring"
grep -q "^0	pos" "$work/out" && grep -q "^1	neg" "$work/out"; st=$?; check "snapshot predicts ($(cat "$work/out"))" $st
expect_code "train --init-model the snapshot" 0 "$bin" train --init-model "$work/sock.bin" --data "$work/T.tsv" --epochs 1 \
  --no-shuffle --batch-size 1 --save "$work/more.bin" --save-state --quiet
! cmp -s "$work/more.bin" "$work/sock.bin"; check "the snapshot continues training" $?

# ---- --snapshot-every 7 over a socket: a snapshot after every 7th learnt line (= train over those lines),
# none between; !snapshot writes one now; SIGTERM a last one (27 lines).
for k in 7 14 21 26 27; do head -n $k "$work/B.tsv" > "$work/B$k.tsv"; expected "e$k.bin" "$a" "$work/B$k.tsv"; done
serve every --model "$a" --learn --save "$work/every.bin" --snapshot-every 7 --socket "$work/e.sock"
sed -n 1,6p "$work/B.tsv" | client "$work/e.sock" send > "$work/out"
replies "$work/out" 6 'r["learned"] is True'
[ ! -e "$work/every.bin" ]; check "--snapshot-every 7: no snapshot after 6 lines" $?
for range in 7,7 8,14 15,21; do
  sed -n "${range}p" "$work/B.tsv" | client "$work/e.sock" send > "$work/out"
  n=${range#*,}
  same "--snapshot-every 7: the snapshot after $n lines = train over them" "$work/every.bin" "$work/e$n.bin"
done
sed -n 22,26p "$work/B.tsv" | client "$work/e.sock" send > "$work/out"
same "--snapshot-every 7: 26 lines, still the snapshot of 21" "$work/every.bin" "$work/e21.bin"
printf '!snapshot\n!stats\n' | client "$work/e.sock" send > "$work/out"
replies "$work/out" - 'r["saved"].endswith("every.bin")' 'r["learned"] == 26 and r["snapshots"] == 4 and r["errors"] == 0'
same "!snapshot: the snapshot of 26 lines" "$work/every.bin" "$work/e26.bin"
sed -n 27p "$work/B.tsv" | client "$work/e.sock" send > "$work/out"
replies "$work/out" 1 'r["learned"] is True'
stop "snapshot-every server"
same "SIGTERM: the last snapshot, 27 lines" "$work/every.bin" "$work/e27.bin"

# ---- bad requests over a socket: each gets an error reply, the server goes on, the model is unchanged.
# Text: a line over --max-line-bytes 64 (and one of 200 kB), invalid UTF-8, an unknown label, an
# empty line, an unknown command; a client that sends half a line and leaves.
serve bad --model "$a" --learn --save "$work/bad.bin" --max-line-bytes 64 --socket "$work/b.sock"
{ sed -n 1p "$work/B.tsv"
  printf 'pos\t%s\n' "$(printf 'good %.0s' $(seq 20))"
  printf 'pos\tgood \xff film\n'
  printf 'maybe\tgood film\n\n!nope\n'
  head -c 200000 /dev/zero | tr '\0' x; echo
  sed -n 2p "$work/B.tsv"; } | client "$work/b.sock" send > "$work/bad1.out"
check "bad requests: the client" $?
replies "$work/bad1.out" - 'r["learned"] is True' \
  'r == {"error": "request longer than 64 bytes (--max-line-bytes)", "request": 2}' \
  'r["request"] == 3 and "UTF-8" in r["error"]' 'r["request"] == 4 and "maybe" in r["error"]' \
  'r["request"] == 5 and "empty" in r["error"]' 'r["request"] == 6 and "!nope" in r["error"]' \
  'r["request"] == 7 and "longer than 64" in r["error"]' 'r["learned"] is True'
printf 'pos\tgood fi' | client "$work/b.sock" half; check "bad requests: half a line, then gone" $?
{ sed -n 3,10p "$work/B.tsv"; printf '!stats\n!snapshot\n'; } | client "$work/b.sock" send > "$work/bad2.out"
# The lines over --max-line-bytes are answered by the transport and counted as requests and errors.
replies "$work/bad2.out" - 'r["learned"] is True' 'r["learned"] is True' 'r["learned"] is True' 'r["learned"] is True' \
  'r["learned"] is True' 'r["learned"] is True' 'r["learned"] is True' 'r["learned"] is True' \
  'r["learned"] == 10 and r["errors"] == 6 and r["requests"] == 17 and r["predictions"] == 10' '"saved" in r'
head -n 10 "$work/B.tsv" > "$work/B10.tsv"
expected e10.bin "$a" "$work/B10.tsv"
same "bad requests leave the model as the good ones make it" "$work/bad.bin" "$work/e10.bin"
stop "bad-request server"
same "bad requests: the snapshot at SIGTERM" "$work/bad.bin" "$work/e10.bin"
# LIBSVM: a value that is not a number, decreasing indices, an unknown class, a bad pair in a prediction.
serve badsvm --model "$work/a_svm.bin" --learn --save "$work/badsvm.bin" --socket "$work/bs.sock"
{ sed -n 1p "$work/B.svm"; printf '1 3:x\n2 5:1 3:1\n7 1:1\n1:1 abc\n'; sed -n 2p "$work/B.svm"; printf '!stats\n!snapshot\n'; } |
  client "$work/bs.sock" send > "$work/out"
replies "$work/out" - 'r["learned"] is True' 'r["request"] == 2 and "3:x" in r["error"]' \
  'r["request"] == 3 and "increase" in r["error"]' 'r["request"] == 4 and "7" in r["error"]' \
  'r["request"] == 5 and "abc" in r["error"]' 'r["learned"] is True' 'r["learned"] == 2 and r["errors"] == 4' \
  '"saved" in r'
head -n 2 "$work/B.svm" > "$work/B2.svm"
expected e2s.bin "$work/a_svm.bin" "$work/B2.svm"
same "bad LIBSVM requests leave the model unchanged" "$work/badsvm.bin" "$work/e2s.bin"
stop "bad LIBSVM server"

# ---- --max-clients 2: a third client at once is told so; once one leaves, a client is served again.
serve clients --model "$a" --max-clients 2 --socket "$work/m.sock"
mkdir "$work/hold"
client "$work/m.sock" hold "$work/hold" & h1=$!
client "$work/m.sock" hold "$work/hold" & h2=$!
for _ in $(seq 400); do [ "$(find "$work/hold" -name 'held.*' | wc -l)" -ge 2 ] && break; sleep 0.025; done
client "$work/m.sock" send < /dev/null > "$work/out"
replies "$work/out" 1 'r == {"error": "too many clients (--max-clients 2)"}'
touch "$work/hold/release"
wait "$h1"; check "holding client 1" $?
wait "$h2"; check "holding client 2" $?
for _ in $(seq 40); do
  echo "a good film" | client "$work/m.sock" send > "$work/out"
  grep -q label "$work/out" && break
  sleep 0.05
done
replies "$work/out" 1 'r["label"] == "pos"'
stop "max-clients server"

# ---- SIGKILL while learning with --snapshot-every 1 (at a random moment after the first snapshot):
# the snapshot is always a whole model.
for _ in $(seq 100); do cat "$work/B.tsv"; done > "$work/long.tsv"
for run in 1 2 3 4 5; do
  rm -f "$work/kill.bin"
  "$bin" serve --model "$a" --learn --save "$work/kill.bin" --snapshot-every 1 -q < "$work/long.tsv" > /dev/null &
  pid=$!
  for _ in $(seq 1000); do [ -e "$work/kill.bin" ] && break; sleep 0.01; done
  sleep "$(printf '0.%02d' $((RANDOM % 20)))"  # 0 to 0.19 s
  kill -KILL "$pid"
  { wait "$pid"; } 2> /dev/null; st=$?  # (no "Killed" notice)
  [ "$st" -eq 137 ]; check "SIGKILL run $run: killed while learning (exit $st)" $?
  expect_code "SIGKILL run $run: the snapshot is a whole model" 0 "$bin" predict --model "$work/kill.bin" --text x
done

# ---- TCP: --port 0 takes a free port and says which
serve tcp --model "$a" --port 0
port=$(sed -n 's/.* on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/tcp.err")
[ -n "$port" ]; st=$?; check "TCP: the port on stderr ($(cat "$work/tcp.err"))" $st
printf 'the awful boring plot\n' | client "tcp:${port:-1}" send > "$work/out"
replies "$work/out" 1 'r["label"] == "neg"'
stop "TCP server"

# ---- usage errors: exit 2 with the reason
expect_code "--socket with --port" 2 "$bin" serve --model "$a" --socket "$work/x.sock" --port 0
grep -q -- "--port" "$work/err"; st=$?; check "--socket with --port: the message ($(cat "$work/err"))" $st
expect_code "--snapshot-every without --save" 2 "$bin" serve --model "$a" --snapshot-every 5
grep -q -- "--save" "$work/err"; st=$?; check "--snapshot-every without --save: the message ($(cat "$work/err"))" $st
expect_code "--top-k 0" 2 "$bin" serve --model "$a" --top-k 0
grep -q -- "--top-k" "$work/err"; st=$?; check "--top-k 0: the message ($(cat "$work/err"))" $st
"$bin" train --data "$work/A.tsv" --optimizer ftrl --epochs 1 --save "$work/ftrl.bin" --quiet
check "train ftrl without --save-state" $?
expect_code "--learn on an ftrl model saved without its state" 2 "$bin" serve --model "$work/ftrl.bin" --learn --optimizer ftrl
grep -q -- "--save-state" "$work/err"; st=$?; check "ftrl without state: the message ($(cat "$work/err"))" $st
expect_code "--optimizer other than the kept state's" 2 "$bin" serve --model "$a" --learn --optimizer ftrl
grep -q "adagrad" "$work/err"; st=$?; check "another optimizer: the message ($(cat "$work/err"))" $st
finish
