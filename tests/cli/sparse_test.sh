#!/usr/bin/env bash
# Drives `adakit train` / `adakit predict` on sparse data (LIBSVM files, label<TAB>text) as a user would.
set -uo pipefail
bin=$1
source "$(dirname "$0")/harness.sh"
json_num() { sed -E "s/.*\"$1\":([-0-9.eE+]+|null).*/\1/" "$work/out"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

expect_code "help" 0 "$bin" train --help
for flag in --format --hash-bits --ngram --tfidf --binary --min-df --max-features --l1 --l2 --alpha --beta; do
  grep -q -- "$flag" "$work/out"; check "train --help lists $flag" $?
done

# The tutorial's sentiment example: six sentences, logistic regression with AdaGrad, new sentences. The
# tutorial trains on all six (--test-data the same six: nothing held out); "amazing" is in none of
# them, so that sentence leans on "this movie was", positive by a little, as in the tutorial.
expect_code "sentiment-tiny" 0 "$bin" train --data sentiment-tiny --test-data sentiment-tiny --epochs 30 --batch-size 1 \
  --lr 0.5 --seed 1 --json --save "$work/sentiment.json"
grep -q '"format":"text-tsv"' "$work/out"; check "sentiment-tiny is read as text" $?
grep -q '"model":"logistic"' "$work/out"; check "two classes -> logistic" $?
grep -q '"train_samples":6' "$work/out"; check "sentiment-tiny: trained on all six sentences" $?
expect_code "predict --text" 0 "$bin" predict --model "$work/sentiment.json" --text "This movie was amazing" \
  --text "This movie was great, I love it" --text "What a terrible, awful film" --probabilities
grep -q "^0	positive	" "$work/out"; st=$?; check "'This movie was amazing' is positive ($(cat "$work/out"))" $st
grep -q "^1	positive	" "$work/out"; st=$?; check "'This movie was great, I love it' is positive" $st
grep -q "^2	negative	" "$work/out"; st=$?; check "'What a terrible, awful film' is negative" $st

# Three topics as label<TAB>text, word 1-2-grams with tf-idf: a softmax model, saved and reused.
W="$work" awk 'BEGIN { srand(7);
  split("ball goal team match score player coach league", w1, " ");
  split("vote party election senate law minister campaign policy", w2, " ");
  split("cpu memory kernel compiler cache thread program code", w3, " ");
  split("the a of and to in is it", common, " ");
  for (i = 0; i < 300; i++) { c = i % 3; s = "";
    for (k = 0; k < 8; k++) { r = rand(); j = int(rand() * 8) + 1;
      if (r < 0.5) s = s " " common[j]; else if (c == 0) s = s " " w1[j]; else if (c == 1) s = s " " w2[j]; else s = s " " w3[j]; }
    name = c == 0 ? "sport" : c == 1 ? "politics" : "computing";
    print name "\t" substr(s, 2) > (i < 240 ? ENVIRON["W"] "/topics.tsv" : ENVIRON["W"] "/topics-test.tsv") } }'
expect_code "text softmax" 0 "$bin" train --data "$work/topics.tsv" --test-data "$work/topics-test.tsv" --ngram 1,2 --tfidf \
  --model softmax --optimizer adagrad --lr 0.5 --epochs 5 --batch-size 4 --seed 3 --json --save "$work/topics.json"
ge "$(json_num test_accuracy)" 0.95; st=$?; check "topics test accuracy >= 0.95 (got $(json_num test_accuracy))" $st
grep -q '"model":"softmax"' "$work/out"; check "softmax model" $?
expect_code "predict text file" 0 "$bin" predict --model "$work/topics.json" --data "$work/topics-test.tsv" --json
ge "$(json_num accuracy)" 0.95; st=$?; check "predict on the test file: accuracy >= 0.95 (got $(json_num accuracy))" $st
expect_code "predict one text" 0 "$bin" predict --model "$work/topics.json" --text "the compiler and the kernel cache"
grep -q "computing" "$work/out"; st=$?; check "a computing sentence is computing ($(cat "$work/out"))" $st
expect_code "hashing trick" 0 "$bin" train --data "$work/topics.tsv" --hash-bits 10 --epochs 3 --lr 0.5 --json
grep -q '"features":1024' "$work/out"; check "--hash-bits 10 gives 1024 features" $?

# Binary model files (the default for any name but *.json): the same predictions as the JSON file of
# the same run, a kept optimizer state on request, and damage reported, naming the file.
expect_code "text softmax, binary save" 0 "$bin" train --data "$work/topics.tsv" --test-data "$work/topics-test.tsv" \
  --ngram 1,2 --tfidf --model softmax --optimizer adagrad --lr 0.5 --epochs 5 --batch-size 4 --seed 3 --quiet --save "$work/topics.bin"
expect_code "predict binary" 0 "$bin" predict --model "$work/topics.bin" --data "$work/topics-test.tsv" --probabilities --json
cp "$work/out" "$work/pred_bin"
expect_code "predict json" 0 "$bin" predict --model "$work/topics.json" --data "$work/topics-test.tsv" --probabilities --json
cmp -s "$work/out" "$work/pred_bin"; check "binary and JSON model files predict the same, to the bit" $?
size_bin=$(stat -c %s "$work/topics.bin"); size_json=$(stat -c %s "$work/topics.json")
[ "$size_bin" -lt "$size_json" ]; check "binary file smaller than the JSON one ($size_bin vs $size_json bytes)" $?
expect_code "--save-state" 0 "$bin" train --data "$work/topics.tsv" --ngram 1,2 --tfidf --model softmax --optimizer ftrl \
  --epochs 2 --quiet --save "$work/topics_state.bin" --save-state
expect_code "predict from a file with state" 0 "$bin" predict --model "$work/topics_state.bin" --text "vote for the party"
grep -q "politics" "$work/out"; st=$?; check "a politics sentence is politics ($(cat "$work/out"))" $st
expect_code "--save-state with a .json file" 2 "$bin" train --data "$work/topics.tsv" --epochs 1 --save "$work/x.json" --save-state
grep -q "save-state" "$work/err"; check "--save-state .json: the error names the flag" $?
[ ! -e "$work/x.json" ]; check "--save-state .json: refused before training, nothing written" $?
head -c 1000 "$work/topics.bin" > "$work/truncated.bin"
expect_code "truncated binary model" 1 "$bin" predict --model "$work/truncated.bin" --text "vote"
grep -q "truncated.bin" "$work/err"; check "truncated model: the error names the file ($(cat "$work/err"))" $?

# LIBSVM: three classes, each owning a block of 20 features (1-based indices), plus shared noise.
W="$work" awk 'BEGIN { srand(11);
  for (i = 0; i < 400; i++) { c = i % 3; line = c;
    n = split("", seen); k = 0;
    for (j = 0; j < 6; j++) { f = c * 20 + int(rand() * 20) + 1; if (!(f in seen)) { seen[f] = 1; idx[++k] = f } }
    g = 60 + int(rand() * 40) + 1; if (!(g in seen)) { seen[g] = 1; idx[++k] = g }
    for (a = 1; a <= k; a++) for (b = a + 1; b <= k; b++) if (idx[b] < idx[a]) { t = idx[a]; idx[a] = idx[b]; idx[b] = t }
    for (a = 1; a <= k; a++) line = line " " idx[a] ":" sprintf("%.3f", 0.5 + rand());
    print line > (i < 320 ? ENVIRON["W"] "/blocks.svm" : ENVIRON["W"] "/blocks-test.svm") } }'
for opt in "adagrad --lr 0.5" "adagrad-l1 --lr 0.5 --l1 0.001" "adagrad-rda --lr 0.5 --l1 0.001" "ftrl --alpha 0.5 --l1 0.5" "sgd --lr 0.5"; do
  # shellcheck disable=SC2086
  expect_code "libsvm $opt" 0 "$bin" train --data "$work/blocks.svm" --test-data "$work/blocks-test.svm" --optimizer $opt \
    --epochs 5 --batch-size 8 --seed 2 --json
  ge "$(json_num test_accuracy)" 0.97; st=$?; check "libsvm $opt: test accuracy >= 0.97 (got $(json_num test_accuracy))" $st
done
# L1 zeroes the noise features: fewer nonzero weights than the 3 x 100 of the dense model.
expect_code "ftrl strong l1" 0 "$bin" train --data "$work/blocks.svm" --optimizer ftrl --alpha 0.5 --l1 2 --epochs 5 --json
nz=$(json_num nonzero_weights)
ge "$nz" 1 && le "$nz" 150; check "ftrl --l1 2 keeps 1..150 of 300 weights nonzero (got $nz)" $?
expect_code "libsvm save" 0 "$bin" train --data "$work/blocks.svm" --optimizer adagrad --lr 0.5 --epochs 5 --quiet \
  --save "$work/blocks.json"
expect_code "libsvm predict" 0 "$bin" predict --model "$work/blocks.json" --data "$work/blocks-test.svm" --json
ge "$(json_num accuracy)" 0.97; st=$?; check "libsvm predict accuracy >= 0.97 (got $(json_num accuracy))" $st

# --write-features DIR: the prepared splits as LIBSVM files. By hand, scikit-learn's tf-idf (smooth idf =
# ln((1 + n) / (1 + df)) + 1, rows scaled to unit l2 norm) over 4 documents, columns in sorted term order
# (xx yy zz): xx has df 3 (idf ln(5/4) + 1), yy and zz df 2 (idf ln(5/3) + 1); labels a, b -> class ids 0, 1.
printf 'a\txx yy\nb\txx\na\tyy zz\nb\txx zz\n' > "$work/wf.tsv"
expect_code "--write-features" 0 "$bin" train --data "$work/wf.tsv" --test-data "$work/wf.tsv" --tfidf --epochs 0 \
  --write-features "$work/wf" --quiet
awk 'BEGIN { i1 = log(5 / 4) + 1; i2 = log(5 / 3) + 1; n = sqrt(i1 * i1 + i2 * i2)
  printf "0 1:%.6f 2:%.6f\n1 1:1.000000\n0 2:%.6f 3:%.6f\n1 1:%.6f 3:%.6f\n", i1 / n, i2 / n, sqrt(0.5), sqrt(0.5), i1 / n, i2 / n }' \
  > "$work/wf_expected"
for split in train test; do
  awk '{ printf "%s", $1; for (k = 2; k <= NF; k++) { split($k, p, ":"); printf " %s:%.6f", p[1], p[2] } print "" }' \
    "$work/wf/$split.svm" > "$work/wf_got" 2> /dev/null
  cmp -s "$work/wf_got" "$work/wf_expected"; st=$?
  check "--write-features: $split.svm holds the hand-computed tf-idf rows ($(paste -sd '|' "$work/wf_got"))" $st
done
# Training on the written files is the text run: same rows, same batches. Not to the bit: a vocabulary's
# columns sum their scores in their terms' shards, LIBSVM columns in their ids' (include/adakit/linear/
# model.hpp, the top), so the two runs round differently; the test loss agrees to 1e-5 (relative).
expect_code "text run writing its features" 0 "$bin" train --data "$work/topics.tsv" --test-data "$work/topics-test.tsv" \
  --ngram 1,2 --tfidf --model softmax --optimizer adagrad --lr 0.5 --epochs 5 --batch-size 4 --seed 3 --json \
  --write-features "$work/tf"
loss_text=$(json_num test_loss)
expect_code "the same run on the written LIBSVM files" 0 "$bin" train --data "$work/tf/train.svm" \
  --test-data "$work/tf/test.svm" --model softmax --optimizer adagrad --lr 0.5 --epochs 5 --batch-size 4 --seed 3 --json
awk -v a="$loss_text" -v b="$(json_num test_loss)" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5 * a && a > 0) }'; st=$?
check "LIBSVM run's test loss equals the text run's to rounding ($loss_text vs $(json_num test_loss))" $st

# Regression: y = 2 x1 - x3 on LIBSVM rows, linear regression with AdaGrad.
awk 'BEGIN { srand(5); for (i = 0; i < 300; i++) { a = rand(); b = rand(); c = rand();
  printf "%.5f 1:%.5f 2:%.5f 3:%.5f\n", 2 * a - c, a, b, c } }' > "$work/reg.svm"
expect_code "linreg" 0 "$bin" train --data "$work/reg.svm" --model linreg --optimizer adagrad --lr 0.5 --epochs 30 \
  --batch-size 4 --seed 1 --json
le "$(json_num test_mse)" 0.001; st=$?; check "linreg test mse <= 1e-3 (got $(json_num test_mse))" $st

# Bad input: exit 1 naming the file and line; usage errors: exit 2.
printf '1 1:0.5 2:1\n0 3:x\n' > "$work/bad.svm"
expect_code "bad libsvm value" 1 "$bin" train --data "$work/bad.svm"
grep -q "bad.svm" "$work/err" && grep -q ":2" "$work/err"; st=$?; check "LIBSVM error names file and line 2 ($(cat "$work/err"))" $st
printf 'pos\tgood\nneg bad line without a tab\n' > "$work/bad.tsv"
expect_code "bad tsv line" 1 "$bin" train --data "$work/bad.tsv"
grep -q "bad.tsv" "$work/err" && grep -q ":2" "$work/err"; st=$?; check "TSV error names file and line 2 ($(cat "$work/err"))" $st
expect_code "logreg on three classes" 2 "$bin" train --data "$work/blocks.svm" --model logreg
expect_code "mlp on sparse data" 2 "$bin" train --data "$work/blocks.svm" --model mlp:8
expect_code "adam on sparse data" 2 "$bin" train --data "$work/blocks.svm" --optimizer adam
expect_code "--l1 on dense data" 2 "$bin" train --data iris --l1 0.1
expect_code "--hash-bits on LIBSVM" 2 "$bin" train --data "$work/blocks.svm" --hash-bits 10
expect_code "--tfidf with --binary" 2 "$bin" train --data "$work/topics.tsv" --tfidf --binary
expect_code "bad --ngram" 2 "$bin" train --data "$work/topics.tsv" --ngram 0
expect_code "bad --format" 2 "$bin" train --data "$work/topics.tsv" --format xml
expect_code "--text with a LIBSVM model" 2 "$bin" predict --model "$work/blocks.json" --text "hello"
expect_code "predict without input" 2 "$bin" predict --model "$work/topics.json"
printf '{"format": "adakit.linear", "task": "logistic"' > "$work/broken.json"
expect_code "truncated model file" 1 "$bin" predict --model "$work/broken.json" --text "x"
grep -q "broken.json" "$work/err"; st=$?; check "truncated model error names the file ($(cat "$work/err"))" $st
finish
