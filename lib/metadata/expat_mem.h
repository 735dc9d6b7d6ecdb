/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Expat's memory through the host's allocator hook. Expat's memory suite
 * passes no user pointer, so the hook of the parse under way is found in a
 * thread-local slot: every expat call that may allocate or free must run
 * between md_expat_begin() and md_expat_end() on the same thread. */
#ifndef SR_METADATA_EXPAT_MEM_H
#define SR_METADATA_EXPAT_MEM_H

#include <expat.h>

#include <siprec/common.h>

typedef struct md_expat_mem {
  const siprec_allocator *mem;
  int failed; /* an allocation failed, whatever expat then reported */
  struct md_expat_mem *prev;
} md_expat_mem;

void md_expat_begin(md_expat_mem *m, const siprec_allocator *mem);
void md_expat_end(md_expat_mem *m);

/* XML_ParserCreate_MM with namespace processing and the hook. */
XML_Parser md_expat_create(char ns_sep);

#endif
