/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A persistent hash map from keys to 32-bit values (record indexes): a hash
 * array mapped trie over the key's 64-bit SipHash, 32-way nodes compressed
 * by a bitmap, shared between snapshots like the vectors (pvec.h). The map
 * does not hold keys: the caller compares a value's key (`eq`) and hashes
 * it again when two values must be told apart deeper (`rehash`). */
#ifndef SR_METADATA_HAMT_H
#define SR_METADATA_HAMT_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

typedef struct md_hnode md_hnode;

typedef struct md_hamt {
  md_hnode *root;
} md_hamt;

#define MD_HAMT_NONE UINT32_MAX

/* Whether value `v` has the key searched for. */
typedef int (*md_hamt_eq)(const void *ctx, uint32_t v);
/* The hash of value `v`'s key. */
typedef uint64_t (*md_hamt_rehash)(const void *ctx, uint32_t v);

/* The value whose key has hash `h` and satisfies `eq`, or MD_HAMT_NONE. */
uint32_t md_hamt_find(const md_hamt *t, uint64_t h, md_hamt_eq eq, const void *ctx);
/* Insert value `v` (< MD_HAMT_NONE) with hash `h`; its key must be absent.
 * 0 or SIPREC_ENOMEM (the map stays whole, without `v`). */
int md_hamt_add(const siprec_allocator *mem, uint64_t owner, md_hamt *t, uint64_t h, uint32_t v,
                md_hamt_rehash rehash, const void *ctx);
md_hamt md_hamt_share(const md_hamt *t);
void md_hamt_drop(const siprec_allocator *mem, md_hamt *t);

#endif
