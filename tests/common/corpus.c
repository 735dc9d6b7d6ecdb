/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "corpus.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *corpus_dir(void)
{
  static char dir[4096];
  const char *shared = getenv("SIPREC_SHARED");
  snprintf(dir, sizeof dir, "%s/corpus", shared ? shared : "../shared");
  return dir;
}

const char *torture_dir(void)
{
  static char dir[4096];
  const char *data = getenv("SIPREC_TEST_DATA");
  snprintf(dir, sizeof dir, "%s/torture", data ? data : "tests/data");
  return dir;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_sample(const struct dirent *e)
{
  size_t n = strlen(e->d_name);
  return n > 4 && strcmp(e->d_name + n - 4, ".sip") == 0;
}

int folder_each(const char *dir,
                int (*fn)(const char *dir, const char *file, const char *stem, void *user),
                void *user)
{
  struct dirent **list;
  int n = scandir(dir, &list, is_sample, by_name);
  if (n < 0)
    return -1;
  int sum = 0;
  for (int i = 0; i < n; i++) {
    char stem[256];
    size_t len = strlen(list[i]->d_name) - 4;
    snprintf(stem, sizeof stem, "%.*s", (int)(len < sizeof stem ? len : sizeof stem - 1),
             list[i]->d_name);
    sum += fn(dir, list[i]->d_name, stem, user);
    free(list[i]);
  }
  free(list);
  return sum;
}

int corpus_each(int (*fn)(const char *dir, const char *file, const char *stem, void *user),
                void *user)
{
  return folder_each(corpus_dir(), fn, user);
}
