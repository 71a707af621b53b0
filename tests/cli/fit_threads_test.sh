#!/usr/bin/env bash
# adakit train --fit-threads N (linear::FitOptions::threads): one learner trained on two threads, each
# owning one of the two feature shards, is the 1-thread model file byte for byte (text and LIBSVM,
# squared hinge, softmax and multilabel ova, a lazy optimizer, a warm start on a grown vocabulary, a
# checkpoint and a resume in between); --json reports the threads used; bad values and combinations
# exit 2 naming the flag.
bin=$(realpath "${1:?usage: fit_threads_test.sh path/to/adakit}")
. "$(dirname "$0")/harness.sh"
cd "$work"

# Twelve topics of three words each, with noise words: 12 outputs, so the default takes two threads.
awk 'BEGIN { srand(5);
       for (i = 0; i < 600; i++) { t = i % 12; s = "";
         for (k = 0; k < 5; k++) s = s (k ? " " : "") (rand() < 0.6 ? "t" t "w" int(rand() * 3) : "noise" int(rand() * 40));
         print "topic" t "\t" s > (i < 300 ? "a.tsv" : "b.tsv"); print "topic" t "\t" s } }' > topics.tsv
head -n 40 topics.tsv > held.tsv
awk 'BEGIN { srand(6);
       for (i = 0; i < 400; i++) { a = i % 9; b = (i * 7) % 9; s = "";
         for (k = 0; k < 6; k++) s = s (k ? " " : "") (rand() < 0.5 ? "w" a "_" int(rand() * 3) : "w" b "_" int(rand() * 3));
         print "l" a (a != b ? ",l" b : "") "\t" s } }' > tags.tsv
train() { "$bin" --threads "$1" train --epochs 3 --batch-size 2 --lr 0.5 --seed 4 -q "${@:2}"; }

train 1 --data topics.tsv --loss squared_hinge --save h1.bin; check "squared hinge, 1 thread" $?
train 2 --data topics.tsv --loss squared_hinge --save h2.bin; check "squared hinge, 2 threads" $?
cmp -s h1.bin h2.bin; check "squared hinge: 2 threads write the 1-thread model byte for byte" $?
train 2 --data topics.tsv --loss squared_hinge --fit-threads 1 --save hoff.bin
cmp -s h1.bin hoff.bin; check "--fit-threads 1 on 2 threads: the same model" $?
train 2 --data topics.tsv --loss squared_hinge --json > j2.json
grep -q '"fit_threads":2' j2.json; check "--json reports 2 fit threads on 2 threads" $?
train 1 --data topics.tsv --loss squared_hinge --json > j1.json
grep -q '"fit_threads":1' j1.json; check "--json reports 1 fit thread on 1 thread" $?
train 1 --data topics.tsv --model softmax --optimizer adagrad-l1 --l1 0.001 --save s1.bin; check "softmax, adagrad-l1, 1 thread" $?
train 2 --data topics.tsv --model softmax --optimizer adagrad-l1 --l1 0.001 --save s2.bin
cmp -s s1.bin s2.bin; check "softmax with a lazy optimizer on 2 threads: the 1-thread model" $?

train 1 --data tags.tsv --loss ova --save o1.bin; check "multilabel ova, 1 thread" $?
train 2 --data tags.tsv --loss ova --fit-threads 2 --save o2.bin
cmp -s o1.bin o2.bin; check "multilabel ova on 2 threads: the 1-thread model" $?

# A warm start on a grown vocabulary: A then B on 2 threads == one pass over A and B on 1 thread.
warm() { "$bin" --threads "$1" train --test-data held.tsv --epochs 1 --no-shuffle --batch-size 1 -q "${@:2}"; }
warm 2 --data a.tsv --save a.bin --save-state && warm 2 --init-model a.bin --data b.tsv --save ab.bin --save-state &&
  warm 1 --data topics.tsv --save one.bin --save-state
check "warm start runs" $?
cmp -s ab.bin one.bin; check "A then B (grown vocabulary) on 2 threads: one pass over both on 1 thread" $?

# LIBSVM, with a checkpoint every 50 batches (mid-epoch: 240 batches an epoch), then a resume from the
# last one (the end: its model and state read back).
"$bin" train --data topics.tsv --epochs 0 --write-features feats -q > /dev/null; check "features written" $?
train 1 --data feats/train.svm --loss squared_hinge --save l1.bin; check "LIBSVM, 1 thread" $?
train 2 --data feats/train.svm --loss squared_hinge --checkpoint ck --checkpoint-every 50 --save l2.bin
cmp -s l1.bin l2.bin; check "LIBSVM, 2 threads with checkpoints: the 1-thread model" $?
train 2 --data feats/train.svm --loss squared_hinge --resume ck --save l3.bin
cmp -s l1.bin l3.bin; check "resumed on 2 threads from the last checkpoint: the 1-thread model" $?

expect_code "--fit-threads -1" 2 train 2 --data topics.tsv --fit-threads -1
expect_code "--fit-threads 3" 2 train 2 --data topics.tsv --fit-threads 3
expect_code "--fit-threads with --workers" 2 train 2 --data topics.tsv --fit-threads 2 --workers 2
grep -q "field 'fit-threads'" err; check "--fit-threads with --workers names the flag" $?
expect_code "--fit-threads on dense data" 2 train 2 --data iris --fit-threads 2
grep -q "field 'fit-threads'" err; check "--fit-threads on dense data names the flag" $?
finish
