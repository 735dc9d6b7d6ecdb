/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SDP offer/answer for the SRS side (RFC 3264, RFC 7866): see answer.h.
 *
 * Sofia-SIP's sdp_parse() reads the SDP; everything it returns stays inside
 * this file. The answer (and the delayed offer) is written by hand into the
 * caller's buffer.
 *
 * Memory: the only allocations are Sofia-SIP's. sdp_parse() works in a
 * su_home_t, which allocates with the C library's malloc() and cannot be
 * given the host's siprec_allocator; each call creates one home, parses, and
 * releases everything before it returns. Nothing else allocates: results go
 * into the caller's stream array and output buffer, and the scratch tables
 * live on the stack (a few kilobytes). No global state: many threads may
 * answer at once. */
#include "sdp/answer.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "common/random.h"
#include "common/strbuf.h"

/* ---------------------------------------------------------------------- */
/* Small text helpers                                                       */

static int span_ieq(const char *p, size_t n, const char *lit)
{
  size_t l = strlen(lit);
  return n == l && strncasecmp(p, lit, n) == 0;
}

static int is_ws(char c)
{
  return c == ' ' || c == '\t';
}

/* Decimal digits at *s (at most 10), value <= max. Advances *s. */
static int parse_uint(const char **s, unsigned long max, unsigned long *out)
{
  const char *p = *s;
  unsigned long v = 0;
  size_t nd = 0;
  while (*p >= '0' && *p <= '9') {
    if (++nd > 10)
      return -1;
    v = v * 10 + (unsigned long)(*p - '0');
    p++;
  }
  if (nd == 0 || v > max)
    return -1;
  *s = p;
  *out = v;
  return 0;
}

/* Copy a NUL-terminated string into dst[size]; 0, or -1 (dst = "") when it
 * does not fit. */
static int copy_str(char *dst, size_t size, const char *src)
{
  size_t n = strlen(src);
  if (n >= size) {
    dst[0] = '\0';
    return -1;
  }
  memcpy(dst, src, n + 1);
  return 0;
}

/* A token we write into SDP from the configuration: printable, no space. */
static int config_token_ok(const char *s)
{
  if (!s || !*s)
    return 0;
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
      return 0;
  return 1;
}

static void base64_encode(const unsigned char *in, size_t n, char *out)
{
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0, o = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = tab[v >> 6 & 63];
    out[o++] = tab[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)in[i] << 16;
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = '=';
    out[o++] = '=';
  } else if (n - i == 2) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
    out[o++] = tab[v >> 18 & 63];
    out[o++] = tab[v >> 12 & 63];
    out[o++] = tab[v >> 6 & 63];
    out[o++] = '=';
  }
  out[o] = '\0';
}

/* ---------------------------------------------------------------------- */
/* Output buffer                                                            */

static int wb_finish(sr_strbuf *b)
{
  if (b->overflow || b->len > INT_MAX) {
    if (b->cap)
      b->p[0] = '\0';
    return SIPREC_ETOOBIG;
  }
  return (int)b->len;
}

/* ---------------------------------------------------------------------- */
/* Codecs                                                                   */

static const char *const default_codecs[] = {"PCMU", "PCMA", "G722", "opus", NULL};

static const char *const *codec_list(const sr_sdp_config *cfg)
{
  return cfg->codecs ? cfg->codecs : default_codecs;
}

/* Rank of an encoding name in the accepted list, or -1. telephone-event is
 * never a codec, even when the configuration names it. */
static int codec_rank(const sr_sdp_config *cfg, const char *enc, size_t n)
{
  const char *const *l = codec_list(cfg);
  if (n == 0 || n >= SR_SDP_CODEC_MAX || span_ieq(enc, n, "telephone-event"))
    return -1;
  for (int i = 0; l[i] && i < 64; i++)
    if (span_ieq(enc, n, l[i]))
      return i;
  return -1;
}

/* What one payload type of an m= line stands for. */
typedef struct fmt_info {
  const char *enc; /* encoding name (not NUL-terminated), NULL when unknown */
  size_t enc_len;
  unsigned long rate;
  unsigned channels;  /* 0 when the rtpmap gives none */
  const char *fmtp;   /* NUL-terminated, NULL when none */
  unsigned char present;
  unsigned char mapped;
} fmt_info;

typedef struct fmt_table {
  fmt_info pt[128];
  unsigned char order[128]; /* distinct payload types in m= line order */
  size_t n;
} fmt_table;

static void static_pt(fmt_info *f, unsigned pt)
{
  static const struct {
    const char *name;
    unsigned long rate;
  } tab[] = {[0] = {"PCMU", 8000}, [3] = {"GSM", 8000},  [4] = {"G723", 8000},
             [8] = {"PCMA", 8000}, [9] = {"G722", 8000}, [13] = {"CN", 8000},
             [18] = {"G729", 8000}};
  if (pt < sizeof tab / sizeof tab[0] && tab[pt].name) {
    f->enc = tab[pt].name;
    f->enc_len = strlen(tab[pt].name);
    f->rate = tab[pt].rate;
    f->channels = 0;
    f->mapped = 1;
  }
}

/* "<pt> <enc>/<rate>[/<channels>]" */
static void parse_rtpmap_value(fmt_table *t, const char *v)
{
  unsigned long pt, rate, ch = 0;
  if (!v || parse_uint(&v, 127, &pt) < 0 || !is_ws(*v))
    return;
  fmt_info *f = &t->pt[pt];
  if (!f->present || f->mapped)
    return;
  while (is_ws(*v))
    v++;
  const char *enc = v;
  while (*v && *v != '/' && !is_ws(*v))
    v++;
  size_t enc_len = (size_t)(v - enc);
  if (enc_len == 0 || *v != '/')
    return;
  v++;
  if (parse_uint(&v, UINT32_MAX, &rate) < 0)
    return;
  if (*v == '/') {
    v++;
    if (parse_uint(&v, 255, &ch) < 0)
      ch = 0;
  }
  f->enc = enc;
  f->enc_len = enc_len;
  f->rate = rate;
  f->channels = (unsigned)ch;
  f->mapped = 1;
}

static void parse_fmtp_value(fmt_table *t, const char *v)
{
  unsigned long pt;
  if (!v || parse_uint(&v, 127, &pt) < 0)
    return;
  fmt_info *f = &t->pt[pt];
  if (!f->present || f->fmtp)
    return;
  while (is_ws(*v))
    v++;
  f->fmtp = v;
}

static int proto_is_rtp(const char *proto)
{
  return !strcasecmp(proto, "RTP/AVP") || !strcasecmp(proto, "RTP/AVPF") ||
         !strcasecmp(proto, "RTP/SAVP") || !strcasecmp(proto, "RTP/SAVPF");
}

static int proto_is_srtp(const char *proto)
{
  return !strcasecmp(proto, "RTP/SAVP") || !strcasecmp(proto, "RTP/SAVPF");
}

/* Fill the table of an RTP m= line. Sofia-SIP reads the format list and the
 * rtpmap/fmtp attributes itself for RTP/AVP and RTP/SAVP only; for
 * RTP/AVPF and RTP/SAVPF they stay plain text and are read here. */
static void build_fmt_table(const sdp_media_t *m, fmt_table *t)
{
  memset(t, 0, sizeof *t);
  if (m->m_rtpmaps) {
    for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
      unsigned pt = rm->rm_pt & 127;
      fmt_info *f = &t->pt[pt];
      if (f->present)
        continue;
      f->present = 1;
      t->order[t->n++] = (unsigned char)pt;
      if (rm->rm_encoding && rm->rm_encoding[0]) {
        f->enc = rm->rm_encoding;
        f->enc_len = strlen(rm->rm_encoding);
        f->rate = rm->rm_rate;
        if (f->rate > UINT32_MAX)
          f->enc = NULL, f->enc_len = 0;
        unsigned long ch = 0;
        const char *pp = rm->rm_params;
        if (pp && parse_uint(&pp, 255, &ch) == 0)
          f->channels = (unsigned)ch;
        f->mapped = f->enc != NULL;
      }
      f->fmtp = rm->rm_fmtp;
    }
    return;
  }
  for (const sdp_list_t *l = m->m_format; l; l = l->l_next) {
    const char *s = l->l_text;
    unsigned long pt;
    if (!s || parse_uint(&s, 127, &pt) < 0 || *s)
      continue;
    if (t->pt[pt].present)
      continue;
    t->pt[pt].present = 1;
    t->order[t->n++] = (unsigned char)pt;
  }
  for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next) {
    if (!a->a_name)
      continue;
    if (!strcasecmp(a->a_name, "rtpmap"))
      parse_rtpmap_value(t, a->a_value);
    else if (!strcasecmp(a->a_name, "fmtp"))
      parse_fmtp_value(t, a->a_value);
  }
  for (size_t i = 0; i < t->n; i++)
    if (!t->pt[t->order[i]].mapped)
      static_pt(&t->pt[t->order[i]], t->order[i]);
}

/* ---------------------------------------------------------------------- */
/* Attributes                                                               */

static const sdp_attribute_t *find_attr(const sdp_attribute_t *a, const char *name)
{
  for (; a; a = a->a_next)
    if (a->a_name && !strcasecmp(a->a_name, name))
      return a;
  return NULL;
}

/* The first direction attribute of a list. a=direction:both (an obsolete
 * COMEDIA attribute some SRCs still send) is not one. */
static int find_dir(const sdp_attribute_t *a, sr_sdp_dir *out)
{
  for (; a; a = a->a_next) {
    if (!a->a_name)
      continue;
    if (!strcasecmp(a->a_name, "sendrecv"))
      *out = SR_SDP_SENDRECV;
    else if (!strcasecmp(a->a_name, "sendonly"))
      *out = SR_SDP_SENDONLY;
    else if (!strcasecmp(a->a_name, "recvonly"))
      *out = SR_SDP_RECVONLY;
    else if (!strcasecmp(a->a_name, "inactive"))
      *out = SR_SDP_INACTIVE;
    else
      continue;
    return 1;
  }
  return 0;
}

static sr_sdp_dir media_dir(const sdp_session_t *s, const sdp_media_t *m)
{
  sr_sdp_dir d = SR_SDP_SENDRECV;
  if (!find_dir(m->m_attributes, &d))
    find_dir(s->sdp_attributes, &d);
  return d;
}

static uint32_t media_ptime(const sdp_session_t *s, const sdp_media_t *m)
{
  const sdp_attribute_t *a = find_attr(m->m_attributes, "ptime");
  if (!a)
    a = find_attr(s->sdp_attributes, "ptime");
  unsigned long v;
  const char *p = a ? a->a_value : NULL;
  if (!p)
    return 0;
  while (is_ws(*p))
    p++;
  if (parse_uint(&p, 100000, &v) < 0)
    return 0;
  return (uint32_t)v;
}

/* c= of the m-line, else of the session. Returns the address or NULL. */
static const sdp_connection_t *media_conn(const sdp_session_t *s, const sdp_media_t *m)
{
  if (m->m_connections)
    return m->m_connections;
  return s->sdp_connection;
}

static int conn_is_hold(const sdp_connection_t *c)
{
  return c && c->c_address && (!strcmp(c->c_address, "0.0.0.0") || !strcmp(c->c_address, "::"));
}

/* ---------------------------------------------------------------------- */
/* SDES (RFC 4568)                                                          */

static const struct {
  const char *name;
  size_t key_bytes; /* master key + salt */
} suites[] = {
  {"AES_CM_128_HMAC_SHA1_80", 30},
  {"AES_CM_128_HMAC_SHA1_32", 30},
  {"AES_256_CM_HMAC_SHA1_80", 46},
  {"AES_256_CM_HMAC_SHA1_32", 46},
};

static size_t b64_len(size_t bytes)
{
  return (bytes + 2) / 3 * 4;
}

static int is_b64(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

/* "a=crypto:<tag> <suite> inline:<key||salt>[|lifetime][|mki:len][;...] [params]".
 * Fills tag, suite and remote key of `st` and returns the key size in bytes,
 * or 0 when the line is unusable. */
static size_t parse_crypto(const char *v, sr_sdp_stream *st)
{
  unsigned long tag;
  if (!v || parse_uint(&v, 999999999, &tag) < 0 || !is_ws(*v))
    return 0;
  while (is_ws(*v))
    v++;
  const char *suite = v;
  while (*v && !is_ws(*v))
    v++;
  size_t suite_len = (size_t)(v - suite);
  size_t si;
  for (si = 0; si < sizeof suites / sizeof suites[0]; si++)
    if (span_ieq(suite, suite_len, suites[si].name))
      break;
  if (si == sizeof suites / sizeof suites[0])
    return 0;
  while (is_ws(*v))
    v++;
  if (strncasecmp(v, "inline:", 7) != 0)
    return 0;
  v += 7;
  const char *key = v;
  while (*v && is_b64(*v))
    v++;
  size_t key_len = (size_t)(v - key);
  if (*v && *v != '|' && *v != ';' && !is_ws(*v))
    return 0;
  if (key_len != b64_len(suites[si].key_bytes) || key_len >= SR_SDP_KEY_MAX)
    return 0;
  st->crypto_tag = (int)tag;
  memcpy(st->crypto_suite, suites[si].name, strlen(suites[si].name) + 1);
  memcpy(st->remote_key, key, key_len);
  st->remote_key[key_len] = '\0';
  return suites[si].key_bytes;
}

static size_t suite_key_bytes(const char *suite)
{
  for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
    if (!strcmp(suite, suites[i].name))
      return suites[i].key_bytes;
  return 0;
}

static int make_key(const sr_sdp_config *cfg, size_t bytes, char *out)
{
  unsigned char k[64];
  int rc = cfg->random ? cfg->random(cfg->random_user, k, bytes) : sr_random_bytes(k, bytes);
  if (rc < 0) {
    explicit_bzero(k, sizeof k);
    return SIPREC_ERANDOM;
  }
  base64_encode(k, bytes, out);
  explicit_bzero(k, sizeof k);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Parsing                                                                  */

typedef struct parsed {
  su_home_t *home;
  sdp_parser_t *parser;
  sdp_session_t *sdp;
  size_t n_media;
} parsed;

static void parsed_free(parsed *p)
{
  if (p->parser)
    sdp_parser_free(p->parser);
  if (p->home)
    su_home_unref(p->home);
  p->parser = NULL;
  p->home = NULL;
}

static int is_token_char(unsigned char c)
{
  /* RFC 4566 token: visible ASCII but for the separators. */
  return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]", c);
}

static const char *skip_token(const char *q, const char *eol)
{
  while (q < eol && is_token_char((unsigned char)*q))
    q++;
  return q;
}

static const char *skip_spaces(const char *q, const char *eol)
{
  while (q < eol && *q == ' ')
    q++;
  return q;
}

/* RFC 4566: "m=" media SP port ["/" integer] SP proto 1*(SP fmt), with
 * media and fmt tokens and proto token *("/" token); runs of spaces and
 * trailing spaces are taken. */
static int mline_ok(const char *q, const char *eol)
{
  const char *t = skip_token(q, eol); /* media */
  if (t == q || t == eol || *t != ' ')
    return 0;
  q = skip_spaces(t, eol);
  t = q;
  while (t < eol && *t >= '0' && *t <= '9')
    t++;
  if (t == q)
    return 0;
  if (t < eol && *t == '/') {
    q = ++t;
    while (t < eol && *t >= '0' && *t <= '9')
      t++;
    if (t == q)
      return 0;
  }
  if (t == eol || *t != ' ')
    return 0;
  q = skip_spaces(t, eol);
  for (;;) { /* proto */
    t = skip_token(q, eol);
    if (t == q)
      return 0;
    if (t < eol && *t == '/') {
      q = t + 1;
      continue;
    }
    break;
  }
  while (t < eol) { /* formats */
    if (*t != ' ')
      return 0;
    q = skip_spaces(t, eol);
    t = skip_token(q, eol);
  }
  return 1;
}

/* The Sofia-SIP release Debian ships loops for ever, allocating, on some
 * malformed m= lines (e.g. a format starting with '/', "40000PRT /AVP",
 * whitespace with a TAB after the transport). So every m= line must follow
 * the RFC 4566 grammar before sdp_parse sees it. Lines are found as
 * Sofia-SIP finds them: split at any CR or LF, leading spaces and tabs
 * skipped (also after "m="). */
static int mlines_safe(const char *text, size_t len)
{
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *eol = p;
    while (eol < end && *eol != '\r' && *eol != '\n')
      eol++;
    const char *q = p;
    while (q < eol && is_ws(*q))
      q++;
    if (eol - q >= 2 && q[0] == 'm' && q[1] == '=') {
      q += 2;
      while (q < eol && is_ws(*q))
        q++;
      if (!mline_ok(q, eol))
        return 0;
    }
    p = eol;
    while (p < end && (*p == '\r' || *p == '\n'))
      p++;
  }
  return 1;
}

/* Parse with the leniency real SRCs need: no c= (OpenSIPS), no t=, leading
 * blank lines, a last line without CRLF. Direction attributes are kept as
 * attributes (sdp_f_mode_manual) so that "none" can be told from sendrecv. */
static int parse_sdp(const char *text, size_t len, parsed *p, const char **why)
{
  memset(p, 0, sizeof *p);
  if (!text) {
    *why = "SDP: missing";
    return SIPREC_EINVAL;
  }
  while (len > 0 && text[len - 1] == '\0') /* a NUL some stacks append */
    len--;
  if (memchr(text, '\0', len)) {
    *why = "SDP: NUL byte";
    return SIPREC_EINVAL;
  }
  while (len > 0 && (*text == '\r' || *text == '\n' || is_ws(*text)))
    text++, len--;
  if (len == 0) {
    *why = "SDP: empty";
    return SIPREC_EINVAL;
  }
  if (len > (size_t)(SSIZE_MAX / 2)) {
    *why = "SDP: too long";
    return SIPREC_ETOOBIG;
  }
  if (!mlines_safe(text, len)) {
    *why = "SDP: malformed m= line";
    return SIPREC_EINVAL;
  }
  p->home = su_home_new(sizeof(su_home_t));
  if (!p->home) {
    *why = "out of memory";
    return SIPREC_ENOMEM;
  }
  /* sdp_parse copies the text (up to len) and NUL-terminates its copy. */
  p->parser = sdp_parse(p->home, text, (issize_t)len, sdp_f_c_missing | sdp_f_mode_manual);
  p->sdp = p->parser ? sdp_session(p->parser) : NULL;
  if (!p->sdp) {
    const char *e = p->parser ? sdp_parsing_error(p->parser) : NULL;
    int nomem = !p->parser || (e && strstr(e, "memory") != NULL);
    parsed_free(p);
    *why = nomem ? "out of memory" : "SDP: parse error";
    return nomem ? SIPREC_ENOMEM : SIPREC_EINVAL;
  }
  for (const sdp_media_t *m = p->sdp->sdp_media; m; m = m->m_next)
    p->n_media++;
  if (p->n_media == 0) {
    parsed_free(p);
    *why = "SDP: no m= line";
    return SIPREC_EINVAL;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Answer                                                                   */

static const char *media_name(const sdp_media_t *m)
{
  return m->m_type_name && m->m_type_name[0] ? m->m_type_name : "audio";
}

static const char *proto_name(const sdp_media_t *m)
{
  return m->m_proto_name && m->m_proto_name[0] ? m->m_proto_name : "RTP/AVP";
}

/* Decide one m-line (no port, no key yet). Returns 0, or SIPREC_EINVAL for a
 * label that does not fit. */
static int decide(const sr_sdp_config *cfg, const sdp_session_t *s, const sdp_media_t *m,
                  sr_sdp_stream *st, const char **why)
{
  memset(st, 0, sizeof *st);
  st->pt = -1;
  st->te_pt = -1;
  st->answer_dir = SR_SDP_INACTIVE;
  snprintf(st->media, sizeof st->media, "%s", media_name(m));

  const sdp_attribute_t *lab = find_attr(m->m_attributes, "label");
  if (lab && lab->a_value && lab->a_value[0]) {
    if (copy_str(st->label, sizeof st->label, lab->a_value) < 0) {
      *why = "SDP: a=label too long";
      return SIPREC_EINVAL;
    }
    st->has_label = 1;
  }
  st->offer_dir = media_dir(s, m);
  st->ptime = media_ptime(s, m);
  const sdp_connection_t *c = media_conn(s, m);
  if (c && c->c_address)
    copy_str(st->remote_addr, sizeof st->remote_addr, c->c_address);
  if (m->m_port > 0 && m->m_port <= 65535)
    st->remote_port = (uint16_t)m->m_port;

  const char *proto = proto_name(m);
  if (m->m_type != sdp_media_audio || st->remote_port == 0 || !proto_is_rtp(proto))
    return 0;

  fmt_table t;
  build_fmt_table(m, &t);
  int best = -1, best_rank = INT_MAX;
  for (size_t i = 0; i < t.n; i++) {
    const fmt_info *f = &t.pt[t.order[i]];
    if (!f->enc)
      continue;
    int r = codec_rank(cfg, f->enc, f->enc_len);
    if (r < 0)
      continue;
    if (cfg->codecs == NULL || cfg->prefer_offer_order) {
      best = t.order[i];
      break;
    }
    if (r < best_rank)
      best_rank = r, best = t.order[i];
  }
  if (best < 0)
    return 0;

  if (proto_is_srtp(proto)) {
    size_t bytes = 0;
    for (const sdp_attribute_t *a = m->m_attributes; a && !bytes; a = a->a_next)
      if (a->a_name && !strcasecmp(a->a_name, "crypto"))
        bytes = parse_crypto(a->a_value, st);
    if (!bytes) {
      st->crypto_suite[0] = '\0';
      st->remote_key[0] = '\0';
      st->crypto_tag = 0;
      return 0;
    }
    st->srtp = 1;
  }

  const fmt_info *f = &t.pt[best];
  st->accepted = 1;
  st->pt = best;
  memcpy(st->codec, f->enc, f->enc_len);
  st->codec[f->enc_len] = '\0';
  st->clock_rate = (uint32_t)f->rate;
  st->channels = (uint8_t)(f->channels ? f->channels : 1);

  int te = -1;
  for (size_t i = 0; i < t.n; i++) {
    const fmt_info *g = &t.pt[t.order[i]];
    if (!g->enc || !span_ieq(g->enc, g->enc_len, "telephone-event"))
      continue;
    if (te < 0)
      te = t.order[i];
    if (g->rate == f->rate) {
      te = t.order[i];
      break;
    }
  }
  if (te >= 0) {
    st->te_pt = te;
    st->te_clock = (uint32_t)t.pt[te].rate;
  }

  switch (st->offer_dir) {
  case SR_SDP_SENDONLY:
  case SR_SDP_SENDRECV:
    st->answer_dir = SR_SDP_RECVONLY;
    break;
  case SR_SDP_RECVONLY:
  case SR_SDP_INACTIVE:
    st->answer_dir = SR_SDP_INACTIVE;
    st->paused = 1;
    break;
  }
  if (conn_is_hold(c))
    st->paused = 1;
  return 0;
}

/* The stream of cfg->current this offered stream continues, or NULL. A
 * current stream is continued by one offered stream at most. */
static const sr_sdp_stream *match_current(const sr_sdp_config *cfg, const sr_sdp_stream *streams,
                                          size_t i)
{
  const sr_sdp_stream *st = &streams[i], *cur = NULL;
  if (!cfg->current)
    return NULL;
  if (st->has_label) {
    for (size_t j = 0; j < cfg->n_current && !cur; j++)
      if (cfg->current[j].has_label && !strcmp(cfg->current[j].label, st->label))
        cur = &cfg->current[j];
  } else if (i < cfg->n_current && !cfg->current[i].has_label) {
    cur = &cfg->current[i];
  }
  if (!cur || !cur->accepted || cur->port == 0)
    return NULL;
  for (size_t k = 0; k < i; k++)
    if (streams[k].accepted && !streams[k].new_port && streams[k].port == cur->port)
      return NULL;
  return cur;
}

static const char *dir_attr(sr_sdp_dir d)
{
  switch (d) {
  case SR_SDP_SENDRECV:
    return "sendrecv";
  case SR_SDP_SENDONLY:
    return "sendonly";
  case SR_SDP_RECVONLY:
    return "recvonly";
  case SR_SDP_INACTIVE:
    break;
  }
  return "inactive";
}

/* The answer is written with plain appends, no printf: an SDP answer is
 * some twenty lines on every INVITE, and printf made a tenth of its cost. */
static void write_session(sr_strbuf *b, const sr_sdp_config *cfg)
{
  const char *ipv = strchr(cfg->media_addr, ':') ? " IN IP6 " : " IN IP4 ";
  sr_strbuf_str(b, "v=0\r\no=");
  sr_strbuf_str(b, cfg->user ? cfg->user : "libsiprec");
  sr_strbuf_str(b, " ");
  sr_strbuf_uint(b, cfg->session_id);
  sr_strbuf_str(b, " ");
  sr_strbuf_uint(b, cfg->version);
  sr_strbuf_str(b, ipv);
  sr_strbuf_str(b, cfg->media_addr);
  sr_strbuf_str(b, "\r\ns=-\r\nc=");
  sr_strbuf_str(b, ipv + 1);
  sr_strbuf_str(b, cfg->media_addr);
  sr_strbuf_str(b, "\r\nt=0 0\r\n");
}

/* The first format of an m= line, for a declined answer line. */
static void write_first_fmt(sr_strbuf *b, const sdp_media_t *m)
{
  if (m->m_rtpmaps)
    sr_strbuf_uint(b, m->m_rtpmaps->rm_pt);
  else if (m->m_format && m->m_format->l_text)
    sr_strbuf_str(b, m->m_format->l_text);
  else
    sr_strbuf_str(b, "0");
}

/* "a=NAME:PT " */
static void write_pt_attr(sr_strbuf *b, const char *name, int pt)
{
  sr_strbuf_str(b, name);
  sr_strbuf_uint(b, (unsigned)pt);
  sr_strbuf_str(b, " ");
}

static void write_rtpmap(sr_strbuf *b, int pt, const char *enc, size_t enc_len, unsigned long rate,
                         unsigned channels)
{
  write_pt_attr(b, "a=rtpmap:", pt);
  sr_strbuf_add(b, enc, enc_len);
  sr_strbuf_str(b, "/");
  sr_strbuf_uint(b, rate);
  if (channels > 1) {
    sr_strbuf_str(b, "/");
    sr_strbuf_uint(b, channels);
  }
  sr_strbuf_str(b, "\r\n");
}

/* "m=MEDIA PORT PROTO " */
static void write_m_start(sr_strbuf *b, const sdp_media_t *m, unsigned port)
{
  sr_strbuf_str(b, "m=");
  sr_strbuf_str(b, media_name(m));
  sr_strbuf_str(b, " ");
  sr_strbuf_uint(b, port);
  sr_strbuf_str(b, " ");
  sr_strbuf_str(b, proto_name(m));
  sr_strbuf_str(b, " ");
}

static void write_media(sr_strbuf *b, const sdp_media_t *m, const sr_sdp_stream *st)
{
  if (!st->accepted) {
    write_m_start(b, m, 0);
    write_first_fmt(b, m);
    sr_strbuf_str(b, "\r\n");
    return;
  }
  fmt_table t;
  build_fmt_table(m, &t);
  write_m_start(b, m, st->port);
  sr_strbuf_uint(b, (unsigned)st->pt);
  if (st->te_pt >= 0) {
    sr_strbuf_str(b, " ");
    sr_strbuf_uint(b, (unsigned)st->te_pt);
  }
  sr_strbuf_str(b, "\r\n");
  const fmt_info *f = &t.pt[st->pt];
  write_rtpmap(b, st->pt, f->enc, f->enc_len, f->rate, f->channels);
  if (st->te_pt >= 0) {
    const fmt_info *g = &t.pt[st->te_pt];
    write_rtpmap(b, st->te_pt, g->enc, g->enc_len, g->rate, g->channels);
    if (g->fmtp && g->fmtp[0]) {
      write_pt_attr(b, "a=fmtp:", st->te_pt);
      sr_strbuf_str(b, g->fmtp);
      sr_strbuf_str(b, "\r\n");
    }
  }
  if (st->ptime) {
    sr_strbuf_str(b, "a=ptime:");
    sr_strbuf_uint(b, st->ptime);
    sr_strbuf_str(b, "\r\n");
  }
  if (st->srtp) {
    write_pt_attr(b, "a=crypto:", st->crypto_tag);
    sr_strbuf_str(b, st->crypto_suite);
    sr_strbuf_str(b, " inline:");
    sr_strbuf_str(b, st->local_key);
    sr_strbuf_str(b, "\r\n");
  }
  sr_strbuf_str(b, "a=");
  sr_strbuf_str(b, dir_attr(st->answer_dir));
  sr_strbuf_str(b, "\r\n");
  if (st->has_label) {
    sr_strbuf_str(b, "a=label:");
    sr_strbuf_str(b, st->label);
    sr_strbuf_str(b, "\r\n");
  }
}

static int config_ok(const sr_sdp_config *cfg)
{
  return cfg && cfg->port && config_token_ok(cfg->media_addr) &&
         strlen(cfg->media_addr) < SR_SDP_ADDR_MAX && (!cfg->user || config_token_ok(cfg->user)) &&
         (cfg->current || cfg->n_current == 0);
}

/* After a failure: only streams that hold a port stay accepted, so that a
 * caller releasing the ports of accepted streams never sees port 0. */
static void unwind(sr_sdp_stream *streams, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (streams[i].port == 0)
      streams[i].accepted = 0;
}

int sr_sdp_answer(const char *offer, size_t offer_len, const sr_sdp_config *cfg,
                  sr_sdp_stream *streams, size_t max, size_t *n, char *out, size_t out_size,
                  const char **why)
{
  const char *dummy;
  if (!why)
    why = &dummy;
  *why = NULL;
  if (n)
    *n = 0;
  if (!config_ok(cfg) || !n || !out || out_size == 0 || (!streams && max)) {
    *why = "invalid argument";
    return SIPREC_EINVAL;
  }
  out[0] = '\0';

  parsed p;
  int rc = parse_sdp(offer, offer_len, &p, why);
  if (rc < 0)
    return rc;
  if (p.n_media > max) {
    parsed_free(&p);
    *why = "SDP: too many m= lines";
    return SIPREC_ETOOBIG;
  }

  /* 1: decide every m-line. */
  size_t i = 0, n_acc = 0;
  const sdp_media_t *m;
  for (m = p.sdp->sdp_media; m; m = m->m_next, i++) {
    rc = decide(cfg, p.sdp, m, &streams[i], why);
    if (rc < 0) {
      parsed_free(&p);
      return rc;
    }
    n_acc += streams[i].accepted != 0;
  }
  *n = p.n_media;
  if (n_acc == 0) {
    parsed_free(&p);
    *why = "no acceptable media";
    return SIPREC_ENOTFOUND;
  }

  /* 2: ports and keys. */
  for (i = 0; i < p.n_media; i++) {
    sr_sdp_stream *st = &streams[i];
    if (!st->accepted)
      continue;
    const sr_sdp_stream *cur = match_current(cfg, streams, i);
    size_t kb = st->srtp ? suite_key_bytes(st->crypto_suite) : 0;
    if (cur) {
      st->port = cur->port;
      if (kb && cur->srtp && strlen(cur->local_key) == b64_len(kb))
        memcpy(st->local_key, cur->local_key, sizeof st->local_key);
    } else {
      uint16_t port = 0;
      if (cfg->port(cfg->port_user, i, st, &port) < 0 || port == 0) {
        parsed_free(&p);
        unwind(streams, p.n_media);
        *why = "no media port available";
        return SIPREC_EAGAIN;
      }
      st->port = port;
      st->new_port = 1;
    }
    if (kb && !st->local_key[0] && (rc = make_key(cfg, kb, st->local_key)) < 0) {
      parsed_free(&p);
      unwind(streams, p.n_media);
      *why = "random source failed";
      return rc;
    }
  }

  /* 3: the answer. */
  sr_strbuf b = sr_strbuf_on(out, out_size);
  write_session(&b, cfg);
  for (i = 0, m = p.sdp->sdp_media; m; m = m->m_next, i++)
    write_media(&b, m, &streams[i]);
  parsed_free(&p);
  rc = wb_finish(&b);
  if (rc < 0)
    *why = "answer does not fit the buffer";
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Delayed offer                                                            */

static const struct known_codec {
  const char *name;
  int pt;
  unsigned long rate;
  unsigned channels;
} known_codecs[] = {
  {"PCMU", 0, 8000, 1},
  {"PCMA", 8, 8000, 1},
  {"G722", 9, 8000, 1},
  {"opus", 96, 48000, 2},
};
#define N_KNOWN (sizeof known_codecs / sizeof known_codecs[0])
#define OFFER_TE_PT 101

/* The known codecs of the configuration, in its order, each once. */
static size_t offer_codecs(const sr_sdp_config *cfg, const struct known_codec **list)
{
  const char *const *l = codec_list(cfg);
  size_t n = 0;
  for (int i = 0; l[i] && i < 64; i++) {
    for (size_t k = 0; k < N_KNOWN; k++) {
      if (strcasecmp(l[i], known_codecs[k].name) != 0)
        continue;
      size_t j;
      for (j = 0; j < n && list[j] != &known_codecs[k]; j++)
        ;
      if (j == n)
        list[n++] = &known_codecs[k];
    }
  }
  return n;
}

int sr_sdp_offer(const sr_sdp_config *cfg, size_t n_streams, sr_sdp_stream *streams, char *out,
                 size_t out_size)
{
  const struct known_codec *list[N_KNOWN];
  if (!config_ok(cfg) || n_streams == 0 || !streams || !out || out_size == 0)
    return SIPREC_EINVAL;
  out[0] = '\0';
  size_t nc = offer_codecs(cfg, list);
  if (nc == 0)
    return SIPREC_EINVAL;

  for (size_t i = 0; i < n_streams; i++) {
    sr_sdp_stream *st = &streams[i];
    memset(st, 0, sizeof *st);
    memcpy(st->media, "audio", 6);
    snprintf(st->label, sizeof st->label, "%zu", i + 1);
    st->has_label = 1;
    st->accepted = 1;
    st->offer_dir = SR_SDP_RECVONLY;
    st->answer_dir = SR_SDP_SENDONLY;
    st->pt = -1;
    st->te_pt = -1;
    uint16_t port = 0;
    if (cfg->port(cfg->port_user, i, st, &port) < 0 || port == 0)
      return SIPREC_EAGAIN;
    st->port = port;
    st->new_port = 1;
  }

  sr_strbuf b = sr_strbuf_on(out, out_size);
  write_session(&b, cfg);
  for (size_t i = 0; i < n_streams; i++) {
    sr_strbuf_printf(&b, "m=audio %u RTP/AVP", (unsigned)streams[i].port);
    for (size_t k = 0; k < nc; k++)
      sr_strbuf_printf(&b, " %d", list[k]->pt);
    sr_strbuf_printf(&b, " %d\r\n", OFFER_TE_PT);
    for (size_t k = 0; k < nc; k++)
      write_rtpmap(&b, list[k]->pt, list[k]->name, strlen(list[k]->name), list[k]->rate,
                   list[k]->channels);
    sr_strbuf_printf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n", OFFER_TE_PT,
              OFFER_TE_PT);
    sr_strbuf_printf(&b, "a=recvonly\r\na=label:%s\r\n", streams[i].label);
  }
  return wb_finish(&b);
}

/* ---------------------------------------------------------------------- */
/* The SRC's answer to a delayed offer                                      */

static void read_answer_media(const sdp_session_t *s, const sdp_media_t *m, sr_sdp_stream *st)
{
  st->accepted = 0;
  st->codec[0] = '\0';
  st->pt = -1;
  st->clock_rate = 0;
  st->channels = 0;
  st->te_pt = -1;
  st->te_clock = 0;
  st->paused = 0;
  st->remote_addr[0] = '\0';
  st->remote_port = 0;
  st->answer_dir = media_dir(s, m);
  st->ptime = media_ptime(s, m);
  const sdp_connection_t *c = media_conn(s, m);
  if (c && c->c_address)
    copy_str(st->remote_addr, sizeof st->remote_addr, c->c_address);
  if (m->m_port == 0 || m->m_port > 65535 || m->m_type != sdp_media_audio ||
      strcasecmp(proto_name(m), "RTP/AVP") != 0)
    return;
  st->remote_port = (uint16_t)m->m_port;

  fmt_table t;
  build_fmt_table(m, &t);
  for (size_t i = 0; i < t.n && st->pt < 0; i++) {
    const fmt_info *f = &t.pt[t.order[i]];
    if (!f->enc || f->enc_len >= SR_SDP_CODEC_MAX)
      continue;
    for (size_t k = 0; k < N_KNOWN; k++) {
      if (!span_ieq(f->enc, f->enc_len, known_codecs[k].name))
        continue;
      st->pt = t.order[i];
      memcpy(st->codec, f->enc, f->enc_len);
      st->codec[f->enc_len] = '\0';
      st->clock_rate = (uint32_t)f->rate;
      st->channels = (uint8_t)(f->channels ? f->channels : 1);
      break;
    }
  }
  if (st->pt < 0)
    return;
  for (size_t i = 0; i < t.n; i++) {
    const fmt_info *g = &t.pt[t.order[i]];
    if (g->enc && span_ieq(g->enc, g->enc_len, "telephone-event")) {
      st->te_pt = t.order[i];
      st->te_clock = (uint32_t)g->rate;
      break;
    }
  }
  st->accepted = 1;
  if (st->answer_dir == SR_SDP_INACTIVE || st->answer_dir == SR_SDP_RECVONLY || conn_is_hold(c))
    st->paused = 1;
}

int sr_sdp_read_answer(const char *answer, size_t len, sr_sdp_stream *streams, size_t n,
                       const char **why)
{
  const char *dummy;
  if (!why)
    why = &dummy;
  *why = NULL;
  if (!streams || n == 0) {
    *why = "invalid argument";
    return SIPREC_EINVAL;
  }
  parsed p;
  int rc = parse_sdp(answer, len, &p, why);
  if (rc < 0)
    return rc;
  if (p.n_media != n) {
    parsed_free(&p);
    *why = "SDP: the answer's m= lines differ from the offer's";
    return SIPREC_EINVAL;
  }
  int usable = 0;
  size_t i = 0;
  for (const sdp_media_t *m = p.sdp->sdp_media; m; m = m->m_next, i++) {
    read_answer_media(p.sdp, m, &streams[i]);
    usable += streams[i].accepted != 0;
  }
  parsed_free(&p);
  return usable;
}
