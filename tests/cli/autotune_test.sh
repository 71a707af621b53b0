#!/usr/bin/env bash
# adakit train --autotune-validation: the trials in --json (the first one the defaults, the best at least
# as good), a fixed number of trials repeats exactly, flags given stay fixed, the size limit holds, --save
# writes the best model and predict reads it, LIBSVM and regression work, and bad values exit 2 naming
# the flag. About 2 s on 2 cores.
bin=$(realpath "${1:?usage: autotune_test.sh path/to/adakit}")
. "$(dirname "$0")/harness.sh"
cd "$work"
py() { /usr/bin/python3 -c "$@"; }

# ---- data: three topics of words among noise words; train / validation / test
awk 'BEGIN { srand(3); split("cat dog fish|car bus train|red blue green", g, "|");
       for (i = 0; i < 900; i++) { t = i % 3; split(g[t + 1], w, " "); s = "";
         for (k = 0; k < 6; k++) s = s (k ? " " : "") (rand() < 0.2 ? w[1 + int(rand() * 3)] : "word" int(rand() * 40));
         name = t == 0 ? "animal" : t == 1 ? "vehicle" : "colour";
         print name "\t" s > (i < 600 ? "train.tsv" : i < 750 ? "valid.tsv" : "test.tsv") } }'
awk 'BEGIN { srand(5); for (i = 0; i < 300; i++) { y = 0; s = "";
       for (k = 1; k <= 8; k++) { x = rand() * 2 - 1; y += (k % 3 - 1) * x; s = s " " k ":" x }
       print y + (rand() - 0.5) * 0.1 s > (i < 200 ? "r_train.svm" : "r_valid.svm") } }'

tune() { "$bin" train --data train.tsv --test-data test.tsv --autotune-validation valid.tsv --seed 2 "$@"; }

# ---- --json: trials, trial 0 = the defaults, the best >= it, the model saved and readable
tune --autotune-duration 2 --save m.bin --json > a.json; check "autotune runs (2 s) and saves" $?
py '
import json, sys
j = json.load(open("a.json")); a = j["autotune"]; t = a["trials"]
ok = [x for x in t if x["status"] == "ok"]
assert len(t) >= 2, len(t)
assert t[0]["trial"] == 0 and t[0]["config"]["optimizer"] == "adagrad" and t[0]["config"]["options"]["lr"] == "0.01", t[0]
assert t[0]["config"]["epochs"] == 10 and t[0]["config"]["ngram"] == "1" and t[0]["config"]["hash_bits"] == 0, t[0]
best = a["best"]["validation_accuracy"]
assert best >= t[0]["validation_accuracy"] and best == max(x["validation_accuracy"] for x in ok), (best, t[0])
assert a["baseline"]["validation_accuracy"] == t[0]["validation_accuracy"]
for x in ok: assert x["model_bytes"] > 0 and x["seconds"] >= 0 and "config" in x
assert j["saved"] == "m.bin" and j["saved_bytes"] > 0 and "test_accuracy" in j
' ; check "--json: trials, trial 0 is the defaults, the best is the highest and >= the defaults" $?
"$bin" predict --model m.bin --text "cat dog fish" --json > p.json; check "predict reads the saved best model" $?
grep -q '"animal"' p.json; check "... and classifies with it" $?
"$bin" predict --model m.bin --data test.tsv --json > pt.json; check "predict --data test.tsv on it" $?
py 'import json; a = json.load(open("a.json")); p = json.load(open("pt.json")); assert abs(a["test_accuracy"] - p["accuracy"]) < 1e-9, (a["test_accuracy"], p["accuracy"])'
check "the saved model is the one reported (same test accuracy)" $?

# ---- a fixed number of trials is deterministic; flags given are fixed; readable lines without --json
tune --autotune-trials 6 --json > t1.json && tune --autotune-trials 6 --json > t2.json
py 'import json; f = lambda n: [(x["config"], x.get("validation_accuracy")) for x in json.load(open(n))["autotune"]["trials"]]; assert f("t1.json") == f("t2.json") and len(f("t1.json")) == 6'
check "--autotune-trials 6 twice: the same trials, the same scores" $?
tune --autotune-trials 6 --lr 0.3 --epochs 4 --ngram 1,2 --json > fx.json
py '
import json; t = json.load(open("fx.json"))["autotune"]["trials"]
assert all(x["config"]["options"]["lr"] == "0.3" and x["config"]["epochs"] == 4 and x["config"]["ngram"] == "1,2" for x in t), t
'; check "--lr, --epochs, --ngram given are not searched" $?
py '
import json; t = json.load(open("t1.json"))["autotune"]["trials"]
assert t[0]["config"]["model"] == "softmax" and t[0]["config"]["weighting"] == "count", t[0]
assert all(x["config"]["model"] in ("softmax", "squared_hinge") and x["config"]["weighting"] in ("count", "tfidf") for x in t), t
'; check "the loss (softmax or squared_hinge) and the term weights (count or tfidf) are in each trial's config" $?
tune --autotune-duration 3 --save b.bin --json > b.json; check "autotune, 3 s" $?
py '
import json; j = json.load(open("b.json")); a = j["autotune"]
best = [x for x in a["trials"] if x["trial"] == a["best"]["trial"]][0]
assert best["config"] == a["best"]["config"] and best["validation_accuracy"] == a["best"]["validation_accuracy"], (best, a["best"])
assert j["model"] == best["config"]["model"], (j["model"], best)
'; check "the model reported and saved is the best trial's loss" $?
"$bin" predict --model b.bin --data test.tsv --json > pb.json; check "predict on it" $?
py 'import json; a = json.load(open("b.json")); p = json.load(open("pb.json")); assert abs(a["test_accuracy"] - p["accuracy"]) < 1e-9'
check "... the same test accuracy as reported" $?
tune --autotune-trials 6 --loss squared_hinge --tfidf --json > lt.json; check "--loss squared_hinge --tfidf given" $?
py '
import json; t = json.load(open("lt.json"))["autotune"]["trials"]
assert all(x["config"]["model"] == "squared_hinge" and x["config"]["weighting"] == "tfidf" for x in t), t
'; check "--loss and --tfidf given are not searched" $?
tune --autotune-trials 3 > text.out 2> /dev/null; check "without --json" $?
[ "$(grep -c '^trial ' text.out)" -eq 3 ] && grep -q '^best: trial' text.out; check "one line per trial and the best" $?

# ---- the size limit: every trial's model within it, the saved file too
tune --autotune-trials 6 --autotune-model-size 6K --save s.bin --json > s.json; check "--autotune-model-size 6K" $?
py '
import json, os; j = json.load(open("s.json")); t = j["autotune"]["trials"]
assert j["autotune"]["model_size_limit"] == 6000
assert all(x["model_bytes"] <= 6000 for x in t if x["status"] == "ok"), t
assert os.path.getsize("s.bin") <= 6000, os.path.getsize("s.bin")
'; check "... every trial within 6,000 bytes, and the saved file" $?

# ---- LIBSVM regression: scored by validation mse (lower is better)
"$bin" train --data r_train.svm --autotune-validation r_valid.svm --autotune-trials 5 --seed 1 --json > r.json
check "LIBSVM regression autotune" $?
py '
import json; a = json.load(open("r.json"))["autotune"]; t = a["trials"]
assert a["metric"] == "validation_mse" and a["best"]["validation_mse"] <= t[0]["validation_mse"]
assert "ngram" not in t[0]["config"]
'; check "... best validation mse <= the defaults'" $?

# ---- bad values: exit 2 naming the flag
bad() { # name, flag named, args...
  local name=$1 flag=$2; shift 2
  expect_code "$name" 2 "$bin" train "$@"
  grep -q -- "$flag" "$work/err"; check "$name names $flag" $?
}
bad "duration 0" autotune-duration --data train.tsv --autotune-validation valid.tsv --autotune-duration 0
bad "duration -3" autotune-duration --data train.tsv --autotune-validation valid.tsv --autotune-duration -3
bad "duration abc" autotune-duration --data train.tsv --autotune-validation valid.tsv --autotune-duration abc
bad "model size abc" autotune-model-size --data train.tsv --autotune-validation valid.tsv --autotune-model-size abc
bad "model size 2MB" autotune-model-size --data train.tsv --autotune-validation valid.tsv --autotune-model-size 2MB
bad "trials -1" autotune-trials --data train.tsv --autotune-validation valid.tsv --autotune-trials -1
bad "duration without validation" autotune-validation --data train.tsv --autotune-duration 5
bad "empty validation name" autotune-validation --data train.tsv --autotune-validation ""
bad "dense data" autotune-validation --data iris --autotune-validation valid.tsv
bad "with --resume" resume --data train.tsv --autotune-validation valid.tsv --resume ck
bad "with --init-model" init-model --data train.tsv --autotune-validation valid.tsv --init-model m.bin
expect_code "a stream from stdin" 2 sh -c "cat train.tsv | '$bin' train --data - --format text-tsv --autotune-validation valid.tsv"
expect_code "a missing validation file: exit 1" 1 "$bin" train --data train.tsv --autotune-validation nope.tsv
grep -q "nope.tsv" "$work/err"; check "... naming it" $?
printf 'fruit\tapple pear\n' > alien.tsv
expect_code "a validation class the training data lack: exit 1" 1 "$bin" train --data train.tsv --autotune-validation alien.tsv
grep -q "alien.tsv" "$work/err"; check "... naming the file" $?
finish
