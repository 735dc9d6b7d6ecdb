/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The snapshot byte format (snap.h): varint tags and lengths, LEB128
 * numbers, a SipHash checksum at the end. */
#include <string.h>

#include "../common/alloc.h"
#include "../common/siphash.h"
#include "snap.h"

/* A fixed, public key: the checksum finds corruption and truncation; it is
 * no protection against someone who can write the store (sealing protects
 * the secrets, and a store's access control the rest). */
static const uint8_t checksum_key_bytes[16] = { 's', 'i', 'p', 'r', 'e', 'c', '-', 's',
                                                'n', 'a', 'p', 's', 'h', 'o', 't', '1' };

static uint64_t checksum(const void *p, size_t n)
{
  return sr_siphash24(sr_siphash_key_from_bytes(checksum_key_bytes), p, n);
}

void sr_snap_w_init(sr_snap_w *w, const siprec_allocator *mem)
{
  memset(w, 0, sizeof *w);
  w->mem = *mem;
}

void sr_snap_w_free(sr_snap_w *w)
{
  if (w->p)
    sr_free(&w->mem, w->p);
  w->p = NULL;
  w->len = w->cap = 0;
}

static int reserve(sr_snap_w *w, size_t n)
{
  if (w->err)
    return -1;
  if (n > SR_SNAP_MAX || w->len > SR_SNAP_MAX - n) {
    w->err = SIPREC_ETOOBIG;
    return -1;
  }
  if (w->len + n <= w->cap)
    return 0;
  size_t cap = w->cap ? w->cap : 256;
  while (cap < w->len + n)
    cap *= 2;
  uint8_t *p = w->p ? sr_realloc(&w->mem, w->p, cap) : sr_malloc(&w->mem, cap);
  if (!p) {
    w->err = SIPREC_ENOMEM;
    return -1;
  }
  w->p = p;
  w->cap = cap;
  return 0;
}

uint8_t *sr_snap_extend(sr_snap_w *w, size_t n)
{
  if (n == 0 || reserve(w, n))
    return NULL;
  uint8_t *at = w->p + w->len;
  w->len += n;
  return at;
}

void sr_snap_append(sr_snap_w *w, const void *p, size_t n)
{
  uint8_t *at = n ? sr_snap_extend(w, n) : NULL;
  if (at)
    memcpy(at, p, n);
}

/* LEB128: 7 bits a byte, the high bit set on all but the last. */
static size_t encode_varint(uint8_t b[10], uint64_t v)
{
  size_t n = 0;
  do {
    b[n] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v)
      b[n] |= 0x80;
    n++;
  } while (v);
  return n;
}

static void put_varint(sr_snap_w *w, uint64_t v)
{
  uint8_t b[10];
  sr_snap_append(w, b, encode_varint(b, v));
}

void sr_snap_begin(sr_snap_w *w)
{
  sr_snap_append(w, SR_SNAP_MAGIC, SR_SNAP_MAGIC_LEN);
  uint8_t version = SR_SNAP_VERSION;
  sr_snap_append(w, &version, 1);
}

int sr_snap_end(sr_snap_w *w)
{
  if (!w->err && w->len == 0)
    w->err = SIPREC_EINVAL; /* not even a header */
  if (w->err)
    return w->err;
  uint64_t sum = checksum(w->p, w->len);
  uint8_t b[SR_SNAP_TRAILER_LEN];
  for (int i = 0; i < SR_SNAP_TRAILER_LEN; i++)
    b[i] = (uint8_t)(sum >> (8 * i));
  sr_snap_append(w, b, sizeof b);
  return w->err;
}

void sr_snap_put_bytes(sr_snap_w *w, unsigned tag, const void *p, size_t n)
{
  put_varint(w, tag);
  put_varint(w, n);
  sr_snap_append(w, p, n);
}

void sr_snap_put_u64(sr_snap_w *w, unsigned tag, uint64_t v)
{
  uint8_t b[10];
  sr_snap_put_bytes(w, tag, b, encode_varint(b, v));
}

void sr_snap_put_i64(sr_snap_w *w, unsigned tag, int64_t v)
{
  /* Zigzag: small negative numbers stay short. */
  sr_snap_put_u64(w, tag, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void sr_snap_put_str(sr_snap_w *w, unsigned tag, const char *s)
{
  if (s)
    sr_snap_put_bytes(w, tag, s, strlen(s));
}

void sr_snap_put_sub(sr_snap_w *w, unsigned tag, const sr_snap_w *sub)
{
  if (sub->err && !w->err)
    w->err = sub->err;
  sr_snap_put_bytes(w, tag, sub->p, sub->len);
}

void sr_snap_put_time(sr_snap_w *w, unsigned tag, uint64_t t, uint64_t now)
{
  if (t == 0)
    return; /* the default */
  if (t == UINT64_MAX) {
    sr_snap_put_u64(w, tag, 1);
    return;
  }
  int64_t off = (int64_t)(t - now);
  uint64_t z = ((uint64_t)off << 1) ^ (uint64_t)(off >> 63);
  sr_snap_put_u64(w, tag, z + 2 < z ? UINT64_MAX : z + 2);
}

int sr_snap_get_time(const sr_snap_val *v, uint64_t base, uint64_t *out)
{
  uint64_t z;
  if (sr_snap_u64(v, UINT64_MAX, &z))
    return SIPREC_EPARSE;
  if (z <= 1) {
    *out = z ? UINT64_MAX : 0;
    return 0;
  }
  z -= 2;
  int64_t off = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
  uint64_t t = base + (uint64_t)off;
  /* A deadline before the clock's start is simply due; 0 and UINT64_MAX
   * keep their meanings. */
  if (off < 0 && (uint64_t)-off >= base)
    t = 1;
  if (t == 0 || t == UINT64_MAX)
    t = 1;
  *out = t;
  return 0;
}

/* ---------------------------------------------------------------------- */

static int get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
  const uint8_t *p = *pp;
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (p >= end)
      return SIPREC_EPARSE;
    uint8_t b = *p++;
    if (shift == 63 && (b & 0x7e))
      return SIPREC_EPARSE; /* past 64 bits */
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *pp = p;
      *out = v;
      return 0;
    }
  }
  return SIPREC_EPARSE;
}

int sr_snap_open(sr_snap_r *r, const void *data, size_t len, unsigned *version)
{
  const uint8_t *p = data;
  if (!p || len < SR_SNAP_HEADER_LEN + SR_SNAP_TRAILER_LEN ||
      memcmp(p, SR_SNAP_MAGIC, SR_SNAP_MAGIC_LEN) != 0)
    return SIPREC_EPARSE;
  if (len > SR_SNAP_MAX + SR_SNAP_TRAILER_LEN)
    return SIPREC_ETOOBIG;
  unsigned v = p[SR_SNAP_MAGIC_LEN];
  if (v == 0)
    return SIPREC_EPARSE;
  if (v > SR_SNAP_VERSION)
    return SIPREC_ETOOBIG;
  size_t body = len - SR_SNAP_TRAILER_LEN;
  uint64_t sum = 0;
  for (int i = 0; i < SR_SNAP_TRAILER_LEN; i++)
    sum |= (uint64_t)p[body + (size_t)i] << (8 * i);
  if (sum != checksum(p, body))
    return SIPREC_EPARSE;
  r->p = p + SR_SNAP_HEADER_LEN;
  r->end = p + body;
  if (version)
    *version = v;
  return 0;
}

sr_snap_r sr_snap_sub(const sr_snap_val *v)
{
  sr_snap_r r = { v->p, v->len ? v->p + v->len : v->p };
  return r;
}

int sr_snap_next(sr_snap_r *r, unsigned *tag, sr_snap_val *v)
{
  if (r->p >= r->end)
    return 0;
  uint64_t t, n;
  if (get_varint(&r->p, r->end, &t) || t > 0xffff || get_varint(&r->p, r->end, &n) ||
      n > (uint64_t)(r->end - r->p)) {
    r->p = r->end;
    return SIPREC_EPARSE;
  }
  *tag = (unsigned)t;
  v->p = r->p;
  v->len = (size_t)n;
  r->p += n;
  return 1;
}

int sr_snap_each(const sr_snap_val *list, sr_snap_field_fn fn, void *ctx)
{
  sr_snap_r r = sr_snap_sub(list);
  unsigned tag;
  sr_snap_val v;
  int rc;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    int e = fn(ctx, tag, &v);
    if (e)
      return e;
  }
  return rc;
}

int sr_snap_u64(const sr_snap_val *v, uint64_t max, uint64_t *out)
{
  const uint8_t *p = v->p;
  uint64_t x;
  if (v->len == 0 || get_varint(&p, v->p + v->len, &x) || p != v->p + v->len || x > max)
    return SIPREC_EPARSE;
  *out = x;
  return 0;
}

int sr_snap_i64(const sr_snap_val *v, int64_t *out)
{
  uint64_t z;
  int rc = sr_snap_u64(v, UINT64_MAX, &z);
  if (rc)
    return rc;
  *out = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
  return 0;
}

int sr_snap_u32(const sr_snap_val *v, uint32_t *out)
{
  uint64_t x;
  int rc = sr_snap_u64(v, UINT32_MAX, &x);
  if (!rc)
    *out = (uint32_t)x;
  return rc;
}

int sr_snap_u16(const sr_snap_val *v, uint16_t *out)
{
  uint64_t x;
  int rc = sr_snap_u64(v, UINT16_MAX, &x);
  if (!rc)
    *out = (uint16_t)x;
  return rc;
}

int sr_snap_u8(const sr_snap_val *v, uint8_t *out)
{
  uint64_t x;
  int rc = sr_snap_u64(v, UINT8_MAX, &x);
  if (!rc)
    *out = (uint8_t)x;
  return rc;
}

int sr_snap_int(const sr_snap_val *v, int min, int max, int *out)
{
  int64_t x;
  int rc = sr_snap_i64(v, &x);
  if (rc || x < min || x > max)
    return SIPREC_EPARSE;
  *out = (int)x;
  return 0;
}

int sr_snap_strcpy(const sr_snap_val *v, char *out, size_t size)
{
  if (v->len >= size || memchr(v->p, '\0', v->len))
    return SIPREC_EPARSE;
  if (v->len)
    memcpy(out, v->p, v->len);
  out[v->len] = '\0';
  return 0;
}

int sr_snap_strdup(const sr_snap_val *v, const siprec_allocator *mem, char **out)
{
  if (v->len && memchr(v->p, '\0', v->len))
    return SIPREC_EPARSE;
  char *s = sr_malloc(mem, v->len + 1);
  if (!s)
    return SIPREC_ENOMEM;
  if (v->len)
    memcpy(s, v->p, v->len);
  s[v->len] = '\0';
  if (*out)
    sr_free(mem, *out);
  *out = s;
  return 0;
}
