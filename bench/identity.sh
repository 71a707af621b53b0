#!/usr/bin/env bash
# Bit-identity of two builds' outputs: runs OLD's and NEW's adakit (tools/adakit/adakit under each build
# folder) on the same commands and compares what they write, byte for byte.
#
#   bench/identity.sh OLD_BUILD_DIR NEW_BUILD_DIR [WORKDIR]
#
# Artefacts, each side in its own folder (WORKDIR/old, WORKDIR/new; a temporary folder, removed at the
# end, without WORKDIR):
#   tour        adakit demo all --quick (ADAKIT_IDENTITY_FULL_TOUR=1: the full tour, whose Fashion-MNIST
#               CNN alone takes about a minute of CPU): summary.json, every CSV and plot it writes
#   dense       iris MLP (adagrad; adam with dropout, validation split, early stopping, a warm-up + cosine
#               schedule and clipping), a model file and a checkpoint each, a run resumed from a
#               mid-run checkpoint, predict on the saved model and on the checkpoint
#   cnn         digits, cnn:8/32, 2 epochs: model, checkpoint, predict
#   sparse      generated LIBSVM data, 3 classes (softmax) with adagrad, adagrad-l1, ftrl, adagrad-rda, sgd;
#               2 classes (logistic) and a regression (linreg): model JSON, checkpoint, predict; one resume
#   text        sentiment-tiny (logistic) and generated topics (softmax, 1-2-grams, tf-idf; hashing trick):
#               model JSON, checkpoint, predict --text
#   glove       adakit embed all on a generated corpus, and the steps one by one (vocab, cooccur, shuffle,
#               train from --init with --shuffle none, nearest, analogy): vocab.txt, cooccurrence.bin,
#               vectors text + binary, cost.csv, summary.json
#   rl          adakit rl: q-linear, sarsa-linear, q-tabular on CartPole, sgd dense gradients, MountainCar:
#               the --json line and the --curve CSV
#   minimize    single runs (--json, --trace) and all functions x all optimizers (--out: summary + traces)
#   compare     adakit compare over minimize (--out) and over a sparse train (--json)
#   mpi         with mpirun: 2 ranks on LIBSVM data (model, checkpoint, a resume on 2 ranks) and the dense
#               data-parallel run (sharded, model and checkpoint)
# Every command uses --threads 2 (OMP_NUM_THREADS=2; 1 under mpirun, as tests/cli/dist_test.sh), except
# GloVe's training (1 thread, see below).
#
# What is compared: every file either side wrote, and each command's stdout (*.out). Timings are not
# compared: in JSON (summary.json, --json lines, *.json files) the value of every key that is a timing
# (a name with the part "seconds", "second", "ms", "time", "elapsed", or "per_second" / "per_s", see
# KEY below) is replaced by "T" on both sides before the comparison; CSV columns so named are dropped;
# a checkpoint's header is compared with its timings (train.seconds, train.history's seconds) replaced
# and its header checksum left out, its tensor bytes exactly; everything else must match byte for byte
# (files that are identical as they are pass without normalising). Left out: the tour's report.html (its
# prose quotes the run time, "in 0.42 s", of each demo; its numbers are those of summary.json and the
# CSVs, which are compared) and stderr (progress lines).
# ADAKIT_IDENTITY_COMPARE_ONLY=1 with WORKDIR: only the comparison, of the files a previous run left there.
# Prints one line per artefact (OK / DIFFER / MISSING), then "N passed, N failed"; exits 1 on any
# difference (2 on a usage error or when a command fails on either side).
set -uo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 OLD_BUILD_DIR NEW_BUILD_DIR [WORKDIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
old_bin=$(realpath "$1/tools/adakit/adakit")
new_bin=$(realpath "$2/tools/adakit/adakit")
for b in "$old_bin" "$new_bin"; do
  [ -x "$b" ] || { echo "identity: no adakit binary at $b" >&2; exit 2; }
done
compare_only=${ADAKIT_IDENTITY_COMPARE_ONLY:-0}
if [ $# -eq 3 ]; then
  work=$(realpath -m "$3")
  [ "$compare_only" = 1 ] || rm -rf "$work/old" "$work/new" "$work/data"
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/old" "$work/new" "$work/data"
export OMP_NUM_THREADS=2
T=2
mpiexec=$(command -v mpirun || true)
t_start=$(date +%s)

# ------------------------------------------------------------------------------------------ inputs
# Generated once, read by both sides (awk's srand makes the same files every time).
d=$work/data
# LIBSVM, three classes, each owning a block of 20 features, plus shared noise (as tests/cli/sparse_test.sh).
W="$d" awk 'BEGIN { srand(11);
  for (i = 0; i < 600; i++) { c = i % 3; line = c;
    n = split("", seen); k = 0;
    for (j = 0; j < 6; j++) { f = c * 20 + int(rand() * 20) + 1; if (!(f in seen)) { seen[f] = 1; idx[++k] = f } }
    g = 60 + int(rand() * 40) + 1; if (!(g in seen)) { seen[g] = 1; idx[++k] = g }
    for (a = 1; a <= k; a++) for (b = a + 1; b <= k; b++) if (idx[b] < idx[a]) { t = idx[a]; idx[a] = idx[b]; idx[b] = t }
    for (a = 1; a <= k; a++) line = line " " idx[a] ":" sprintf("%.3f", 0.5 + rand());
    print line > (i < 480 ? ENVIRON["W"] "/blocks.svm" : ENVIRON["W"] "/blocks-test.svm") } }'
# LIBSVM, two classes (as tests/cli/dist_test.sh), and a regression y = 2 x1 - x3.
awk 'BEGIN { srand(7); for (i = 0; i < 300; i++) { y = i % 2; printf "%d", y;
  for (j = 1; j <= 60; j++) if (rand() < 0.1) printf " %d:%.3f", j, (j % 2 == y ? 1 : 0.2) + rand() * 0.1;
  printf "\n" } }' > "$d/sp.svm"
awk 'BEGIN { srand(5); for (i = 0; i < 300; i++) { a = rand(); b = rand(); c = rand();
  printf "%.5f 1:%.5f 2:%.5f 3:%.5f\n", 2 * a - c, a, b, c } }' > "$d/reg.svm"
# label<TAB>text, three topics (as tests/cli/sparse_test.sh).
W="$d" awk 'BEGIN { srand(7);
  split("ball goal team match score player coach league", w1, " ");
  split("vote party election senate law minister campaign policy", w2, " ");
  split("cpu memory kernel compiler cache thread program code", w3, " ");
  split("the a of and to in is it", common, " ");
  for (i = 0; i < 300; i++) { c = i % 3; s = "";
    for (k = 0; k < 8; k++) { r = rand(); j = int(rand() * 8) + 1;
      if (r < 0.5) s = s " " common[j]; else if (c == 0) s = s " " w1[j]; else if (c == 1) s = s " " w2[j]; else s = s " " w3[j]; }
    name = c == 0 ? "sport" : c == 1 ? "politics" : "computing";
    print name "\t" substr(s, 2) > (i < 240 ? ENVIRON["W"] "/topics.tsv" : ENVIRON["W"] "/topics-test.tsv") } }'
# A corpus for GloVe: 400 lines over 40 words in four topics, each line mostly from one topic.
awk 'BEGIN { srand(3);
  split("king queen crown palace throne prince royal castle duke court man woman street walks city car road house child friend cpu memory kernel compiler cache thread program code disk bus ball goal team match score player coach league field win", w, " ");
  for (i = 0; i < 400; i++) { c = i % 4; n = 6 + int(rand() * 8); s = "";
    for (k = 0; k < n; k++) { tc = rand() < 0.85 ? c : int(rand() * 4); s = s (k ? " " : "") w[tc * 10 + int(rand() * 10) + 1] }
    print s } }' > "$d/corpus.txt"

# ------------------------------------------------------------------------------------------ the runs
failed_cmds=0
# r NAME ARGS...: runs "$bin ARGS" in the side's folder, stdout to NAME.out, stderr to NAME.err.
r() {
  local name=$1; shift
  "$bin" "$@" > "$name.out" 2> "$name.err"
  local st=$?
  if [ $st -ne 0 ]; then
    echo "  [$side] command failed ($st): adakit $*" >&2; tail -3 "$name.err" >&2
    failed_cmds=$((failed_cmds + 1))
  fi
}
# m NAME NP ARGS...: the same under mpirun -np NP.
m() {
  local name=$1 np=$2; shift 2
  OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
    "$mpiexec" --oversubscribe -np "$np" "$bin" "$@" > "$name.out" 2> "$name.err"
  local st=$?
  if [ $st -ne 0 ]; then
    echo "  [$side] command failed ($st): mpirun -np $np adakit $*" >&2; tail -3 "$name.err" >&2
    failed_cmds=$((failed_cmds + 1))
  fi
}

run_side() { # SIDE BIN
  side=$1 bin=$2
  cd "$work/$side" || exit 2
  local t0; t0=$(date +%s)
  # tour
  local quick=--quick
  [ "${ADAKIT_IDENTITY_FULL_TOUR:-0}" = 1 ] && quick=
  r tour demo all $quick --out tour --seed 0 --json

  # dense: iris MLP
  r iris train --data iris --model mlp:16,8 --optimizer adagrad --lr 0.05 --epochs 30 --batch-size 16 --seed 1 \
    --threads $T --json --save iris.safetensors --checkpoint iris_ck --checkpoint-every 7
  r iris_predict predict --model iris.safetensors --data iris --json --threads $T
  r iris_predict_ck predict --model iris_ck/checkpoint.safetensors --data iris --json --threads $T
  local adam=(train --data iris --model mlp:32 --dropout 0.2 --optimizer adam --lr 0.01 --batch-size 8 --seed 3
              --validation-split 0.2 --patience 3 --schedule cosine:total=300,final=0.1,warmup=20 --clip-norm 2
              --threads $T --json)
  r iris_adam "${adam[@]}" --epochs 25 --save iris_adam.safetensors --checkpoint iris_adam_ck --checkpoint-every 11
  r iris_adam_half "${adam[@]}" --epochs 10 --checkpoint iris_adam_half_ck
  r iris_adam_resumed "${adam[@]}" --epochs 25 --resume iris_adam_half_ck --save iris_adam_resumed.safetensors
  r iris_binary train --data iris-binary --model logreg --optimizer adagrad --lr 0.1 --epochs 20 --batch-size 16 --seed 2 \
    --threads $T --json --save iris_binary.safetensors --checkpoint iris_binary_ck

  # cnn: digits
  r digits train --data digits --model cnn:8/32 --optimizer adagrad --lr 0.05 --epochs 2 --batch-size 32 --seed 2 \
    --threads $T --json --save digits.safetensors --checkpoint digits_ck --checkpoint-every 20
  r digits_predict predict --model digits.safetensors --data digits --json --threads $T

  # sparse linear on LIBSVM data
  local opt
  for opt in "adagrad --lr 0.5" "adagrad-l1 --lr 0.5 --l1 0.001" "ftrl --alpha 0.5 --l1 0.5 --l2 0.01" \
             "adagrad-rda --lr 0.5 --l1 0.001" "sgd --lr 0.5"; do
    local o=${opt%% *}
    # shellcheck disable=SC2086
    r "blocks_$o" train --data "$d/blocks.svm" --test-data "$d/blocks-test.svm" --optimizer $opt --epochs 4 --batch-size 8 \
      --seed 2 --threads $T --json --save "blocks_$o.json" --checkpoint "blocks_${o}_ck" --checkpoint-every 13
    r "blocks_${o}_predict" predict --model "blocks_$o.json" --data "$d/blocks-test.svm" --json --threads $T
    r "blocks_${o}_predict_ck" predict --model "blocks_${o}_ck/checkpoint.safetensors" --data "$d/blocks-test.svm" --json \
      --threads $T
  done
  local ftrl=(train --data "$d/blocks.svm" --optimizer ftrl --alpha 0.5 --l1 0.5 --l2 0.01 --batch-size 4 --seed 4
              --threads $T --json)
  r blocks_ftrl_half "${ftrl[@]}" --epochs 2 --checkpoint blocks_ftrl_half_ck --checkpoint-every 17
  r blocks_ftrl_resumed "${ftrl[@]}" --epochs 4 --resume blocks_ftrl_half_ck --save blocks_ftrl_resumed.json
  r sp_logistic train --data "$d/sp.svm" --format libsvm --optimizer adagrad --lr 0.5 --epochs 3 --batch-size 8 --seed 3 \
    --threads $T --json --save sp_logistic.json --checkpoint sp_logistic_ck
  r reg train --data "$d/reg.svm" --model linreg --optimizer adagrad --lr 0.5 --epochs 10 --batch-size 4 --seed 1 \
    --threads $T --json --save reg.json --checkpoint reg_ck
  r reg_predict predict --model reg.json --data "$d/reg.svm" --json --threads $T

  # text-tsv
  r sentiment train --data sentiment-tiny --test-data sentiment-tiny --epochs 30 --batch-size 1 --lr 0.5 --seed 1 \
    --threads $T --json --save sentiment.json --checkpoint sentiment_ck
  r sentiment_predict predict --model sentiment.json --text "This movie was amazing" --text "What a terrible, awful film" \
    --probabilities --json --threads $T
  r topics train --data "$d/topics.tsv" --test-data "$d/topics-test.tsv" --ngram 1,2 --tfidf --model softmax \
    --optimizer adagrad --lr 0.5 --epochs 5 --batch-size 4 --seed 3 --threads $T --json --save topics.json \
    --checkpoint topics_ck
  r topics_predict predict --model topics.json --data "$d/topics-test.tsv" --json --threads $T
  r topics_hash train --data "$d/topics.tsv" --hash-bits 10 --optimizer adagrad-rda --lr 0.5 --l1 0.001 --epochs 3 \
    --seed 3 --threads $T --json --save topics_hash.json

  # GloVe: one thread. With 2 the trainer is Hogwild (threads update shared vectors without locks), and
  # its vectors, costs and cost.csv differ run to run with one binary (seen with the old one: 1 run in 3).
  r glove_all embed all --corpus "$d/corpus.txt" --out glove -d 8 --iter 10 --window 5 --x-max 10 --threads 1 --seed 1 \
    --show king,cpu --json
  r glove_vocab embed vocab --corpus "$d/corpus.txt" --out vocab.txt --json
  r glove_cooccur embed cooccur --corpus "$d/corpus.txt" --vocab vocab.txt --out cooc.bin --window 5 --json
  mkdir -p spill
  r glove_cooccur_spill embed cooccur --corpus "$d/corpus.txt" --vocab vocab.txt --out cooc_spill.bin --window 5 \
    --max-product 1 --overflow-length 200 --temp-dir spill --json
  r glove_shuffle embed shuffle --in cooc.bin --out shuf.bin --seed 3
  r glove_init embed train --cooccur shuf.bin --vocab vocab.txt -d 8 --iter 0 --binary-out init.bin --seed 7 --json
  r glove_train embed train --cooccur shuf.bin --vocab vocab.txt --init init.bin --shuffle none --iter 6 --x-max 10 \
    --threads 1 --text-out vec.txt --binary-out vec.bin --cost-csv cost.csv --json
  r glove_train_std embed train --cooccur shuf.bin --vocab vocab.txt -d 6 --iter 4 --convention standard --threads 1 \
    --seed 5 --model 0 --header --no-unk --text-out vec_std.txt --json
  r glove_nearest embed nearest --vectors vec.txt king cpu -k 4 --json
  r glove_analogy embed analogy --vectors vec.bin --vocab vocab.txt man woman king -k 3

  # RL
  r rl_qlinear rl cartpole --agent q-linear --optimizer adagrad --episodes 60 --seed 3 --eval 5 --curve rl_qlinear.csv \
    --threads $T --json
  r rl_sarsa rl cartpole --agent sarsa-linear --episodes 30 --seed 1 --eval 2 --curve rl_sarsa.csv --threads $T --json
  r rl_tabular rl cartpole --agent q-tabular --bins 1,1,6,12 --episodes 40 --seed 2 --eval 2 --curve rl_tabular.csv \
    --threads $T --json
  r rl_sgd rl cartpole --optimizer sgd --lr 0.03 --table-size 1024 --episodes 30 --seed 5 --eval 2 --threads $T --json
  r rl_mountaincar rl mountaincar --episodes 20 --seed 6 --eval 2 --curve rl_mountaincar.csv --threads $T --json

  # minimize
  r min_adagrad minimize --function quadratic --dim 1 --x0 5 --optimizer adagrad --lr 1 --steps 100 --threads $T --json
  r min_rosen minimize --function rosenbrock --optimizer adam --lr 0.01 --steps 200 --trace min_rosen.csv --threads $T --json
  r min_full minimize --function ill-conditioned --dim 6 --optimizer adagrad-full --block-size 4 --precondition-every 2 \
    --lr 0.5 --steps 100 --threads $T --json
  r min_all minimize --function all --optimizer all --steps 50 --out min_all --threads $T --json

  # compare
  r compare_min compare --optimizers adagrad:lr=0.5,sgd:lr=0.01,adam:lr=0.1 --seeds 2 --out compare_min --threads $T \
    minimize --function rosenbrock --steps 100
  r compare_sparse compare --optimizers adagrad:lr=0.5,ftrl:alpha=0.5 --seeds 2 --json --threads $T \
    train --data sentiment-tiny --epochs 5 --batch-size 1 --test-split 0.34

  # MPI
  if [ -n "$mpiexec" ]; then
    local sargs=(train --data "$d/sp.svm" --format libsvm --optimizer adagrad --lr 0.5 --batch-size 8 --seed 3 --json)
    m mpi_sparse 2 "${sargs[@]}" --epochs 3 --save mpi_sparse.json --checkpoint mpi_sparse_ck --checkpoint-every 7
    m mpi_sparse_half 2 "${sargs[@]}" --epochs 1 --checkpoint mpi_sparse_half_ck --checkpoint-every 7
    m mpi_sparse_resumed 2 "${sargs[@]}" --epochs 3 --resume mpi_sparse_half_ck --save mpi_sparse_resumed.json
    m mpi_dense 2 train --data digits --model mlp:32 --optimizer adagrad --lr 0.05 --batch-size 12 --seed 5 --clip-norm 1 \
      --threads 1 --epochs 1 --dist sharded --json --save mpi_dense.safetensors --checkpoint mpi_dense_ck --checkpoint-every 50
  fi
  echo "  $side: $(( $(date +%s) - t0 )) s ($bin)" >&2
}

echo "identity: old $old_bin" >&2
echo "identity: new $new_bin" >&2
if [ "$compare_only" != 1 ]; then  # ADAKIT_IDENTITY_COMPARE_ONLY=1: compare what WORKDIR holds from a run before
  run_side old "$old_bin"
  run_side new "$new_bin"
fi
cd "$work" || exit 2

# ------------------------------------------------------------------------------------------ compare
# Timing keys (see the opening comment). What was found to differ between two runs of one binary: the
# tour's seconds_total and seconds; train's seconds and epoch_seconds (also inside checkpoints, as
# train.seconds and train.history); compare's "seconds" metric (an object of mean, std, values);
# embed's iteration_seconds, train_seconds, epochs_per_second, seconds and cost.csv's seconds column;
# rl's seconds and train_seconds.
normalise() { # FILE: its canonical form, every timing value replaced by "T"
  /usr/bin/python3 - "$1" << 'PY'
import hashlib, re, struct, sys
# A timing key: a name (parts joined by '_' or '.') with a part seconds/second/ms/time/elapsed/wall, or
# ending in per_s / per_second; its value a number, null, a string, a flat array or a flat object.
# Quotes may be escaped (JSON held in a JSON string: a checkpoint's metadata).
KEY = r'(?:[a-z0-9]+[_.])*(?:seconds|second|ms|time|elapsed|wall)(?:[_.][a-z0-9]+)*|[a-z0-9_.]*per_s(?:econd)?'
Q = r'\\?"'
TIMING = re.compile(Q + '(' + KEY + ')' + Q + r'(\s*:\s*)(-?[0-9][0-9.eE+-]*|null|' + Q + r'[^"\\]*' + Q +
                    r'|\[[^\[\]]*\]|\{[^{}]*\})')
HEADER_SUM = re.compile(r'"adakit\.header_fnv1a64"\s*:\s*"[0-9a-f]*"')
def timings(text):
    return TIMING.sub(lambda m: '"%s"%s"T"' % (m.group(1), m.group(2)), text)
path = sys.argv[1]
raw = open(path, "rb").read()
out = sys.stdout
if path.endswith(".safetensors"):
    # Checkpoints hold the run's timings (train.seconds, train.history's seconds), so the header's own
    # checksum differs too: the header compared with those replaced, the tensor bytes exactly.
    n = struct.unpack("<Q", raw[:8])[0]
    header = raw[8:8 + n].decode("utf-8").rstrip(" ")  # padded with spaces to a multiple of 8 bytes
    out.write(HEADER_SUM.sub('"adakit.header_fnv1a64":"H"', timings(header)))
    out.write("\npayload sha256 %s, %d bytes\n" % (hashlib.sha256(raw[8 + n:]).hexdigest(), len(raw) - 8 - n))
elif path.endswith(".csv"):
    # CSV columns whose header is a timing (GloVe's cost.csv: iteration,cost,seconds) are dropped.
    lines = raw.decode("utf-8", "surrogateescape").split("\n")
    head = lines[0].split(",")
    keep = [i for i, h in enumerate(head) if not re.fullmatch(KEY, h.strip().strip('"'))]
    for line in lines:
        cells = line.split(",")
        out.write(",".join(cells[i] for i in keep if i < len(cells)) if len(cells) == len(head) else line)
        out.write("\n")
else:
    out.write(timings(raw.decode("utf-8", "surrogateescape")))
PY
}
passed=0; failed=0
while IFS= read -r f; do
  case "$f" in
    *.err) continue ;;                        # stderr: progress lines and timings
    tour/report.html) continue ;;             # prose with each demo's run time; numbers compared via summary.json
  esac
  if [ ! -e "new/$f" ]; then
    echo "MISSING $f (written by old only)"; failed=$((failed + 1)); continue
  fi
  case "$f" in
    *.json | *.out | *.csv | *.safetensors)
      if cmp -s "old/$f" "new/$f"; then same=0
      elif normalise "old/$f" > "$work/a.norm" && normalise "new/$f" > "$work/b.norm"; then
        cmp -s "$work/a.norm" "$work/b.norm"; same=$?
      else same=1
      fi ;;
    *) cmp -s "old/$f" "new/$f"; same=$? ;;
  esac
  if [ $same -eq 0 ]; then
    echo "OK      $f"; passed=$((passed + 1))
  else
    echo "DIFFER  $f"; failed=$((failed + 1))
  fi
done < <(cd old && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
while IFS= read -r f; do
  case "$f" in *.err | tour/report.html) continue ;; esac
  [ -e "old/$f" ] || { echo "MISSING $f (written by new only)"; failed=$((failed + 1)); }
done < <(cd new && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
[ "$failed_cmds" -gt 0 ] && echo "$failed_cmds command(s) failed (see above)"
echo "$passed passed, $failed failed ($(( $(date +%s) - t_start )) s)"
[ "$failed_cmds" -gt 0 ] && exit 2
[ "$failed" -eq 0 ]
