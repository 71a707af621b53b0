#!/usr/bin/env bash
# adakit explain: each feature's contribution to each class's score, checked against adakit predict:
# the bias plus the contributions give the score, whose sigmoid (logistic) or softmax (softmax) is the
# probability predict --json prints. Vocabulary, hashed (with and without --keep-bucket-names) and
# LIBSVM models; the text table; --top-features; bad flag values (exit 2, the flag named), a missing
# model (exit 1).
bin=$(realpath "${1:?usage: explain_test.sh path/to/adakit}")
. "$(dirname "$0")/harness.sh"
cd "$work"
py=$(command -v python3 || true)  # json only: any python3 will do

train() { "$bin" train --epochs 30 --batch-size 1 --lr 0.5 --seed 1 -q "$@"; }

# ---- data: the bundled six sentences; a three-topic task; a LIBSVM file
awk 'BEGIN { srand(3); split("cat dog fish|car bus train|red blue green", g, "|");
       for (i = 0; i < 90; i++) { t = i % 3; split(g[t + 1], w, " "); s = "";
         for (k = 0; k < 4; k++) s = s (k ? " " : "") (rand() < 0.7 ? w[1 + int(rand() * 3)] : "word" int(rand() * 9));
         print (t == 0 ? "animal" : t == 1 ? "vehicle" : "colour") "\t" s } }' > topics.tsv
printf '+1 1:0.5 3:1.5\n-1 2:1 3:-0.25\n+1 1:1 4:2\n-1 2:0.75 4:-1\n+1 1:0.25 2:0.1 3:1\n-1 2:2\n' > small.svm

train --data sentiment-tiny --test-data sentiment-tiny --save s.json; check "train a vocabulary model (json)" $?
train --data sentiment-tiny --test-data sentiment-tiny --save s.bin; check "train a vocabulary model (bin)" $?
train --data topics.tsv --model softmax --ngram 1,2 --tfidf --save t.bin; check "train a softmax tf-idf model" $?
train --data sentiment-tiny --test-data sentiment-tiny --hash-bits 4 --ngram 1,2 --keep-bucket-names --save h.bin
check "train a hashed model with --keep-bucket-names (bin)" $?
train --data sentiment-tiny --test-data sentiment-tiny --hash-bits 4 --ngram 1,2 --keep-bucket-names --save h.json
check "train a hashed model with --keep-bucket-names (json)" $?
train --data sentiment-tiny --test-data sentiment-tiny --hash-bits 4 --ngram 1,2 --save h0.bin; check "train a hashed model without" $?
train --data small.svm --test-data small.svm --save l.bin; check "train a LIBSVM model" $?

# ---- the table
expect_code "explain --text (table)" 0 "$bin" explain --model s.bin --text "I love this movie"
grep -q "contribution" out && grep -q "love" out && grep -q "class positive: score" out
check "the table lists love under class positive's contributions" $?
expect_code "explain --top-features (table)" 0 "$bin" explain --model s.bin --top-features 2
[ "$(grep -c '^top 2 features of class' out)" -eq 2 ]; check "--top-features lists both classes of a logistic model" $?
expect_code "hashed --top-features (table)" 0 "$bin" explain --model h.bin --top-features 3 --text "I love this movie"
grep -q "bucket [0-9]*: .*love" out; check "a hashed bucket lists the input's term 'love'" $?
grep -q "\[trained: " out; check "a hashed bucket lists the terms kept at training" $?

if [ -z "$py" ]; then
  echo "SKIP: no python3 for the JSON checks"
  finish; exit $?
fi

# compare EXPLAIN_JSON PREDICT_JSON: every explained input's classes: bias + sum of contributions = score
# (float rounding); the probabilities are predict's, and the sigmoid / softmax of the scores.
compare() {
  "$py" - "$1" "$2" << 'EOF'
import json, math, sys
e = json.load(open(sys.argv[1])); p = json.load(open(sys.argv[2]))
assert e["explanations"], "no explanation"
for x, q in zip(e["explanations"], p["predictions"], strict=True):
    scores = []
    for c in x["classes"]:
        total = c["bias"] + sum(k["contribution"] for k in c["contributions"]) + c["other_sum"]
        mag = abs(c["bias"]) + sum(abs(k["contribution"]) for k in c["contributions"]) + abs(c["other_sum"])
        assert abs(total - c["score"]) <= 1e-6 * (1 + mag), (total, c["score"])
        for k in c["contributions"]:
            assert abs(k["value"] * k["weight"] - k["contribution"]) <= 1e-6 * abs(k["contribution"]) + 1e-30, k
            assert k["name"] and "column" in k, k
        scores.append(c["score"])
    assert x["probabilities"] == q["probabilities"], (x["probabilities"], q["probabilities"])
    assert x["predicted"] == q["label"], (x["predicted"], q["label"])
    if e["task"] == "logistic":
        assert len(scores) == 1 and x["classes"][0]["class_id"] == 1
        want = [1 - 1 / (1 + math.exp(-scores[0])), 1 / (1 + math.exp(-scores[0]))]
    else:
        m = max(scores); s = sum(math.exp(z - m) for z in scores); want = [math.exp(z - m) / s for z in scores]
    assert all(abs(a - b) <= 1e-6 for a, b in zip(want, q["probabilities"], strict=True)), (want, q["probabilities"])
print(len(e["explanations"]), "inputs")
EOF
}

texts=(--text "I love this movie" --text "What a terrible, awful film" --text "great experience")
for m in s.json s.bin h.bin h.json h0.bin; do
  "$bin" explain --model $m "${texts[@]}" --top 1000 --json > e.json &&
    "$bin" predict --model $m "${texts[@]}" --probabilities --json > p.json && compare e.json p.json > /dev/null
  check "$m: bias + contributions = score; sigmoid(score) = predict's probability" $?
done
"$bin" explain --model t.bin --data topics.tsv --rows 5 --top 1000 --json > e.json &&
  head -5 topics.tsv > t5.tsv && "$bin" predict --model t.bin --data t5.tsv --probabilities --json > p.json &&
  compare e.json p.json > /dev/null
check "softmax tf-idf --data --rows 5: per class bias + contributions = score; softmax = predict's" $?
"$bin" explain --model l.bin --data small.svm --json > e.json &&
  "$bin" predict --model l.bin --data small.svm --probabilities --json > p.json && compare e.json p.json > /dev/null
check "LIBSVM --data: bias + contributions = score; sigmoid = predict's" $?

# ---- the JSON's fields and names
"$bin" explain --model s.bin --text "I love this movie" --json > e.json
"$py" -c '
import json; e = json.load(open("e.json"))
assert e["task"] == "logistic" and e["input"] == "text" and e["hashed"] is False and e["bucket_terms"] is False
x = e["explanations"][0]
assert x["text"] == "I love this movie" and x["index"] == 0
c = x["classes"][0]
assert c["class"] == "positive" and c["class_id"] == 1
names = [k["name"] for k in c["contributions"]]
assert sorted(names) == ["love", "movie", "this"], names  # "i" is one character: not a token
mags = [abs(k["contribution"]) for k in c["contributions"]]
assert mags == sorted(mags, reverse=True), mags
assert all(set(k) == {"column", "name", "value", "weight", "contribution"} for k in c["contributions"])
'
check "vocabulary JSON: fields, n-gram names, sorted by |contribution|" $?
"$bin" explain --model s.bin --text "I love this movie" --class negative --json > n.json
"$py" -c '
import json; p = json.load(open("e.json"))["explanations"][0]["classes"][0]; n = json.load(open("n.json"))["explanations"][0]["classes"][0]
assert n["class"] == "negative" and n["class_id"] == 0
assert n["score"] == -p["score"] and n["bias"] == -p["bias"]
assert {k["name"]: -k["contribution"] for k in n["contributions"]} == {k["name"]: k["contribution"] for k in p["contributions"]}
'
check "--class negative of a logistic model: the negated view" $?
"$bin" explain --model s.bin --text "I love this movie" --top 1 --json > e1.json
"$py" -c '
import json; c = json.load(open("e1.json"))["explanations"][0]["classes"][0]; full = json.load(open("e.json"))["explanations"][0]["classes"][0]
assert len(c["contributions"]) == 1 and c["other_features"] == 2
assert abs(c["other_sum"] - sum(k["contribution"] for k in full["contributions"][1:])) < 1e-6
'
check "--top 1: one contribution, the other two counted and summed" $?
"$bin" explain --model h.bin --text "I love this movie" --top-features 3 --json > e.json
"$py" -c '
import json, re; e = json.load(open("e.json"))
assert e["hashed"] is True and e["bucket_terms"] is True
for k in e["explanations"][0]["classes"][0]["contributions"]:
    assert re.fullmatch(r"bucket \d+", k["name"]) and k["name"] == "bucket %d" % k["column"], k
    assert k["terms"] and abs(sum(t["sign"] * t["count"] for t in k["terms"]) - k["value"]) < 1e-6, k  # count weighting
    assert all(len(t) == 3 for t in k["kept_terms"]) and len(k["kept_terms"]) <= 4, k
terms = sorted(t["term"] for k in e["explanations"][0]["classes"][0]["contributions"] for t in k["terms"])
assert set(terms) <= {"love", "this", "movie", "love this", "this movie"}, terms
top = e["top_features"]
assert [c["class"] for c in top] == ["positive", "negative"] and all(len(c["features"]) == 3 for c in top), top
for c in top:
    w = [f["weight"] for f in c["features"]]; assert w == sorted(w, reverse=True), w
    assert all(f["kept_terms"] for f in c["features"]), c
'
check "hashed JSON: bucket names, the input's terms (signed counts = value), kept terms, top features" $?
"$bin" explain --model l.bin --data small.svm --rows 2 --top-features 2 --json > e.json
"$py" -c '
import json; e = json.load(open("e.json"))
assert e["input"] == "libsvm" and len(e["explanations"]) == 2
x = e["explanations"][0]
assert x["label"] == "+1"
assert sorted(k["name"] for k in x["classes"][0]["contributions"]) == ["1", "3"]  # LIBSVM indices, 1-based
assert all(k["name"] == str(k["column"] + 1) for k in x["classes"][0]["contributions"])
'
check "LIBSVM JSON: --rows 2, labels, 1-based index names" $?

# ---- bad values: exit 2 naming the flag (1 for a file that cannot be read)
expect_code "--top 0" 2 "$bin" explain --model s.bin --text "good" --top 0
grep -q -- "--top: Value 0 not in range" err; check "--top 0: names --top" $?
expect_code "--top -1" 2 "$bin" explain --model s.bin --text "good" --top -1
grep -q -- "--top" err; check "--top -1: names --top" $?
expect_code "--top abc" 2 "$bin" explain --model s.bin --text "good" --top abc
grep -q -- "--top" err; check "--top abc: names --top" $?
expect_code "--top-features 0" 2 "$bin" explain --model s.bin --top-features 0
grep -q -- "--top-features: Value 0 not in range" err; check "--top-features 0: names --top-features" $?
expect_code "--rows 0" 2 "$bin" explain --model l.bin --data small.svm --rows 0
grep -q -- "--rows" err; check "--rows 0: names --rows" $?
expect_code "--rows without --data" 2 "$bin" explain --model s.bin --text "good" --rows 2
grep -q -- "--rows counts the rows of --data" err; check "--rows without --data: says so" $?
expect_code "a missing model" 1 "$bin" explain --model nope.bin --text "good"
grep -q "nope.bin: field 'model': cannot open the model file" err; check "a missing model: names the file" $?
expect_code "--text on a LIBSVM model" 2 "$bin" explain --model l.bin --text "good"
grep -q -- "--text needs a model trained on text" err; check "--text on a LIBSVM model: says so" $?
expect_code "unknown --class" 2 "$bin" explain --model s.bin --text "good" --class maybe
grep -q "field 'class': no class 'maybe' (the classes: negative, positive)" err; check "unknown --class: names the classes" $?
expect_code "no input" 2 "$bin" explain --model s.bin
grep -q -- "give --text" err; check "no input: says what to give" $?
expect_code "--text and --data" 2 "$bin" explain --model s.bin --text "good" --data sentiment-tiny
expect_code "--keep-bucket-names on a vocabulary" 2 "$bin" train --data sentiment-tiny --keep-bucket-names --save k.bin
grep -q -- "--keep-bucket-names names the columns of a hashed text model" err; check "--keep-bucket-names without --hash-bits: says so" $?
[ ! -e k.bin ]; check "--keep-bucket-names refused: no file written" $?
expect_code "--keep-bucket-names on LIBSVM" 2 "$bin" train --data small.svm --keep-bucket-names --save k.bin
expect_code "--keep-bucket-names without --save" 2 "$bin" train --data sentiment-tiny --hash-bits 4 --keep-bucket-names
grep -q -- "give --save FILE" err; check "--keep-bucket-names without --save: says so" $?
expect_code "--keep-bucket-names on a vocabulary warm start" 2 "$bin" train --init-model s.bin --data sentiment-tiny --keep-bucket-names --save k.bin

# A warm start of a hashed model carries its bucket terms, and counts on with --keep-bucket-names.
train --data sentiment-tiny --test-data sentiment-tiny --hash-bits 4 --keep-bucket-names --save-state --save w.bin &&
  train --init-model w.bin --data sentiment-tiny --test-data sentiment-tiny --save w2.json &&
  "$bin" explain --model w.bin --top-features 100 --json > a.json && "$bin" explain --model w2.json --top-features 100 --json > b.json &&
  "$py" -c '
import json
a, b = (json.load(open(f))["top_features"] for f in ("a.json", "b.json"))
kept = lambda t: {f["column"]: f["kept_terms"] for c in t for f in c["features"]}
assert kept(b) and all(kept(b)[c] == kept(a)[c] for c in kept(b) if c in kept(a)), (kept(a), kept(b))
'
check "a warm start carries the bucket terms" $?
train --init-model w.bin --data sentiment-tiny --test-data sentiment-tiny --keep-bucket-names --save w3.json &&
  "$py" -c '
import json
b = json.load(open("w3.json"))["bucket_terms"]
counts = {t: n for ts, ns in zip(b["terms"], b["counts"]) for t, n in zip(ts, ns)}
assert counts.get("this") == 8, counts  # 4 in each pass over the six sentences
'
check "--keep-bucket-names on a warm start counts the new data on" $?

finish
