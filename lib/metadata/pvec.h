/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Persistent vectors of pointers: a radix tree of 32-way nodes shared
 * between snapshots. Setting or appending an element copies only the nodes
 * on its path (O(log32 n)), so a merge costs what it touches, not the size
 * of the model. Nodes made during one build (same owner token) are changed
 * in place, so a build touching k elements copies each node once. */
#ifndef SR_METADATA_PVEC_H
#define SR_METADATA_PVEC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

typedef struct md_pnode md_pnode;

typedef struct md_pvec {
  md_pnode *root;
  size_t n;
  unsigned shift; /* 5 * (levels - 1) */
} md_pvec;

/* A token no earlier build had: the owner of the nodes a build makes. */
uint64_t md_token_new(void);

/* Element i (< v->n). */
void *md_pvec_get(const md_pvec *v, size_t i);
/* Set element i (< v->n) or append (i == v->n). 0 or SIPREC_ENOMEM (then
 * `v` is unchanged and valid). */
int md_pvec_set(const siprec_allocator *mem, uint64_t owner, md_pvec *v, size_t i, void *x);
/* Share `v` (one more reference to its nodes). */
md_pvec md_pvec_share(const md_pvec *v);
/* Drop the vector's reference to its nodes (values are not freed). */
void md_pvec_drop(const siprec_allocator *mem, md_pvec *v);

#endif
