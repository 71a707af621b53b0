/* glove_ref.c: a straightforward plain-C GloVe training loop, the comparison point of
 * bench/glove_bench.py. It is not part of adakit and is compiled by the bench script only.
 *
 * The loop is the reference trainer's (stanfordnlp/GloVe src/glove.c, written here from its
 * description, not copied): for each co-occurrence record (int32 word1, int32 word2, float64 X),
 *   diff = w_i . c_j + b_i + b~_j - log X,  fdiff = (X > x_max ? 1 : (X / x_max)^alpha) * diff,
 *   cost += 0.5 fdiff diff,
 *   vector components: t = clip(fdiff * other, +-grad_clip) * eta; step t / sqrt(G); then G += t^2
 *   (the step is dropped when the row's update sum is not finite),
 *   biases: b -= fdiff / sqrt(G_b) (0 if not finite); G_b += fdiff^2,
 * with parameters and accumulators (initialised to 1) in one array of 2 V (d + 1) doubles: word rows
 * then context rows, each [vector, bias]. Threads (pthreads, created every iteration) update the
 * shared array without locks, thread t taking records [n/T t, n/T t + n/T) and the last the rest,
 * in file order. The records are read into memory before timing (glove.c reads them from the file in
 * every iteration); log and pow are evaluated per record per iteration, as glove.c does.
 *
 *   glove_ref -input-file F -init-file I -vocab-size V [-iter N] [-threads T] [-eta E] [-alpha A]
 *             [-x-max X] [-grad-clip C] [-save-file OUT]
 *
 * -init-file holds the initial parameters (2 V (d + 1) doubles, adakit's vectors.bin layout); d is
 * taken from its size. Prints one line per iteration ("iter: 001, cost: ..., seconds: ...") to stderr
 * and a JSON summary to stdout. Build: cc -O3 -march=native -funroll-loops glove_ref.c -lm -pthread
 * (the reference Makefile's flags).
 */
#define _FILE_OFFSET_BITS 64
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int32_t word1;
  int32_t word2;
  double val;
} record_t;

static record_t *records;
static long long num_records, vocab_size;
static int dim, num_threads = 1, num_iter = 25;
static double eta = 0.05, alpha = 0.75, x_max = 100.0, grad_clip = 100.0;
static double *W, *gradsq, *thread_cost;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double clip(double v) { return fmin(fmax(v, -grad_clip), grad_clip); }

static void *train_thread(void *arg) {
  long long id = (long long)(intptr_t)arg;
  long long share = num_records / num_threads;
  long long begin = share * id;
  long long len = id == num_threads - 1 ? num_records - begin : share;
  long long a, b, l1, l2, row = dim + 1;
  double *up1 = malloc(sizeof(double) * (size_t)dim), *up2 = malloc(sizeof(double) * (size_t)dim);
  double cost = 0;
  for (a = begin; a < begin + len; a++) {
    const record_t *r = &records[a];
    double diff = 0, fdiff, s1 = 0, s2 = 0, t1, t2, bu;
    l1 = (r->word1 - 1LL) * row;
    l2 = (r->word2 - 1LL + vocab_size) * row;
    for (b = 0; b < dim; b++) diff += W[l1 + b] * W[l2 + b];
    diff += W[l1 + dim] + W[l2 + dim] - log(r->val);
    fdiff = r->val > x_max ? diff : pow(r->val / x_max, alpha) * diff;
    if (!isfinite(diff) || !isfinite(fdiff)) continue;
    cost += 0.5 * fdiff * diff;
    for (b = 0; b < dim; b++) {
      t1 = clip(fdiff * W[l2 + b]) * eta;
      t2 = clip(fdiff * W[l1 + b]) * eta;
      up1[b] = t1 / sqrt(gradsq[l1 + b]);
      up2[b] = t2 / sqrt(gradsq[l2 + b]);
      s1 += up1[b];
      s2 += up2[b];
      gradsq[l1 + b] += t1 * t1;
      gradsq[l2 + b] += t2 * t2;
    }
    if (isfinite(s1) && isfinite(s2)) {
      for (b = 0; b < dim; b++) {
        W[l1 + b] -= up1[b];
        W[l2 + b] -= up2[b];
      }
    }
    bu = fdiff / sqrt(gradsq[l1 + dim]);
    W[l1 + dim] -= isfinite(bu) ? bu : 0.0;
    bu = fdiff / sqrt(gradsq[l2 + dim]);
    W[l2 + dim] -= isfinite(bu) ? bu : 0.0;
    gradsq[l1 + dim] += fdiff * fdiff;
    gradsq[l2 + dim] += fdiff * fdiff;
  }
  thread_cost[id] = cost;
  free(up1);
  free(up2);
  return NULL;
}

static long long file_size(FILE *f) {
  fseeko(f, 0, SEEK_END);
  long long n = (long long)ftello(f);
  fseeko(f, 0, SEEK_SET);
  return n;
}

static const char *arg(int argc, char **argv, const char *name, const char *fallback) {
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

int main(int argc, char **argv) {
  const char *input = arg(argc, argv, "-input-file", NULL), *init = arg(argc, argv, "-init-file", NULL);
  const char *save = arg(argc, argv, "-save-file", NULL);
  vocab_size = atoll(arg(argc, argv, "-vocab-size", "0"));
  num_iter = atoi(arg(argc, argv, "-iter", "25"));
  num_threads = atoi(arg(argc, argv, "-threads", "1"));
  eta = atof(arg(argc, argv, "-eta", "0.05"));
  alpha = atof(arg(argc, argv, "-alpha", "0.75"));
  x_max = atof(arg(argc, argv, "-x-max", "100"));
  grad_clip = atof(arg(argc, argv, "-grad-clip", "100"));
  if (!input || !init || vocab_size < 1 || num_threads < 1) {
    fprintf(stderr, "usage: glove_ref -input-file F -init-file I -vocab-size V [-iter N] [-threads T] ...\n");
    return 2;
  }
  FILE *f = fopen(input, "rb");
  if (!f) { perror(input); return 1; }
  long long bytes = file_size(f);
  if (bytes % (long long)sizeof(record_t)) { fprintf(stderr, "%s: truncated\n", input); return 1; }
  num_records = bytes / (long long)sizeof(record_t);
  records = malloc((size_t)bytes);
  if ((long long)fread(records, sizeof(record_t), (size_t)num_records, f) != num_records) { perror(input); return 1; }
  fclose(f);

  f = fopen(init, "rb");
  if (!f) { perror(init); return 1; }
  bytes = file_size(f);
  long long per_dim = 2 * vocab_size * (long long)sizeof(double);
  if (bytes % per_dim || bytes / per_dim < 2) { fprintf(stderr, "%s: size does not fit the vocabulary\n", init); return 1; }
  dim = (int)(bytes / per_dim - 1);
  long long n = bytes / (long long)sizeof(double);
  W = malloc((size_t)bytes);
  gradsq = malloc((size_t)bytes);
  if ((long long)fread(W, sizeof(double), (size_t)n, f) != n) { perror(init); return 1; }
  fclose(f);
  for (long long a = 0; a < n; a++) gradsq[a] = 1.0;

  thread_cost = calloc((size_t)num_threads, sizeof(double));
  pthread_t *pt = malloc(sizeof(pthread_t) * (size_t)num_threads);
  double *costs = malloc(sizeof(double) * (size_t)(num_iter > 0 ? num_iter : 1));
  double *secs = malloc(sizeof(double) * (size_t)(num_iter > 0 ? num_iter : 1));
  double total = 0;
  for (int it = 0; it < num_iter; it++) {
    double t0 = now(), c = 0;
    for (long long t = 0; t < num_threads; t++) pthread_create(&pt[t], NULL, train_thread, (void *)(intptr_t)t);
    for (long long t = 0; t < num_threads; t++) pthread_join(pt[t], NULL);
    for (int t = 0; t < num_threads; t++) c += thread_cost[t];
    costs[it] = c / (double)num_records;
    secs[it] = now() - t0;
    total += secs[it];
    fprintf(stderr, "iter: %03d, cost: %lf, seconds: %.3f\n", it + 1, costs[it], secs[it]);
  }
  if (save) {
    f = fopen(save, "wb");
    if (!f || fwrite(W, sizeof(double), (size_t)n, f) != (size_t)n) { perror(save); return 1; }
    fclose(f);
  }
  printf("{\"records\": %lld, \"vector_size\": %d, \"threads\": %d, \"iterations\": %d, \"train_seconds\": %.6f, "
         "\"epochs_per_second\": %.6f, \"final_cost\": %.12g, \"costs\": [",
         num_records, dim, num_threads, num_iter, total, total > 0 ? num_iter / total : 0.0,
         num_iter > 0 ? costs[num_iter - 1] : 0.0);
  for (int it = 0; it < num_iter; it++) printf("%s%.12g", it ? ", " : "", costs[it]);
  printf("]}\n");
  return 0;
}
