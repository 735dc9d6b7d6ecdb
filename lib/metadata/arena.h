/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A string arena: the strings of one model live in a few large chunks that
 * never move, so records hold plain pointers and a model is freed in a few
 * calls however many strings it has. */
#ifndef SR_METADATA_ARENA_H
#define SR_METADATA_ARENA_H

#include <stddef.h>

#include <siprec/common.h>

typedef struct md_chunk md_chunk;

typedef struct md_arena {
  md_chunk *head;
  char *cur;
  size_t left;
  size_t next; /* size of the next chunk */
  size_t bytes; /* of all its chunks */
} md_arena;

/* An empty arena whose first chunk will hold at least `hint` bytes. */
void md_arena_init(md_arena *a, size_t hint);
void md_arena_free(const siprec_allocator *mem, md_arena *a);

/* A NUL-terminated copy of p[0..n) in the arena, or NULL (no memory). */
char *md_arena_strndup(const siprec_allocator *mem, md_arena *a, const char *p, size_t n);

/* About `n` more bytes will be asked: the next chunk holds what the current
 * one cannot, rather than doubling. */
void md_arena_expect(md_arena *a, size_t n);

/* `n` bytes aligned for any pointer or 32-bit value, or NULL. */
void *md_arena_alloc(const siprec_allocator *mem, md_arena *a, size_t n);

#endif
