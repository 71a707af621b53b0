#!/usr/bin/env bash
# Kill and resume, with a real child process: `adakit train --checkpoint DIR` is killed with SIGKILL at a
# random moment (twice: the resumed run is killed again), resumed with --resume DIR, and must end with a
# model file byte-identical to an uninterrupted run's. ADAKIT_RESUME_ROUNDS rounds (default 3; the
# issue's measurement runs 20); the pieces of a run use 1 or 2 threads.
#   resume_test.sh BIN          a dense model: the run has dropout, a validation split with early
#                               stopping, a warm-up + cosine schedule and gradient clipping, so every
#                               piece of state has to come back.
#   resume_test.sh BIN sparse   a sparse linear model on generated LIBSVM data (3 classes, softmax),
#                               round r with the r-th of the lazy L1/L2 optimizers and the others
#                               (adagrad-l1, ftrl, adagrad-rda, sgd, adagrad, in turn), so that their
#                               per-feature state (last steps, z and n, u and s) has to come back.
set -uo pipefail
bin=$1
mode=${2:-dense}
source "$(dirname "$0")/harness.sh"
rounds=${ADAKIT_RESUME_ROUNDS:-3}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

if [ "$mode" = sparse ]; then
  # 25,000 rows of up to 30 features out of 2^16 (ids ascending, gaps skewed small); 3 classes from a
  # fixed linear score.
  awk 'BEGIN { srand(11);
    for (i = 0; i < 25000; i++) { n = 10 + int(rand() * 20); f = 0; s = 0; line = "";
      for (j = 0; j < n; j++) { f += 1 + int(rand() * rand() * 4000); if (f > 65536) break;
        v = int(rand() * 1000) / 1000 + 0.001; line = line " " f ":" v; s += (f % 7 - 3) * v; }
      print (s > 1 ? 2 : s < -1 ? 0 : 1) line } }' > "$work/data.svm"
  sparse_opts=(adagrad-l1 ftrl adagrad-rda sgd adagrad)
  every=331
  ext=json
else
  every=31
  ext=safetensors
fi
# The run's flags in round r (0: the dense run, or the sparse run with the first optimizer).
run_args() { # round
  if [ "$mode" = sparse ]; then
    local opt=${sparse_opts[$(( ($1 + ${#sparse_opts[@]} - 1) % ${#sparse_opts[@]} ))]}
    local flags=(--lr 0.05 --l1 1e-4 --l2 1e-3)
    [ "$opt" = adagrad ] && flags=(--lr 0.05)
    [ "$opt" = ftrl ] && flags=(--alpha 0.05 --l1 1e-4 --l2 1e-3)
    echo train --data "$work/data.svm" --optimizer "$opt" "${flags[@]}" --epochs 3 --batch-size 4 --seed 3 --quiet
  else
    echo train --data digits --model mlp:128,64 --dropout 0.2 --optimizer adagrad --lr 0.05 --epochs 5 --batch-size 8 \
      --seed 3 --validation-split 0.1 --patience 2 --schedule cosine:total=800,final=0.1,warmup=50 --clip-norm 2 --quiet
  fi
}
read -ra args <<< "$(run_args 1)"

"$bin" "${args[@]}" --threads 1 --save "$work/reference.$ext"; check "uninterrupted run" $?
# The same run writing checkpoints: same model; its duration sets the range of kill times.
t0=$(now_ms)
"$bin" "${args[@]}" --threads 1 --checkpoint "$work/full" --checkpoint-every $every --save "$work/full.$ext"
check "uninterrupted run with checkpoints" $?
duration=$(( $(now_ms) - t0 ))
echo "uninterrupted run with checkpoints: ${duration} ms"
cmp -s "$work/reference.$ext" "$work/full.$ext"; check "checkpointing changes nothing" $?
if [ "$mode" = sparse ]; then
  # A checkpoint is also a model file: predict rebuilds the optimizer and brings the lazy weights up to
  # date, so its predictions are those of the model file saved at the end.
  expect_code "predict from a checkpoint" 0 "$bin" predict --model "$work/full/checkpoint.safetensors" --data "$work/data.svm" --json
  mv "$work/out" "$work/predict_ck.json"
  expect_code "predict from the model file" 0 "$bin" predict --model "$work/full.$ext" --data "$work/data.svm" --json
  cmp -s "$work/out" "$work/predict_ck.json"; check "predict: the checkpoint's predictions are the model file's" $?
else
  # A checkpoint is also a model file: predict reads it.
  expect_code "predict from a checkpoint" 0 "$bin" predict --model "$work/full/checkpoint.safetensors" --data digits --json
  grep -q '"accuracy":0.9' "$work/out"; st=$?; check "predict from a checkpoint: accuracy 0.9x ($(head -c 0 "$work/out"))" $st
fi

# Runs the training in the background and kills it with SIGKILL after `delay` ms.
# Prints what happened: "killed", or "finished" when it ended before the kill.
run_and_kill() { # delay, save, extra flags...
  local delay=$1 save=$2; shift 2
  "$bin" "${args[@]}" "$@" --checkpoint-every $every --save "$save" > /dev/null 2> "$work/kill.err" &
  local pid=$!
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -9 "$pid" 2> /dev/null
  wait "$pid"; local code=$?
  if [ "$code" -eq 137 ]; then echo "killed after ${delay} ms"; else echo "finished (exit $code) before the kill at ${delay} ms"; fi
}

# Resumes from dir when it holds a checkpoint, else starts over with it (killed before the first one).
resume_flags() { if [ -f "$1/checkpoint.safetensors" ]; then echo "--resume $1"; else echo "--checkpoint $1"; fi; }

for round in $(seq 1 "$rounds"); do
  dir="$work/ck$round" save="$work/model$round.$ext" reference="$work/reference.$ext"
  rm -rf "$dir" "$save"
  read -ra args <<< "$(run_args "$round")"
  if [ "$round" -gt 1 ] && [ "$mode" = sparse ]; then  # this round's optimizer: its own uninterrupted run
    reference="$work/reference$round.$ext"
    "$bin" "${args[@]}" --threads 1 --save "$reference"; check "round $round: uninterrupted run" $?
  fi
  # Random kill times: the first within the run, the second within what is left of it.
  delay1=$(( duration * (5 + RANDOM % 90) / 100 ))
  delay2=$(( (duration - delay1) * (5 + RANDOM % 90) / 100 + 20 ))
  # The thread count may differ between the pieces of a run (kernels split work deterministically).
  first=$(run_and_kill $delay1 "$save" --threads 1 --checkpoint "$dir")
  # shellcheck disable=SC2046
  second=$(run_and_kill $delay2 "$save" --threads 2 $(resume_flags "$dir"))
  # shellcheck disable=SC2046
  "$bin" "${args[@]}" --threads 1 --checkpoint-every $every --save "$save" --json $(resume_flags "$dir") \
    > "$work/resume.out" 2> "$work/resume.err"
  code=$?
  from=$(grep -o '"resumed_from":{[^}]*}' "$work/resume.out" | sed 's/"resumed_from"://; s/"//g')
  check "round $round: the final resume exits 0 ($(tail -2 "$work/resume.err"))" $code
  cmp -s "$reference" "$save"; same=$?
  check "round $round (${args[*]:3:2}): model bit-identical to the uninterrupted run's (first run: $first; second: $second)" $same
  echo "round $round (${args[*]:3:2}): first $first; second $second; last resume from ${from:-the start}; identical: $([ $same -eq 0 ] && echo yes || echo NO)"
done
finish
