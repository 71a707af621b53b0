#!/usr/bin/env bash
# adakit train --slices N (output slices, linear::FitOptions::slices): a one-vs-rest model trained on two
# threads, in any number of slices, is the 1-thread model file byte for byte (from text and from LIBSVM,
# squared hinge and multilabel ova, with a checkpoint and a resume in between); --json reports the slices
# used; bad values and combinations exit 2 naming the flag.
bin=$(realpath "${1:?usage: slices_test.sh path/to/adakit}")
. "$(dirname "$0")/harness.sh"
cd "$work"

# Twelve topics of three words each, with noise words: 12 outputs, so two threads take two slices.
awk 'BEGIN { srand(5);
       for (i = 0; i < 600; i++) { t = i % 12; s = "";
         for (k = 0; k < 5; k++) s = s (k ? " " : "") (rand() < 0.6 ? "t" t "w" int(rand() * 3) : "noise" int(rand() * 40));
         print "topic" t "\t" s } }' > topics.tsv
awk 'BEGIN { srand(6);
       for (i = 0; i < 400; i++) { a = i % 9; b = (i * 7) % 9; s = "";
         for (k = 0; k < 6; k++) s = s (k ? " " : "") (rand() < 0.5 ? "w" a "_" int(rand() * 3) : "w" b "_" int(rand() * 3));
         print "l" a (a != b ? ",l" b : "") "\t" s } }' > tags.tsv
train() { "$bin" --threads "$1" train --epochs 3 --batch-size 2 --lr 0.5 --seed 4 -q "${@:2}"; }

train 1 --data topics.tsv --loss squared_hinge --save h1.bin; check "squared hinge, 1 thread" $?
train 2 --data topics.tsv --loss squared_hinge --save h2.bin; check "squared hinge, 2 threads" $?
cmp -s h1.bin h2.bin; check "squared hinge: 2 threads (2 slices) write the 1-thread model byte for byte" $?
train 2 --data topics.tsv --loss squared_hinge --slices 5 --save h5.bin
cmp -s h1.bin h5.bin; check "--slices 5: the same model" $?
train 2 --data topics.tsv --loss squared_hinge --slices 1 --save hoff.bin
cmp -s h1.bin hoff.bin; check "--slices 1 (off): the same model" $?
train 2 --data topics.tsv --loss squared_hinge --json > j2.json
grep -q '"slices":2' j2.json; check "--json reports 2 slices on 2 threads" $?
train 1 --data topics.tsv --loss squared_hinge --json > j1.json
grep -q '"slices":1' j1.json; check "--json reports 1 slice on 1 thread" $?
train 2 --data topics.tsv --model softmax --slices 3 --json > js.json
grep -q '"slices":1' js.json; check "softmax (its loss couples the outputs) takes no slices" $?

train 1 --data tags.tsv --loss ova --save o1.bin; check "multilabel ova, 1 thread" $?
train 2 --data tags.tsv --loss ova --slices 3 --save o3.bin
cmp -s o1.bin o3.bin; check "multilabel ova in 3 slices: the 1-thread model" $?

# LIBSVM, with a checkpoint every 50 batches (mid-epoch: 240 batches an epoch), then a resume from the
# last one (the end: its model and state read back).
"$bin" train --data topics.tsv --epochs 0 --write-features feats -q > /dev/null; check "features written" $?
train 1 --data feats/train.svm --loss squared_hinge --save l1.bin; check "LIBSVM, 1 thread" $?
train 2 --data feats/train.svm --loss squared_hinge --checkpoint ck --checkpoint-every 50 --save l2.bin
cmp -s l1.bin l2.bin; check "LIBSVM, 2 threads with checkpoints: the 1-thread model" $?
train 2 --data feats/train.svm --loss squared_hinge --resume ck --save l3.bin
cmp -s l1.bin l3.bin; check "resumed on 2 threads from the last checkpoint: the 1-thread model" $?

expect_code "--slices -1" 2 train 2 --data topics.tsv --slices -1
expect_code "--slices 257" 2 train 2 --data topics.tsv --slices 257
expect_code "--slices with --workers" 2 train 2 --data topics.tsv --slices 2 --workers 2
grep -q "field 'slices'" err; check "--slices with --workers names the flag" $?
expect_code "--slices on dense data" 2 train 2 --data iris --slices 2
grep -q "field 'slices'" err; check "--slices on dense data names the flag" $?
finish
