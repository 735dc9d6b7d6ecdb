/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_handler: what the SIP handler costs, in one program and one run, on
 * ../shared/corpus/rfc7866-basic.sip:
 *   1. the floor: the bare parse of that INVITE, with Sofia-SIP called
 *      directly as lib/sip/message.c and lib/sdp/answer.c call it
 *      (msg_make, sdp_parse), our multipart splitter, and a bare expat
 *      pass over the metadata part (also without it: parse-sip-sdp);
 *   2. siprec_handler_process() of that INVITE to its 200 (a fresh Call-ID,
 *      From-tag and branch each time: a new session every time);
 *   3. a whole call: INVITE, ACK, BYE through siprec_handler_process();
 *   4. the heap the library holds per idle two-stream session (after its
 *      ACK) with 100,000 sessions open, counted through the allocator hook;
 *   5. calls per second of examples/siprec-server against Kamailio under
 *      sipp (tests/bench/cps_vs_kamailio.py, run as a child).
 * 2 and 3 are ratios to 1, medians of repetitions that interleave the kinds
 * so that drift (other jobs on this shared machine) hits them alike. Ends
 * with one verdict line per target. See docs/performance.md ("Handler"). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sdp.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>
#include <expat.h>

#include <siprec/siprec.h>

#include "expect.h"        /* read_file */
#include "sip/message.h"   /* sr_sip_quiet: the library's own Sofia-SIP silencing */
#include "sip/multipart.h" /* the splitter the handler uses */
#include "bench_load.h"

#ifndef BENCH_SHARED_DIR
#define BENCH_SHARED_DIR "../shared"
#endif
#ifndef BENCH_CPS_SCRIPT
#define BENCH_CPS_SCRIPT "tests/bench/cps_vs_kamailio.py"
#endif
#ifndef BENCH_SERVER
#define BENCH_SERVER "examples/siprec-server"
#endif

/* Repetitions (medians taken) and operations per repetition and kind. */
#define FULL_REPS 15
#define QUICK_REPS 5
#define FULL_OPS 4096
#define QUICK_OPS 512
/* Operations are timed in batches; a batch's sessions are ended untimed
 * after it, so the session map never grows during a measurement. */
#define BATCH 32
#define DEFAULT_SESSIONS 100000
#define MSG_MAX 16384
#define RESP_MAX 8192 /* handler.h: enough for every response it writes */
#define STAMP_LEN 8   /* hex digits written into Call-ID, From-tag and branch */

enum kind { K_FLOOR, K_FLOOR_SIP_SDP, K_INVITE, K_CALL, N_KIND };
static const char *const kind_names[N_KIND] = {
  "parse", "parse-sip-sdp", "invite-200", "call",
};

static int verbose;

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
  double s[64];
  if (n == 0 || n > 64)
    return -1;
  memcpy(s, v, n * sizeof *v);
  qsort(s, n, sizeof s[0], cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static const char *find_n(const char *hay, size_t n, const char *needle)
{
  return memmem(hay, n, needle, strlen(needle));
}

/* ---------------------------------------------------------------------- */
/* The messages: the corpus INVITE, and an ACK and a BYE built from its
 * headers, as templates. Each operation gets its own copy with a counter
 * stamped (hex, fixed width) over the first STAMP_LEN characters of the
 * Call-ID, the From-tag and the branch; the ACK and BYE get the To-tag of
 * the 200 copied in.                                                       */

typedef struct templ {
  char text[MSG_MAX];
  size_t len;
  size_t at_call_id, at_from_tag, at_branch;
  size_t at_to_tag; /* ACK and BYE only */
} templ;

typedef struct messages {
  templ invite, ack, bye;
  size_t to_tag_len; /* the 200's To-tag, learnt from the first 200 */
} messages;

/* The header line `name` ("Call-ID") of a header block: its start and the
 * end before its CRLF. */
static int header_line(const char *msg, size_t len, const char *name, const char **b,
                       const char **e)
{
  size_t nl = strlen(name);
  for (const char *p = msg; p && p < msg + len;) {
    const char *eol = find_n(p, (size_t)(msg + len - p), "\r\n");
    if (!eol || eol == p)
      return -1; /* end of headers */
    if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      *b = p;
      *e = eol;
      return 0;
    }
    p = eol + 2;
  }
  return -1;
}

/* Offset of the first character after `after` in [b, e), or -1. */
static long offset_after(const char *base, const char *b, const char *e, const char *after)
{
  const char *p = find_n(b, (size_t)(e - b), after);
  if (!p)
    return -1;
  p += strlen(after);
  while (p < e && *p == ' ')
    p++;
  return p - base;
}

/* Room for a stamp at `off`: STAMP_LEN token characters. */
static int stampable(const char *text, size_t len, long off)
{
  if (off < 0 || (size_t)off + STAMP_LEN > len)
    return 0;
  for (size_t i = 0; i < STAMP_LEN; i++) {
    char c = text[off + (long)i];
    if (c == '\r' || c == '\n' || c == ';' || c == '>' || c == ' ' || c == '@')
      return 0;
  }
  return 1;
}

static int templ_locate(templ *t)
{
  const char *b, *e;
  long c = -1, f = -1, v = -1;
  if (header_line(t->text, t->len, "Call-ID", &b, &e) == 0)
    c = offset_after(t->text, b, e, ":");
  if (header_line(t->text, t->len, "From", &b, &e) == 0)
    f = offset_after(t->text, b, e, ";tag=");
  if (header_line(t->text, t->len, "Via", &b, &e) == 0)
    v = offset_after(t->text, b, e, "branch=z9hG4bK");
  if (!stampable(t->text, t->len, c) || !stampable(t->text, t->len, f) ||
      !stampable(t->text, t->len, v))
    return -1;
  t->at_call_id = (size_t)c;
  t->at_from_tag = (size_t)f;
  t->at_branch = (size_t)v;
  return 0;
}

/* An in-dialog request (ACK or BYE) from the INVITE's headers: request
 * URI, Via, From, To with a To-tag placeholder, Call-ID, CSeq. */
static int build_in_dialog(templ *out, const templ *inv, const char *method, unsigned cseq,
                           size_t tag_len)
{
  const char *sp1 = memchr(inv->text, ' ', inv->len);
  const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', inv->len - (size_t)(sp1 + 1 - inv->text)) : NULL;
  const char *vb, *ve, *fb, *fe, *tb, *te, *cb, *ce;
  if (!sp2 || header_line(inv->text, inv->len, "Via", &vb, &ve) < 0 ||
      header_line(inv->text, inv->len, "From", &fb, &fe) < 0 ||
      header_line(inv->text, inv->len, "To", &tb, &te) < 0 ||
      header_line(inv->text, inv->len, "Call-ID", &cb, &ce) < 0 || tag_len > 64)
    return -1;
  char tag[65];
  memset(tag, 'x', tag_len);
  tag[tag_len] = '\0';
  /* The ACK and the BYE are transactions of their own: a branch of the
   * INVITE's stamp followed by the method, the rest of the Via kept. */
  long at = offset_after(inv->text, vb, ve, "branch=z9hG4bK");
  if (at < 0)
    return -1;
  const char *bv = inv->text + at, *bend = bv;
  while (bend < ve && *bend != ';' && *bend != ',' && *bend != ' ')
    bend++;
  int n = snprintf(out->text, sizeof out->text,
                   "%s %.*s SIP/2.0\r\n%.*s%.*s%s%.*s\r\nMax-Forwards: 70\r\n%.*s\r\n"
                   "%.*s;tag=%s\r\n%.*s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
                   method, (int)(sp2 - sp1 - 1), sp1 + 1, (int)(bv - vb), vb, STAMP_LEN, "xxxxxxxx",
                   method, (int)(ve - bend), bend, (int)(fe - fb), fb, (int)(te - tb), tb, tag,
                   (int)(ce - cb), cb, cseq, method);
  if (n <= 0 || (size_t)n >= sizeof out->text)
    return -1;
  out->len = (size_t)n;
  if (templ_locate(out) < 0)
    return -1;
  const char *tb2, *te2;
  if (header_line(out->text, out->len, "To", &tb2, &te2) < 0)
    return -1;
  out->at_to_tag = (size_t)(te2 - out->text) - tag_len;
  return 0;
}

static void stamp_hex(char *at, uint32_t v)
{
  static const char hex[] = "0123456789abcdef";
  for (int i = STAMP_LEN - 1; i >= 0; i--, v >>= 4)
    at[i] = hex[v & 15];
}

/* Copy template t into dst with counter `id`. */
static void stamp(char *dst, const templ *t, uint32_t id)
{
  memcpy(dst, t->text, t->len);
  stamp_hex(dst + t->at_call_id, id);
  stamp_hex(dst + t->at_from_tag, id);
  stamp_hex(dst + t->at_branch, id);
}

/* The To-tag of a response, or NULL. */
static const char *to_tag_of(const char *resp, size_t len, size_t *tag_len)
{
  const char *b, *e;
  const char *body = find_n(resp, len, "\r\n\r\n");
  size_t hlen = body ? (size_t)(body - resp) + 2 : len;
  const char *first = find_n(resp, hlen, "\r\n");
  if (!first || header_line(first + 2, hlen - (size_t)(first + 2 - resp), "To", &b, &e) < 0)
    return NULL;
  const char *t = find_n(b, (size_t)(e - b), ";tag=");
  if (!t)
    return NULL;
  t += 5;
  size_t n = 0;
  while (t + n < e && t[n] != ';' && t[n] != ' ')
    n++;
  *tag_len = n;
  return t;
}

static int is_200(const char *resp, int n)
{
  return n > 12 && memcmp(resp, "SIP/2.0 200 ", 12) == 0;
}

/* ---------------------------------------------------------------------- */
/* The floor: parse the INVITE, split its body, parse its SDP (and, with
 * expat, its metadata), free everything. Returns 0 or -1.                  */

static int floor_metadata(const char *xml, size_t len)
{
  /* A bare pass: no handlers, a namespace-aware parser as lib/metadata's,
   * created and freed each time like the others. */
  XML_Parser p = XML_ParserCreateNS(NULL, ' ');
  if (!p)
    return -1;
  int ok = XML_Parse(p, xml, (int)len, 1) == XML_STATUS_OK;
  XML_ParserFree(p);
  return ok ? 0 : -1;
}

static int floor_parse(const char *buf, size_t len, int with_metadata)
{
  msg_t *msg = msg_make(sip_default_mclass(), 0, buf, (ssize_t)len);
  if (!msg)
    return -1;
  sip_t *sip = sip_object(msg);
  int rc = -1;
  if (!sip || !sip->sip_request || !sip->sip_payload || !sip->sip_content_type)
    goto out;
  sr_span sdp = { sip->sip_payload->pl_data, sip->sip_payload->pl_len };
  sr_span xml = { NULL, 0 };
  if (strncasecmp(sip->sip_content_type->c_type, "multipart/", 10) == 0) {
    sr_span boundary = { NULL, 0 };
    for (msg_param_t const *p = sip->sip_content_type->c_params; p && *p; p++)
      if (strncasecmp(*p, "boundary=", 9) == 0) {
        boundary.p = *p + 9;
        boundary.n = strlen(boundary.p);
        if (boundary.n >= 2 && boundary.p[0] == '"') {
          boundary.p++;
          boundary.n -= 2;
        }
      }
    sr_mime_part parts[8];
    unsigned flags;
    int np = sr_multipart_split(sdp.p, sdp.n, boundary.p, boundary.n, parts, 8, &flags);
    sdp.p = NULL;
    for (int i = 0; i < np; i++) {
      if (sr_span_ieq(parts[i].content_type, "application/sdp"))
        sdp = parts[i].body;
      else if (sr_span_ieq(parts[i].content_type, "application/rs-metadata+xml"))
        xml = parts[i].body;
    }
  }
  if (!sdp.p)
    goto out;
  su_home_t *home = su_home_new(sizeof(su_home_t));
  if (!home)
    goto out;
  sdp_parser_t *parser =
      sdp_parse(home, sdp.p, (issize_t)sdp.n, sdp_f_c_missing | sdp_f_mode_manual);
  int sdp_ok = parser && sdp_session(parser) && sdp_session(parser)->sdp_media;
  if (parser)
    sdp_parser_free(parser);
  su_home_unref(home);
  if (!sdp_ok)
    goto out;
  rc = 0;
  if (with_metadata && xml.p)
    rc = floor_metadata(xml.p, xml.n);
out:
  msg_destroy(msg);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* The handler, as a host drives it                                         */

typedef struct host {
  uint32_t next_port;
  long ports_out; /* handed out and not yet freed */
  size_t sent, ended;
} host;

/* Synthetic ports: the handler only passes them on, and 100,000 sessions of
 * two streams would not fit the default range. */
static int port_alloc(void *user, siprec_session *s, size_t index, uint16_t *port)
{
  (void)s;
  (void)index;
  host *hs = user;
  *port = (uint16_t)(10000 + 2 * (hs->next_port++ % 25000));
  hs->ports_out++;
  return 0;
}

static void port_free(void *user, siprec_session *s, size_t index, uint16_t port)
{
  (void)s;
  (void)index;
  (void)port;
  ((host *)user)->ports_out--;
}

static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  (void)data;
  (void)len;
  (void)path;
  ((host *)user)->sent++;
}

static void on_ended(void *user, siprec_session *s, siprec_end_reason r)
{
  (void)s;
  (void)r;
  ((host *)user)->ended++;
}

static size_t active_sessions(siprec_handler *h)
{
  return (size_t)siprec_handler_stat(h, SIPREC_STAT_SESSIONS_ACTIVE, 0);
}

static int handler_make(siprec_handler **h, host *hs, const siprec_allocator *mem)
{
  siprec_handler_callbacks *cbs;
  if (siprec_handler_callbacks_new(&cbs, NULL) < 0)
    return -1;
  siprec_handler_callbacks_set_ports(cbs, port_alloc, port_free);
  siprec_handler_callbacks_set_send(cbs, on_send);
  siprec_handler_callbacks_set_session_ended(cbs, on_ended);
  int rc = siprec_handler_new(h, NULL, cbs, hs, mem);
  siprec_handler_callbacks_free(cbs);
  return rc < 0 ? -1 : 0;
}

/* Every session from its own address (10.x.y.z): the handler bounds the
 * unsettled INVITEs per source, and a batch of INVITEs waiting for their
 * ACKs must not reach that bound. */
static struct sockaddr_in remote_for(uint32_t id)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5060) };
  a.sin_addr.s_addr = htonl(0x0a000000u | (id & 0xffffffu));
  return a;
}

static struct sockaddr_in local_addr(void)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5060) };
  inet_pton(AF_INET, "192.0.2.10", &a.sin_addr);
  return a;
}

static int feed(siprec_handler *h, const char *msg, size_t len, const struct sockaddr_in *from,
                char *resp)
{
  static struct sockaddr_in local;
  if (!local.sin_family)
    local = local_addr();
  const siprec_path path = { SIPREC_TRANSPORT_UDP, (const struct sockaddr *)&local,
                             (const struct sockaddr *)from, 0 };
  size_t n = 0;
  int rc = siprec_handler_process(h, msg, len, &path, now_ns(), resp, RESP_MAX, &n);
  return rc == SIPREC_PROCESS_RESPONSE ? (int)n : rc;
}

/* Copy the 200's To-tag into the ACK and the BYE of the same call. */
static int copy_to_tag(const messages *m, const char *resp, int n, char *ack, char *bye)
{
  size_t tl;
  const char *tag = to_tag_of(resp, (size_t)n, &tl);
  if (!tag || tl != m->to_tag_len)
    return -1;
  memcpy(ack + m->ack.at_to_tag, tag, tl);
  memcpy(bye + m->bye.at_to_tag, tag, tl);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* The timed loops                                                          */

typedef struct slot {
  char invite[MSG_MAX], ack[MSG_MAX], bye[MSG_MAX];
  char resp[RESP_MAX];
  struct sockaddr_in remote;
} slot;

typedef struct bench {
  messages m;
  siprec_handler *h;
  host hs;
  slot *slots; /* BATCH of them */
  uint32_t next_id;
  const char *failure; /* set by the first wrong result */
} bench;

static void fail(bench *b, const char *what)
{
  if (!b->failure)
    b->failure = what;
}

static void batch_prepare(bench *b)
{
  for (size_t i = 0; i < BATCH; i++) {
    slot *s = &b->slots[i];
    uint32_t id = b->next_id++;
    stamp(s->invite, &b->m.invite, id);
    stamp(s->ack, &b->m.ack, id);
    stamp(s->bye, &b->m.bye, id);
    s->remote = remote_for(id);
  }
}

/* The sessions of an INVITE batch end, untimed: BYE each. */
static void batch_end_sessions(bench *b)
{
  char resp[RESP_MAX];
  for (size_t i = 0; i < BATCH; i++) {
    slot *s = &b->slots[i];
    if (copy_to_tag(&b->m, s->resp, (int)strnlen(s->resp, RESP_MAX), s->ack, s->bye) < 0) {
      fail(b, "no To-tag in a 200");
      continue;
    }
    if (!is_200(resp, feed(b->h, s->bye, b->m.bye.len, &s->remote, resp)))
      fail(b, "a BYE was not answered 200");
  }
}

/* One kind, `ops` operations, in batches; returns ns per operation. */
static double run_kind(bench *b, enum kind k, size_t ops)
{
  uint64_t total = 0;
  size_t done = 0;
  size_t base = active_sessions(b->h);
  while (done < ops) {
    batch_prepare(b);
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < BATCH; i++) {
      slot *s = &b->slots[i];
      size_t len = b->m.invite.len;
      int n;
      switch (k) {
      case K_FLOOR:
      case K_FLOOR_SIP_SDP:
        if (floor_parse(s->invite, len, k == K_FLOOR) < 0)
          fail(b, "the floor parse failed");
        break;
      case K_INVITE:
        n = feed(b->h, s->invite, len, &s->remote, s->resp);
        if (!is_200(s->resp, n))
          fail(b, "an INVITE was not answered 200");
        else
          s->resp[n < RESP_MAX ? n : RESP_MAX - 1] = '\0';
        break;
      case K_CALL:
        n = feed(b->h, s->invite, len, &s->remote, s->resp);
        if (!is_200(s->resp, n) || copy_to_tag(&b->m, s->resp, n, s->ack, s->bye) < 0) {
          fail(b, "an INVITE was not answered 200 with a To-tag");
          break;
        }
        if (feed(b->h, s->ack, b->m.ack.len, &s->remote, s->resp) != 0)
          fail(b, "an ACK was answered");
        if (!is_200(s->resp, feed(b->h, s->bye, b->m.bye.len, &s->remote, s->resp)))
          fail(b, "a BYE was not answered 200");
        break;
      default:
        break;
      }
    }
    total += now_ns() - t0;
    done += BATCH;
    if (k == K_INVITE)
      batch_end_sessions(b);
  }
  if (active_sessions(b->h) != base)
    fail(b, "sessions were left open");
  return (double)total / (double)done;
}

/* The To-tag's length, from one call's 200; the templates need it. */
static int learn_to_tag(bench *b)
{
  char inv[MSG_MAX], resp[RESP_MAX];
  uint32_t id = b->next_id++;
  struct sockaddr_in from = remote_for(id);
  stamp(inv, &b->m.invite, id);
  int n = feed(b->h, inv, b->m.invite.len, &from, resp);
  size_t tl;
  if (!is_200(resp, n) || !to_tag_of(resp, (size_t)n, &tl) || tl == 0 || tl > 64) {
    fprintf(stderr, "bench_handler: the INVITE was not answered 200 with a To-tag (%d: %.*s)\n",
            n, n > 0 ? (int)strcspn(resp, "\r") : 0, resp);
    return -1;
  }
  b->m.to_tag_len = tl;
  if (verbose)
    fprintf(stderr, "bench_handler: the 200 is %d bytes:\n%.*s\n", n, n, resp);
  if (build_in_dialog(&b->m.ack, &b->m.invite, "ACK", 1, tl) < 0 ||
      build_in_dialog(&b->m.bye, &b->m.invite, "BYE", 2, tl) < 0)
    return -1;
  /* End that first session with the templates just built. */
  char bye[MSG_MAX], ack[MSG_MAX];
  stamp(ack, &b->m.ack, id);
  stamp(bye, &b->m.bye, id);
  if (copy_to_tag(&b->m, resp, n, ack, bye) < 0)
    return -1;
  n = feed(b->h, bye, b->m.bye.len, &from, resp);
  return is_200(resp, n) ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* The heap per idle session: a byte-counting allocator hook. Each block
 * carries its size in a 16-byte header (alignment kept for any type).     */

typedef struct size_count {
  size_t size, live;
} size_count;

typedef struct counter {
  size_t live_bytes, live_blocks, peak_bytes;
  size_count sizes[256]; /* live blocks by requested size */
  size_t n_sizes;
} counter;

#define HDR 16

static void count_size(counter *c, size_t size, long delta)
{
  for (size_t i = 0; i < c->n_sizes; i++)
    if (c->sizes[i].size == size) {
      c->sizes[i].live += (size_t)delta;
      return;
    }
  if (c->n_sizes < sizeof c->sizes / sizeof c->sizes[0] && delta > 0)
    c->sizes[c->n_sizes++] = (size_count){ size, 1 };
}

static void count_add(counter *c, size_t size, long sign)
{
  c->live_bytes += sign > 0 ? size : -size;
  c->live_blocks += sign > 0 ? 1 : (size_t)-1;
  if (c->live_bytes > c->peak_bytes)
    c->peak_bytes = c->live_bytes;
  count_size(c, size, sign);
}

static void *c_malloc(size_t n, void *user)
{
  unsigned char *p = malloc(n + HDR);
  if (!p)
    return NULL;
  memcpy(p, &n, sizeof n);
  count_add(user, n, 1);
  return p + HDR;
}

static void *c_realloc(void *ptr, size_t n, void *user)
{
  if (!ptr)
    return c_malloc(n, user);
  unsigned char *old = (unsigned char *)ptr - HDR;
  size_t was;
  memcpy(&was, old, sizeof was);
  unsigned char *p = realloc(old, n + HDR);
  if (!p)
    return NULL;
  memcpy(p, &n, sizeof n);
  count_add(user, was, -1);
  count_add(user, n, 1);
  return p + HDR;
}

static void c_free(void *ptr, void *user)
{
  unsigned char *old = (unsigned char *)ptr - HDR;
  size_t was;
  memcpy(&was, old, sizeof was);
  count_add(user, was, -1);
  free(old);
}

static int cmp_size_bytes(const void *a, const void *b)
{
  const size_count *x = a, *y = b;
  size_t bx = x->size * x->live, by = y->size * y->live;
  return (bx < by) - (bx > by);
}

/* Open `n` sessions (INVITE, ACK each) on a handler with the counting hook;
 * bytes per session in *kib. Returns 0 or -1. */
static int measure_idle_memory(const messages *m, size_t n, uint32_t *next_id, double *kib)
{
  static counter c; /* 4 KiB of size table: not on the stack */
  memset(&c, 0, sizeof c);
  siprec_allocator hook = { c_malloc, c_realloc, c_free, &c };
  host hs = { 0, 0, 0, 0 };
  siprec_handler *h;
  if (handler_make(&h, &hs, &hook) < 0) {
    fprintf(stderr, "bench_handler: siprec_handler_new failed\n");
    return -1;
  }
  size_t empty = c.live_bytes, empty_blocks = c.live_blocks;
  counter empty_c = c;
  char inv[MSG_MAX], ack[MSG_MAX], bye[MSG_MAX], resp[RESP_MAX];
  const char *why = NULL;
  uint64_t t0 = now_ns();
  for (size_t i = 0; i < n && !why; i++) {
    uint32_t id = (*next_id)++;
    struct sockaddr_in from = remote_for(id);
    stamp(inv, &m->invite, id);
    stamp(ack, &m->ack, id);
    stamp(bye, &m->bye, id);
    int r = feed(h, inv, m->invite.len, &from, resp);
    if (!is_200(resp, r) || copy_to_tag(m, resp, r, ack, bye) < 0)
      why = "an INVITE was not answered 200";
    else if (feed(h, ack, m->ack.len, &from, resp) != 0)
      why = "an ACK was answered";
  }
  double secs = (double)(now_ns() - t0) * 1e-9;
  size_t open = active_sessions(h);
  if (!why && open != n)
    why = "not every session is open";
  size_t held = c.live_bytes, held_blocks = c.live_blocks;
  if (!why) {
    *kib = (double)(held - empty) / (double)n / 1024.0;
    printf("# idle sessions: %zu open (INVITE+ACK each, %.1f s); library heap %zu bytes in %zu "
           "blocks, empty handler %zu bytes in %zu blocks, peak %zu bytes\n",
           open, secs, held, held_blocks, empty, empty_blocks, c.peak_bytes);
    printf("idle-session\tbytes\t%.0f\tblocks\t%.2f\tKiB\t%.2f\n", (double)(held - empty) / n,
           (double)(held_blocks - empty_blocks) / n, *kib);
    /* What the per-session bytes are made of, largest share first. */
    size_count grown[256];
    size_t ng = 0;
    for (size_t i = 0; i < c.n_sizes; i++) {
      size_t before = 0;
      for (size_t j = 0; j < empty_c.n_sizes; j++)
        if (empty_c.sizes[j].size == c.sizes[i].size)
          before = empty_c.sizes[j].live;
      if (c.sizes[i].live > before)
        grown[ng++] = (size_count){ c.sizes[i].size, c.sizes[i].live - before };
    }
    qsort(grown, ng, sizeof grown[0], cmp_size_bytes);
    printf("# idle-session blocks by size (blocks per session x bytes = bytes per session):");
    for (size_t i = 0; i < ng && i < 12; i++)
      printf("%s %.2f x %zu = %.0f", i ? "," : "", (double)grown[i].live / n, grown[i].size,
             (double)grown[i].live * grown[i].size / n);
    printf("\n");
  }
  siprec_handler_free(h); /* ends every session (a BYE each through on_send) */
  if (!why && (c.live_bytes != 0 || hs.ended != n || hs.ports_out != 0))
    why = "the freed handler left memory, sessions or ports behind";
  if (why) {
    fprintf(stderr, "bench_handler: idle-session measurement: %s\n", why);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* cps-vs-kamailio: the script, as a child; its lines echoed as they come,
 * its `cps<TAB>NAME<TAB>RATE` lines kept.                                   */

typedef struct cps_result {
  long kamailio, server; /* calls/s; -1 not measured */
  char why[256];
} cps_result;

static void run_cps(const char *script, const char *server, int quick, cps_result *r)
{
  r->kamailio = r->server = -1;
  r->why[0] = '\0';
  if (access(script, R_OK) != 0) {
    snprintf(r->why, sizeof r->why, "%s not found", script);
    return;
  }
  int fd[2];
  if (pipe(fd) < 0) {
    snprintf(r->why, sizeof r->why, "pipe: %s", strerror(errno));
    return;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fd[0]);
    close(fd[1]);
    snprintf(r->why, sizeof r->why, "fork: %s", strerror(errno));
    return;
  }
  if (pid == 0) {
    close(fd[0]);
    if (dup2(fd[1], STDOUT_FILENO) < 0)
      _exit(127);
    close(fd[1]);
    char *argv[] = { "python3", (char *)script, "--values-only", "--server", (char *)server,
                     quick ? "--quick" : NULL, NULL };
    execvp("python3", argv);
    _exit(127);
  }
  close(fd[1]);
  FILE *f = fdopen(fd[0], "r");
  char line[1024];
  while (f && fgets(line, sizeof line, f)) {
    fputs(line, stdout);
    fflush(stdout);
    char name[64];
    long rate;
    if (sscanf(line, "cps\t%63[^\t]\t%ld", name, &rate) == 2) {
      if (strcmp(name, "kamailio") == 0)
        r->kamailio = rate;
      else if (strcmp(name, "siprec-server") == 0)
        r->server = rate;
    } else if (strncmp(line, "cps\t", 4) == 0 && strstr(line, "\tskipped (") && !r->why[0]) {
      /* cps<TAB>NAME<TAB>skipped (WHY): keep WHY */
      line[strcspn(line, "\n")] = '\0';
      size_t n = strlen(line);
      if (n && line[n - 1] == ')')
        line[n - 1] = '\0';
      snprintf(r->why, sizeof r->why, "%s", strstr(line, "\tskipped (") + 10);
    }
  }
  if (f)
    fclose(f);
  else
    close(fd[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (!r->why[0] && (r->kamailio < 0 || r->server < 0))
    snprintf(r->why, sizeof r->why, "the cps script gave no figures (status %d)",
             WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* ---------------------------------------------------------------------- */
/* The driver                                                               */


/* target NAME: VALUE (goal OP LIMIT) met|missed|skipped, judged on the
 * value as printed. */
static void verdict(const char *name, double value, int decimals, const char *unit, int at_most,
                    const char *limit_s, double limit, const char *why)
{
  if (why) {
    printf("target %s: skipped (%s)\n", name, why);
    return;
  }
  double scale = decimals == 1 ? 10.0 : 100.0;
  double shown = (double)(long long)(value * scale + 0.5) / scale;
  int met = at_most ? shown <= limit : shown >= limit;
  printf("target %s: %.*f%s (goal %s %s) %s\n", name, decimals, value, unit,
         at_most ? "<=" : ">=", limit_s, met ? "met" : "missed");
}

static void usage(FILE *f)
{
  fprintf(f,
          "usage: bench_handler [--quick] [--sip FILE] [--reps N] [--ops N] [--sessions N]\n"
          "                     [--no-cps] [--server FILE] [--cps-script FILE] [--verbose]\n"
          "Measures, on one SIPREC INVITE, the bare parse (the floor), the handler's\n"
          "INVITE-to-200 and a whole call (INVITE, ACK, BYE) as ratios to the floor, the\n"
          "heap per idle session, and siprec-server's calls/s against Kamailio under sipp;\n"
          "prints one verdict line per target.\n"
          "  --quick          %d repetitions of %d operations, cps steps of 3 s\n"
          "  --sip FILE       the INVITE (default %s/corpus/rfc7866-basic.sip)\n"
          "  --reps N         repetitions, medians taken (default %d, quick %d; at most 63)\n"
          "  --ops N          operations per repetition and kind (default %d, quick %d)\n"
          "  --sessions N     idle sessions for the memory figure (default %d)\n"
          "  --no-cps         do not run the calls-per-second comparison\n"
          "  --server FILE    siprec-server (default %s)\n"
          "  --cps-script F   the cps script (default %s)\n"
          "  --verbose        every repetition on stderr, and the 200\n"
          "Exit status: 0 whatever the verdicts; 1 when a measurement failed; 2 usage.\n",
          QUICK_REPS, QUICK_OPS, BENCH_SHARED_DIR, FULL_REPS, QUICK_REPS, FULL_OPS, QUICK_OPS,
          DEFAULT_SESSIONS, BENCH_SERVER, BENCH_CPS_SCRIPT);
}

static int parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || s[0] == '-' || v < lo || v > hi)
    return -1;
  *out = (size_t)v;
  return 0;
}

int main(int argc, char **argv)
{
  const char *sip_path = BENCH_SHARED_DIR "/corpus/rfc7866-basic.sip";
  const char *server = BENCH_SERVER, *script = BENCH_CPS_SCRIPT;
  int quick = 0, no_cps = 0;
  size_t reps = 0, ops = 0, sessions = DEFAULT_SESSIONS;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int more = i + 1 < argc;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--quick")) {
      quick = 1;
    } else if (!strcmp(a, "--no-cps")) {
      no_cps = 1;
    } else if (!strcmp(a, "--verbose")) {
      verbose = 1;
    } else if (more && !strcmp(a, "--sip")) {
      sip_path = argv[++i];
    } else if (more && !strcmp(a, "--server")) {
      server = argv[++i];
    } else if (more && !strcmp(a, "--cps-script")) {
      script = argv[++i];
    } else if (more && !strcmp(a, "--reps")) {
      if (parse_size(argv[++i], 1, 63, &reps) < 0)
        goto bad;
    } else if (more && !strcmp(a, "--ops")) {
      if (parse_size(argv[++i], BATCH, 100000000, &ops) < 0)
        goto bad;
    } else if (more && !strcmp(a, "--sessions")) {
      if (parse_size(argv[++i], 1, 10000000, &sessions) < 0)
        goto bad;
    } else {
      goto bad;
    }
    continue;
  bad:
    fprintf(stderr, "bench_handler: bad or incomplete argument: %s\n", a);
    usage(stderr);
    return 2;
  }
  if (!reps)
    reps = quick ? QUICK_REPS : FULL_REPS;
  if (!ops)
    ops = quick ? QUICK_OPS : FULL_OPS;
  ops = (ops + BATCH - 1) / BATCH * BATCH;

  static bench b; /* the templates and slots are large */
  size_t flen;
  char *file = read_file(sip_path, &flen);
  if (!file || flen >= MSG_MAX) {
    fprintf(stderr, "bench_handler: cannot read %s (or it is %s)\n", sip_path,
            file ? "too large" : "missing");
    free(file);
    return 1;
  }
  memcpy(b.m.invite.text, file, flen);
  b.m.invite.len = flen;
  free(file);
  if (templ_locate(&b.m.invite) < 0) {
    fprintf(stderr,
            "bench_handler: %s: needs CRLF line endings and a Call-ID, a From-tag and a "
            "z9hG4bK branch of at least %d characters each\n",
            sip_path, STAMP_LEN);
    return 1;
  }
  b.slots = calloc(BATCH, sizeof *b.slots);
  if (!b.slots || handler_make(&b.h, &b.hs, NULL) < 0) {
    fprintf(stderr, "bench_handler: cannot create the handler\n");
    return 1;
  }
  sr_sip_quiet(); /* the floor calls Sofia-SIP before the handler ever does */
  if (learn_to_tag(&b) < 0) {
    fprintf(stderr, "bench_handler: cannot build the ACK and BYE of a call\n");
    return 1;
  }

  uint64_t t_start = now_ns();
  printf("# bench_handler %s: %s (%zu bytes), %zu repetitions (median) of %zu operations per "
         "kind, batches of %d, cpus=%ld\n",
         quick ? "quick" : "full", sip_path, b.m.invite.len, reps, ops, BATCH,
         sysconf(_SC_NPROCESSORS_ONLN));
  XML_Expat_Version ev = XML_ExpatVersionInfo();
  printf("# floor (parse): Sofia-SIP msg_make + multipart split + sdp_parse + expat %d.%d.%d "
         "XML_ParserCreateNS/XML_Parse/XML_ParserFree of the metadata part; parse-sip-sdp: "
         "the same without expat\n",
         ev.major, ev.minor, ev.micro);
  print_load("at start");

  /* A warm-up of every kind, then the repetitions; each repetition runs
   * every kind once, starting with a different one each time. */
  double t[N_KIND][64];
  for (int k = 0; k < N_KIND; k++)
    (void)run_kind(&b, (enum kind)k, BATCH * 4);
  for (size_t r = 0; r < reps && !b.failure; r++) {
    for (int j = 0; j < N_KIND; j++) {
      int k = (int)((r + (size_t)j) % N_KIND);
      t[k][r] = run_kind(&b, (enum kind)k, ops);
      if (verbose)
        fprintf(stderr, "bench_handler: rep %zu %s: %.2f us\n", r + 1, kind_names[k],
                t[k][r] / 1000);
    }
  }
  if (b.failure) {
    fprintf(stderr, "bench_handler: measurement refused: %s\n", b.failure);
    return 1;
  }
  double med[N_KIND];
  printf("kind\tus/op (median)\tmin\tmax\n");
  for (int k = 0; k < N_KIND; k++) {
    med[k] = median(t[k], reps);
    double lo = t[k][0], hi = t[k][0];
    for (size_t r = 1; r < reps; r++) {
      lo = t[k][r] < lo ? t[k][r] : lo;
      hi = t[k][r] > hi ? t[k][r] : hi;
    }
    printf("%s\t%.2f\t%.2f\t%.2f\n", kind_names[k], med[k] / 1000, lo / 1000, hi / 1000);
  }
  printf("ratio\tinvite-200/parse\t%.2fx\tcall/parse\t%.2fx\n", med[K_INVITE] / med[K_FLOOR],
         med[K_CALL] / med[K_FLOOR]);
  printf("ratio\tinvite-200/parse-sip-sdp\t%.2fx\tcall/parse-sip-sdp\t%.2fx\n",
         med[K_INVITE] / med[K_FLOOR_SIP_SDP], med[K_CALL] / med[K_FLOOR_SIP_SDP]);
  fflush(stdout);

  double kib = 0;
  int mem_ok = measure_idle_memory(&b.m, sessions, &b.next_id, &kib) == 0;
  fflush(stdout);

  cps_result cps = { -1, -1, "--no-cps" };
  if (!no_cps)
    run_cps(script, server, quick, &cps);

  print_load("at end");
  printf("# wall time %.1f s\n", (double)(now_ns() - t_start) * 1e-9);
  verdict("invite-vs-parse", med[K_INVITE] / med[K_FLOOR], 2, "x", 1, "2.0x", 2.0, NULL);
  verdict("call-vs-parse", med[K_CALL] / med[K_FLOOR], 2, "x", 1, "3.5x", 3.5, NULL);
  verdict("idle-session-kib", kib, 1, " KiB", 1, "8 KiB", 8.0,
          mem_ok ? NULL : "the idle-session measurement failed");
  const char *cps_why = cps.why[0] ? cps.why : cps.kamailio <= 0 ? "kamailio passed no rate" : NULL;
  verdict("cps-vs-kamailio", cps_why ? 0 : (double)cps.server / (double)cps.kamailio, 2, "x", 0,
          "0.5x", 0.5, cps_why);

  siprec_handler_free(b.h);
  free(b.slots);
  return mem_ok ? 0 : 1;
}
