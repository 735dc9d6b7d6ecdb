/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main() for fuzz harnesses built without libFuzzer: runs every file of the
 * corpus directory given as argv[1] (and any further files or directories)
 * through LLVMFuzzerTestOneInput, then a deterministic xorshift stream of
 * generated inputs of varied size (some of them mutated corpus files). A
 * failed check traps; exit status 0 means every input passed.
 *
 * SIPREC_FUZZ_ITERATIONS overrides the number of generated inputs;
 * SIPREC_FUZZ_SAVE=FILE writes each generated input to FILE before running
 * it, so the one that trapped can be replayed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct blob {
  uint8_t *data;
  size_t size;
} blob;

static blob *corpus;
static size_t ncorpus, capcorpus;

static int read_file(const char *path, blob *out)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return -1;
  }
  for (;;) {
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    return -1;
  }
  out->data = buf;
  out->size = n;
  return 0;
}

static int add_file(const char *path)
{
  blob b;
  if (read_file(path, &b) < 0) {
    fprintf(stderr, "cannot read %s\n", path);
    return -1;
  }
  if (ncorpus == capcorpus) {
    size_t cap = capcorpus ? capcorpus * 2 : 64;
    blob *nc = realloc(corpus, cap * sizeof *nc);
    if (!nc) {
      free(b.data);
      return -1;
    }
    corpus = nc;
    capcorpus = cap;
  }
  corpus[ncorpus++] = b;
  return 0;
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of a directory, in name order (reproducible runs). */
static int add_dir(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "cannot open %s\n", dir);
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) {
        rc = -1;
        break;
      }
      names = nn;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    names[n] = malloc(len);
    if (!names[n]) {
      rc = -1;
      break;
    }
    snprintf(names[n], len, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (rc == 0) {
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == 0; i++) {
      struct stat st;
      if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
        rc = add_file(names[i]);
    }
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t next_rand(void)
{
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng_state = x;
}

static int save_input(const char *path, const uint8_t *data, size_t size)
{
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    return 0;
  }
  return 1;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR [FILE|DIR]...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) < 0) {
      fprintf(stderr, "cannot stat %s\n", argv[i]);
      return 2;
    }
    if ((S_ISDIR(st.st_mode) ? add_dir(argv[i]) : add_file(argv[i])) < 0)
      return 2;
  }
  size_t corpus_bytes = 0;
  for (size_t i = 0; i < ncorpus; i++) {
    LLVMFuzzerTestOneInput(corpus[i].data, corpus[i].size);
    corpus_bytes += corpus[i].size;
  }

  unsigned long iterations = 20000;
  const char *env = getenv("SIPREC_FUZZ_ITERATIONS");
  if (env && *env)
    iterations = strtoul(env, NULL, 10);

  const char *save = getenv("SIPREC_FUZZ_SAVE");
  enum { MAX_GEN = 8192 };
  uint8_t *buf = malloc(MAX_GEN);
  if (!buf)
    return 2;
  size_t gen_bytes = 0;
  for (unsigned long it = 0; it < iterations; it++) {
    uint64_t r = next_rand();
    /* Mostly short inputs, some long ones. */
    size_t size;
    switch (r & 7) {
    case 0: size = (size_t)(r >> 8) % 8; break;
    case 1:
    case 2:
    case 3: size = (size_t)(r >> 8) % 64; break;
    case 4:
    case 5: size = (size_t)(r >> 8) % 512; break;
    case 6: size = (size_t)(r >> 8) % 2048; break;
    default: size = (size_t)(r >> 8) % MAX_GEN; break;
    }
    if (ncorpus && ((r >> 40) & 3) == 0) {
      /* A corpus file with a few bytes flipped and maybe a random tail. */
      const blob *b = &corpus[(r >> 42) % ncorpus];
      size_t keep = b->size < MAX_GEN ? b->size : MAX_GEN;
      memcpy(buf, b->data, keep);
      for (size_t i = keep; i < size; i++)
        buf[i] = (uint8_t)next_rand();
      if (size < keep)
        size = keep;
      unsigned flips = 1 + (unsigned)(next_rand() % 4);
      for (unsigned f = 0; f < flips && size > 1; f++)
        buf[1 + next_rand() % (size - 1)] ^= (uint8_t)(1u << (next_rand() % 8));
    } else {
      for (size_t i = 0; i < size; i += 8) {
        uint64_t w = next_rand();
        size_t n = size - i < 8 ? size - i : 8;
        memcpy(buf + i, &w, n);
      }
    }
    if (save && !save_input(save, buf, size))
      return 2;
    LLVMFuzzerTestOneInput(buf, size);
    gen_bytes += size;
  }
  free(buf);
  for (size_t i = 0; i < ncorpus; i++)
    free(corpus[i].data);
  free(corpus);
  printf("%s: %zu corpus inputs (%zu bytes), %lu generated inputs (%zu bytes): all passed\n",
         argv[0], ncorpus, corpus_bytes, iterations, gen_bytes);
  return 0;
}
