#!/usr/bin/env bash
# Multilabel text and LIBSVM data (files and a stream from stdin) through adakit train --loss ova and
# adakit predict --top-k / --threshold; the squared-hinge loss (LIBLINEAR -s 2's) end to end. Checks: the ova model learns the
# label sets (F1, P@1 in --json), --loss ova and --model ova write the same file, 1 and 2 threads the
# same file, JSON and binary files predict alike, a warm start continues an ova model, predict's
# micro precision / recall / F1 equal scikit-learn's on the probabilities it prints (when Debian's
# python3-sklearn is there), squared_hinge trains, predicts, explains and exports; bad values exit 2
# naming the flag, a bad label set exits 1 naming the file and line.
bin=$(realpath "${1:?usage: multilabel_test.sh path/to/adakit}")
. "$(dirname "$0")/harness.sh"
cd "$work"

# ---- data: four topics, one to three a document, each with its own words
awk 'BEGIN { srand(5); split("ball goal team match|vote law party senate|code chip data cloud|doctor virus diet sleep", w, "|");
       split("sports politics tech health", name, " ");
       for (i = 0; i < 500; i++) { labels = ""; text = "";
         for (c = 1; c <= 4; c++) if (rand() < 0.45 || (c == 4 && labels == "")) {
           labels = labels (labels == "" ? "" : ",") name[c]; split(w[c], ws, " ");
           for (k = 0; k < 3; k++) text = text " " ws[1 + int(rand() * 4)] }
         for (k = 0; k < 3; k++) text = text " filler" int(rand() * 30);
         print labels "\t" text > (i < 400 ? "train.tsv" : "test.tsv") } }'
awk 'BEGIN { srand(9); for (i = 0; i < 300; i++) { s = ""; f = "";
       for (c = 1; c <= 3; c++) if (rand() < 0.5 || (c == 3 && s == "")) { s = s (s == "" ? "" : ",") c; f = f " " (c * 10 + int(rand() * 3)) ":1" }
       print s f " " (40 + int(rand() * 5)) ":0.5" > (i < 240 ? "train.svm" : "test.svm") } }'
# LIBSVM indices increase within a line: sort each line's features.
for f in train.svm test.svm; do
  awk '{ n = split($0, t, " "); line = t[1]; m = 0; for (i = 2; i <= n; i++) { split(t[i], kv, ":"); idx[++m] = kv[1] + 0; val[kv[1] + 0] = kv[2] }
         for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (idx[j] < idx[i]) { x = idx[i]; idx[i] = idx[j]; idx[j] = x }
         for (i = 1; i <= m; i++) line = line " " idx[i] ":" val[idx[i]]; print line; delete idx; delete val }' $f > s && mv s $f
done
train() { "$bin" train --epochs 8 --batch-size 4 --lr 0.5 --seed 3 "$@"; }

# ---- ova learns the sets
train --data train.tsv --test-data test.tsv --loss ova --json --save ova.bin > ova.json; check "train --loss ova" $?
grep -q '"model":"ova"' ova.json; check "the run reports the ova model" $?
f1=$(grep -o '"f1":[0-9.e-]*' ova.json | cut -d: -f2)
awk -v f="$f1" 'BEGIN { exit !(f > 0.9) }'; st=$?; check "test F1 at 0.5 > 0.9 (got $f1)" $st
grep -q '"precision_at_k"' ova.json; check "--json has P@1" $?
train --data train.tsv --test-data test.tsv --model ova -q --save ova2.bin; cmp -s ova.bin ova2.bin; check "--model ova is --loss ova, byte for byte" $?
"$bin" --threads 2 train --epochs 8 --batch-size 4 --lr 0.5 --seed 3 --data train.tsv --test-data test.tsv --loss ova -q --save ova_t2.bin
cmp -s ova.bin ova_t2.bin; check "1 and 2 threads give the same ova model" $?
train --data train.tsv --test-data test.tsv --loss ova -q --save ova.json.model.json; check "an ova model saves as JSON" $?
"$bin" predict --model ova.bin --data test.tsv --threshold 0.5 > p_bin.txt 2> /dev/null
"$bin" predict --model ova.json.model.json --data test.tsv --threshold 0.5 > p_json.txt 2> /dev/null
cmp -s p_bin.txt p_json.txt; check "binary and JSON ova files predict the same sets" $?

# ---- predict --top-k / --threshold
"$bin" predict --model ova.bin --data test.tsv --top-k 2 > top2.txt 2> top2.err; check "predict --top-k 2" $?
awk -F'\t' '{ n = split($2, a, " "); if (n != 2) bad = 1 } END { exit bad }' top2.txt; check "--top-k 2 names two classes a row" $?
grep -q "^P@2 " top2.err; check "predict reports P@2 on labelled data" $?
"$bin" predict --model ova.bin --data test.tsv --threshold 0.5 --json > thr.json; check "predict --threshold --json" $?
grep -q '"labels":\[' thr.json && grep -q '"multilabel":{' thr.json; check "rows carry labels, the run multilabel scores" $?
"$bin" predict --model ova.bin --text "goal team vote law" --threshold 0.5 > text.txt 2> /dev/null
grep -q "politics" text.txt && grep -q "sports" text.txt; check "a text about two topics gets both" $?
# serve --threshold: the same sets as predict --threshold, of the --top-k most probable when given
head -n 20 test.tsv | cut -f2 > req.txt
"$bin" serve --model ova.bin --threshold 0.5 -q < req.txt > serve.out; check "serve --threshold 0.5" $?
"$bin" serve --model ova.bin --threshold 0.1 --top-k 1 -q < req.txt > serve1.out; check "serve --threshold 0.1 --top-k 1" $?
head -n 20 test.tsv > req.tsv
"$bin" predict --model ova.bin --data req.tsv --threshold 0.5 --json > req.json
/usr/bin/python3 - "$work/serve.out" "$work/req.json" "$work/serve1.out" <<'EOF'
import json, sys
served = [json.loads(l) for l in open(sys.argv[1])]
rows = json.load(open(sys.argv[2]))["predictions"]
assert len(served) == len(rows) == 20, (len(served), len(rows))
for s, r in zip(served, rows):
    assert [x["label"] for x in s["labels"]] == [x["label"] for x in r["labels"]], (s, r)
    assert all(abs(a["probability"] - b["probability"]) < 1e-6 for a, b in zip(s["labels"], r["labels"]))
    assert all(x["probability"] >= 0.5 for x in s["labels"])
assert any(len(s["labels"]) > 1 for s in served), "no request got two classes"
one = [json.loads(l) for l in open(sys.argv[3])]
assert all(len(s["labels"]) <= 1 for s in one) and all(s["labels"][0]["label"] == s["label"] for s in one if s["labels"])
EOF
check "serve's labels are predict's sets; --top-k 1 keeps at most the best" $?
if /usr/bin/python3 -c "import sklearn" 2> /dev/null; then
  "$bin" predict --model ova.bin --data test.tsv --threshold 0.5 --probabilities --json > probs.json
  /usr/bin/python3 - "$work/probs.json" "$work/test.tsv" <<'EOF'
import json, sys
import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score, accuracy_score
j = json.load(open(sys.argv[1]))
names = sorted({l for line in open(sys.argv[2]) for l in line.split("\t")[0].split(",")})
Y = np.array([[n in line.split("\t")[0].split(",") for n in names] for line in open(sys.argv[2])], dtype=int)
P = np.array([r["probabilities"] for r in j["predictions"]])
S = (P >= 0.5).astype(int)
m = j["multilabel"]
ref = dict(precision=precision_score(Y, S, average="micro"), recall=recall_score(Y, S, average="micro"),
           f1=f1_score(Y, S, average="micro"), exact_match=accuracy_score(Y, S))
bad = [k for k in ref if abs(ref[k] - m[k]) > 1e-12]
sys.exit(f"differ from scikit-learn: {bad} {ref} {m}" if bad else 0)
EOF
  check "predict's micro precision, recall, F1, exact match = scikit-learn's" $?
fi

# ---- LIBSVM label sets, --write-features, warm start
train --data train.svm --test-data test.svm --loss ova --json --save svm.bin --write-features feat > svm.json
check "LIBSVM 1,3 label sets train" $?
grep -q '"test_multilabel"' svm.json; check "LIBSVM run reports multilabel scores" $?
grep -q "^[0-9]*,[0-9]" feat/train.svm; check "--write-features writes the sets comma-separated" $?
train --data test.tsv --init-model ova.bin --json -q --save warm.bin > warm.json; check "a warm start continues an ova model" $?
grep -q '"model":"ova"' warm.json; check "the continued model is ova" $?

# ---- a stream from stdin reads the sets too
"$bin" train --data - --format text-tsv --loss ova --classes health,politics,sports,tech --lr 0.5 -q --save stream.bin < train.tsv
check "an ova stream from stdin" $?
"$bin" predict --model stream.bin --data test.tsv --threshold 0.5 --json > stream.json
f1=$(grep -o '"f1":[0-9.e-]*' stream.json | cut -d: -f2)
awk -v f="$f1" 'BEGIN { exit !(f > 0.85) }'; st=$?; check "the stream's model gets the sets (F1 $f1 > 0.85)" $st

# ---- squared hinge: train, predict, explain, export
awk -F'\t' '{ split($1, a, ","); print a[1] "\t" $2 }' train.tsv > single.tsv
train --data single.tsv --loss squared_hinge --json --save svm_model.bin > sqh.json; check "train --loss squared_hinge" $?
grep -q '"model":"squared_hinge"' sqh.json; check "the run reports squared_hinge" $?
"$bin" --threads 2 train --epochs 8 --batch-size 4 --lr 0.5 --seed 3 --data single.tsv --loss squared_hinge --json --save svm_t2.bin > sqh2.json
cmp -s svm_model.bin svm_t2.bin; check "an SVM over 4 classes trained with --threads 2 is the 1-thread model" $?
[ "$(grep -o '"test_loss":[^,]*' sqh.json)" = "$(grep -o '"test_loss":[^,]*' sqh2.json)" ]; check "and reports the same loss" $?
"$bin" predict --model svm_model.bin --text "goal team match" > sqh.txt 2> /dev/null
grep -q "sports" sqh.txt; check "the SVM predicts sports" $?
"$bin" explain --model svm_model.bin --text "goal team match" > /dev/null; check "explain reads an SVM model" $?
"$bin" export --model svm_model.bin --out small.bin -q > /dev/null 2>&1 || "$bin" export --model svm_model.bin --out small.bin > /dev/null
"$bin" predict --model small.bin --data single.tsv > small.txt 2> /dev/null
"$bin" predict --model svm_model.bin --data single.tsv > full.txt 2> /dev/null
cmp -s small.txt full.txt; check "the exported SVM predicts the same classes" $?
awk -F'\t' '$1 ~ /sports|politics/ { print ($1 ~ /sports/ ? "sports" : "politics") "\t" $2 }' single.tsv > two.tsv
train --data two.tsv --loss squared_hinge --calibrate platt -q --save cal.bin; check "a two-class SVM calibrates (platt)" $?

# ---- bad values: exit 2 naming the flag
expect_code "--loss bogus" 2 "$bin" train --data train.tsv --loss bogus
grep -q "loss" "$work/err"; check "--loss bogus names loss" $?
expect_code "--model softmax --loss ova disagree" 2 "$bin" train --data train.tsv --model softmax --loss ova
expect_code "--loss on dense data" 2 "$bin" train --data iris --loss ova
expect_code "--calibrate with ova" 2 "$bin" train --data train.tsv --loss ova --calibrate platt
grep -q "calibrate" "$work/err"; check "--calibrate with ova names calibrate" $?
expect_code "--class-weight on label sets" 2 "$bin" train --data train.tsv --loss ova --class-weight balanced
expect_code "--loss softmax on label sets read as ova" 2 "$bin" train --data train.svm --loss squared_hinge --init-model svm.bin
expect_code "--top-k 0" 2 "$bin" predict --model ova.bin --data test.tsv --top-k 0
grep -q "top-k" "$work/err"; check "--top-k 0 names top-k" $?
expect_code "--threshold 1.5" 2 "$bin" predict --model ova.bin --data test.tsv --threshold 1.5
grep -q "threshold" "$work/err"; check "--threshold 1.5 names threshold" $?
expect_code "serve --threshold 1.5" 2 "$bin" serve --model ova.bin --threshold 1.5
grep -q "threshold" "$work/err"; check "serve --threshold 1.5 names threshold" $?
printf 'sports,,tech\tgoal chip\n' > bad.tsv
expect_code "an empty name in a label set" 1 "$bin" train --data bad.tsv --loss ova
grep -q "bad.tsv:1" "$work/err"; check "the error names the file and line" $?
finish
