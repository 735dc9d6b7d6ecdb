/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "message.h"
#include "raw.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/url.h>

#include "../common/alloc.h"

static const struct {
  const char *name;
  sr_method m;
} method_names[] = {
  { "INVITE", SR_M_INVITE },     { "ACK", SR_M_ACK },         { "BYE", SR_M_BYE },
  { "CANCEL", SR_M_CANCEL },     { "OPTIONS", SR_M_OPTIONS }, { "UPDATE", SR_M_UPDATE },
  { "INFO", SR_M_INFO },         { "PRACK", SR_M_PRACK },     { "REGISTER", SR_M_REGISTER },
  { "SUBSCRIBE", SR_M_SUBSCRIBE }, { "NOTIFY", SR_M_NOTIFY }, { "REFER", SR_M_REFER },
  { "MESSAGE", SR_M_MESSAGE },   { "PUBLISH", SR_M_PUBLISH },
};

sr_method sr_method_from_name(const char *name, size_t len)
{
  for (size_t i = 0; i < sizeof method_names / sizeof method_names[0]; i++)
    if (strlen(method_names[i].name) == len && memcmp(method_names[i].name, name, len) == 0)
      return method_names[i].m;
  return SR_M_UNKNOWN;
}

const char *sr_method_name(sr_method m)
{
  for (size_t i = 0; i < sizeof method_names / sizeof method_names[0]; i++)
    if (method_names[i].m == m)
      return method_names[i].name;
  return "UNKNOWN";
}

/* Sofia-SIP logs to stderr by default; a library must not. */
static void sofia_log_discard(void *ctx, char const *fmt, va_list ap)
{
  (void)ctx;
  (void)fmt;
  (void)ap;
}

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void quiet_now(void)
{
  su_log_redirect(su_log_default, sofia_log_discard, NULL);
  su_log_redirect(su_log_global, sofia_log_discard, NULL);
  su_log_set_level(su_log_default, 0);
  su_log_set_level(su_log_global, 0);
}

void sr_sip_quiet(void)
{
  pthread_once(&quiet_once, quiet_now);
}

static int tag_is(const char *param, const char *name)
{
  size_t n = strlen(name);
  return strncasecmp(param, name, n) == 0 && (param[n] == '\0' || param[n] == '=');
}

/* A Contact carries the SRC feature tag as a header parameter, or inside the
 * URI's brackets (`<sip:src@host;+sip.src>`), as some SBCs write it. */
static int params_have_src(msg_param_t const *params)
{
  for (; params && *params; params++)
    if (tag_is(*params, "+sip.src") || tag_is(*params, "src"))
      return 1;
  return 0;
}

static int url_params_have_src(const char *p)
{
  while (p && *p) {
    if (tag_is(p, "+sip.src") || tag_is(p, "src"))
      return 1;
    p = strchr(p, ';');
    if (p)
      p++;
  }
  return 0;
}

/* ";src" or "+sip.src" inside a raw Contact value: the SRC feature tag
 * (RFC 7866 6.1.1) wherever an SBC put it. */
static int raw_value_has_src(sr_span v)
{
  const char *le = v.p + v.n;
  for (const char *p = v.p; p + 4 <= le; p++) {
    if (p[0] == ';' && strncasecmp(p + 1, "src", 3) == 0 &&
        (p + 4 == le || p[4] == ';' || p[4] == '>' || p[4] == '\r' || p[4] == ' '))
      return 1;
    if (le - p >= 8 && strncasecmp(p, "+sip.src", 8) == 0)
      return 1;
  }
  return 0;
}

/* The URI between '<' and '>' (or the end of its line) of a raw value. */
static void raw_contact_uri(sr_span v, sr_span *uri)
{
  const char *le = v.p + v.n;
  const char *lt = memchr(v.p, '<', v.n);
  if (!lt)
    return;
  const char *u = lt + 1, *ue = u;
  while (ue < le && *ue != '>' && *ue != '\r')
    ue++;
  uri->p = u;
  uri->n = (size_t)(ue - u);
}

/* A Contact Sofia-SIP could not parse (a missing '>'): read the first one's
 * raw value. */
static void contact_fallback(const raw_view *raw, sr_sip_msg *m)
{
  static const sr_raw_name contact = { "Contact", 'm', 7 };
  sr_raw_fields f;
  sr_raw_fields_start(&f, raw->rest, raw->headers_end);
  sr_span name, value;
  while (sr_raw_fields_next(&f, &name, &value)) {
    if (!sr_raw_name_is(name, &contact))
      continue;
    m->contact_src = raw_value_has_src(value);
    raw_contact_uri(value, &m->contact_uri);
    return;
  }
}

/* Append a header's canonical encoding to the echo buffer. */
typedef struct echo_writer {
  char *buf;
  size_t used, cap;
  int overflow;
} echo_writer;

static sr_span echo_add(echo_writer *w, const sip_header_t *h, int strip_crlf)
{
  sr_span s = { w->buf + w->used, 0 };
  if (!h || w->overflow)
    return s;
  issize_t n = msg_header_e(w->buf + w->used, w->cap - w->used, (const msg_header_t *)h, 0);
  if (n < 0 || (size_t)n >= w->cap - w->used) {
    w->overflow = 1;
    return s;
  }
  s.n = (size_t)n;
  if (strip_crlf && s.n >= 2 && s.p[s.n - 2] == '\r')
    s.n -= 2;
  w->used += (size_t)n;
  return s;
}

static void copy_params(msg_param_t const *items, sr_span *out, unsigned *n)
{
  *n = 0;
  for (; items && *items && *n < SR_SIP_MAX_TAGS; items++)
    out[(*n)++] = sr_span_cstr(*items);
}

static sr_method cseq_method_of(const sip_cseq_t *cs)
{
  return sr_method_from_name(cs->cs_method_name, strlen(cs->cs_method_name));
}

/* Sofia-SIP rejects a whole message whose Request-Line it cannot read (an
 * unusual method token as in RFC 4475's intmeth, LWS in the URI): read the
 * headers behind a stand-in line, so the request still gets its answer. */
static msg_t *parse_behind_stand_in(const siprec_allocator *mem, const char *text, size_t len,
                                    size_t skip)
{
  static const char stand_in[] = "OPTIONS sip:invalid SIP/2.0\r\n";
  size_t n = sizeof stand_in - 1 + (len - skip);
  char *copy = sr_malloc(mem, n);
  if (!copy)
    return NULL;
  memcpy(copy, stand_in, sizeof stand_in - 1);
  memcpy(copy + sizeof stand_in - 1, text + skip, len - skip);
  msg_t *msg = msg_make(sip_default_mclass(), 0, copy, (ssize_t)n); /* copies the bytes */
  sr_free(mem, copy);
  return msg;
}

/* Append raw header values as "Name: value" lines (line breaks of folded
 * values become spaces): the Via lines Sofia-SIP could not read. */
static void echo_raw(echo_writer *w, const char *name, const sr_span *values, unsigned n)
{
  for (unsigned i = 0; i < n && !w->overflow; i++) {
    size_t need = strlen(name) + 2 + values[i].n + 2;
    if (need > w->cap - w->used) {
      w->overflow = 1;
      return;
    }
    char *o = w->buf + w->used;
    o += sprintf(o, "%s: ", name);
    for (size_t k = 0; k < values[i].n; k++) {
      char c = values[i].p[k];
      *o++ = (c == '\r' || c == '\n') ? ' ' : c;
    }
    memcpy(o, "\r\n", 2);
    w->used += need;
  }
}

/* One echoed header: Sofia-SIP's encoding, or the raw value when it could
 * not read it (a response must still carry it, RFC 3261 8.2.6.2). */
static sr_span echo_one(echo_writer *w, const sip_header_t *h, const raw_view *raw, int k,
                        int strip_crlf)
{
  if (h || !raw->count[k])
    return echo_add(w, h, strip_crlf);
  sr_span s = { w->buf + w->used, 0 };
  echo_raw(w, sr_raw_names[k].name, &raw->first[k], 1);
  s.n = (size_t)(w->buf + w->used - s.p);
  if (strip_crlf && s.n >= 2)
    s.n -= 2;
  return s;
}

static int build_echo(const siprec_allocator *mem, const sip_t *sip, sr_sip_msg *m,
                      const raw_view *raw)
{
  /* The echoed lines, then the Contact URI (bounded alike). */
  /* Written on the stack, then copied to a block of the exact size: an
   * 8 KiB allocation per message would make malloc consolidate its free
   * lists every time. */
  char stack[2 * (size_t)SR_SIP_ECHO_MAX + 2];
  size_t cap = sizeof stack;
  echo_writer w = { stack, 0, SR_SIP_ECHO_MAX, 0 };
  sr_span first = { w.buf, 0 };
  if (sip->sip_via) {
    for (const sip_via_t *v = sip->sip_via; v; v = v->v_next)
      (void)echo_add(&w, (const sip_header_t *)v, 0);
  } else {
    echo_raw(&w, "Via", raw->via, raw->n_via);
  }
  m->echo_via.p = first.p;
  m->echo_via.n = w.used;
  m->echo_from = echo_one(&w, (const sip_header_t *)sip->sip_from, raw, RAW_FROM, 0);
  m->echo_to = echo_one(&w, (const sip_header_t *)sip->sip_to, raw, RAW_TO, 1);
  w.used += 2; /* keep the stripped CRLF in the buffer: spans stay disjoint */
  if (w.used > w.cap)
    w.overflow = 1;
  m->echo_call_id = echo_one(&w, (const sip_header_t *)sip->sip_call_id, raw, RAW_CALL_ID, 0);
  m->echo_cseq = echo_one(&w, (const sip_header_t *)sip->sip_cseq, raw, RAW_CSEQ, 0);
  size_t rr0 = w.used;
  for (const sip_record_route_t *r = sip->sip_record_route; r; r = r->r_next)
    (void)echo_add(&w, (const sip_header_t *)r, 0);
  m->echo_record_route.p = w.buf + rr0;
  m->echo_record_route.n = w.used - rr0;
  if (sip->sip_contact && !w.overflow) {
    /* The remote target, for requests the SRS sends in the dialog. */
    w.cap = cap;
    issize_t n = url_e(w.buf + w.used, w.cap - w.used, sip->sip_contact->m_url);
    if (n < 0 || (size_t)n + 1 >= w.cap - w.used) {
      w.overflow = 1;
    } else {
      m->contact_uri.p = w.buf + w.used;
      m->contact_uri.n = (size_t)n;
      w.used += (size_t)n + 1;
    }
  }
  if (w.overflow)
    return SIPREC_ETOOBIG;
  char *heap = sr_malloc(mem, w.used ? w.used : 1);
  if (!heap)
    return SIPREC_ENOMEM;
  memcpy(heap, stack, w.used);
  sr_span *spans[] = { &m->echo_via,  &m->echo_from,         &m->echo_to,    &m->echo_call_id,
                       &m->echo_cseq, &m->echo_record_route, &m->contact_uri };
  /* Only the spans written here move (a fallback Contact points elsewhere). */
  uintptr_t lo = (uintptr_t)stack, hi = lo + w.used;
  for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
    uintptr_t at = (uintptr_t)spans[i]->p;
    if (spans[i]->p && at >= lo && at <= hi)
      spans[i]->p = heap + (at - lo);
  }
  m->echo_buf = heap;
  return 0;
}

/* The message as Sofia-SIP gets it: NULs in the header section (where it
 * would stop reading) become spaces; a quoted-pair "\\<NUL>" becomes "\\ ". */
static msg_t *sofia_parse(const siprec_allocator *mem, const char *buf, size_t len,
                          const raw_view *v, int *stand_in)
{
  *stand_in = 0;
  char *copy = NULL;
  const char *text = buf;
  if (v->nul_any) {
    copy = sr_malloc(mem, len);
    if (!copy)
      return NULL;
    memcpy(copy, buf, len);
    for (char *p = copy; p < copy + (v->headers_end - buf); p++)
      if (*p == '\0')
        *p = ' ';
    text = copy;
  }
  msg_t *msg = msg_make(sip_default_mclass(), 0, text, (ssize_t)len);
  sip_t *sip = msg ? sip_object(msg) : NULL;
  /* Only a start line ending in a SIP version is taken for a Request-Line. */
  sr_span l = v->start_line;
  if (msg && (!sip || (!sip->sip_request && !sip->sip_status)) && l.n > 8 &&
      strncasecmp(l.p, "SIP/", 4) != 0 && memmem(l.p, l.n, " SIP/", 5) != NULL) {
    msg_destroy(msg);
    msg = parse_behind_stand_in(mem, text, len, (size_t)(v->rest - buf));
    *stand_in = 1;
  }
  if (copy)
    sr_free(mem, copy);
  return msg;
}

/* Why a required header is unusable: absent, or there but unreadable. */
static const char *required_missing(const sip_t *sip, const raw_view *v, int raw_cseq)
{
  static const struct {
    int raw;
    const char *missing, *bad;
  } req[] = {
    { RAW_CALL_ID, "Missing Call-ID", "Bad Call-ID" },
    { RAW_FROM, "Missing From", "Bad From" },
    { RAW_TO, "Missing To", "Bad To" },
    { RAW_CSEQ, "Missing CSeq", "Bad CSeq" },
  };
  int have[] = { sip->sip_call_id != NULL, sip->sip_from != NULL, sip->sip_to != NULL,
                 sip->sip_cseq != NULL || raw_cseq };
  for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
    if (!have[i])
      return v->count[req[i].raw] ? req[i].bad : req[i].missing;
  return NULL;
}

/* What makes an answerable message bad, in the order it is reported. */
static const char *message_problem(const sr_sip_msg *out, msg_t *msg, const sip_t *sip,
                                   const raw_view *v, int raw_cseq, int line_status,
                                   const char *line_why, int *status)
{
  *status = 400;
  const char *why = required_missing(sip, v, raw_cseq);
  if (why)
    return why;
  if (!sip->sip_via)
    return "Bad Via";
  if (v->nul)
    return "NUL byte in the header section";
  if (line_status == 400)
    return line_why;
  static const char *const duplicate[RAW_SINGLE] = {
    "Duplicate Call-ID",      "Duplicate CSeq",           "Duplicate From",
    "Duplicate To",           "Duplicate Max-Forwards",   "Duplicate Content-Length",
    "Duplicate Content-Type",
  };
  for (int k = 0; k < RAW_SINGLE; k++)
    if (v->count[k] > 1)
      return duplicate[k];
  if (!v->has_end)
    return "No end of the header section";
  if (v->cl_bad || (v->count[RAW_CONTENT_LENGTH] && v->cl > v->body_len) || !msg_is_complete(msg))
    return "Bad Content-Length";
  if (line_status) {
    *status = line_status;
    return line_why;
  }
  if (out->is_request && out->method != SR_M_UNKNOWN && out->cseq_method != out->method &&
      !(out->method == SR_M_ACK || out->method == SR_M_CANCEL))
    return "CSeq method does not match the request";
  return NULL;
}

/* The value of a `name=value` parameter, or an empty span. */
static sr_span param_value(const char *param, size_t name_len)
{
  const char *v = param + name_len;
  return *v == '=' ? sr_span_cstr(v + 1) : (sr_span){ v, 0 };
}

/* Cisco CUCM built-in-bridge recording: its marks are From parameters. */
static void read_bib(const sip_from_t *from, sr_sip_bib *bib)
{
  static const struct {
    const char *name;
    size_t off;
  } spans[] = {
    { "x-refci", offsetof(sr_sip_bib, refci) },
    { "x-farendrefci", offsetof(sr_sip_bib, farend_refci) },
    { "x-nearendaddr", offsetof(sr_sip_bib, nearend_addr) },
    { "x-farendaddr", offsetof(sr_sip_bib, farend_addr) },
    { "x-nearendclusterid", offsetof(sr_sip_bib, cluster) },
  };
  sr_bib_leg leg = SR_BIB_NONE;
  for (const msg_param_t *p = from ? from->a_params : NULL; p && *p; p++) {
    size_t n = strcspn(*p, "=");
    if (n == 9 && strncasecmp(*p, "x-nearend", 9) == 0)
      leg = SR_BIB_NEAR_END;
    else if (n == 8 && strncasecmp(*p, "x-farend", 8) == 0)
      leg = SR_BIB_FAR_END;
    for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++)
      if (strlen(spans[i].name) == n && strncasecmp(*p, spans[i].name, n) == 0)
        *(sr_span *)((char *)bib + spans[i].off) = param_value(*p, n);
  }
  bib->leg = bib->refci.n ? leg : SR_BIB_NONE;
}

int sr_sip_parse(const siprec_allocator *mem, const char *buf, size_t len, sr_sip_msg *out,
                 const char **why)
{
  static const char *const none = "";
  memset(out, 0, sizeof *out);
  out->mem = mem;
  *why = none;
  sr_sip_quiet();
  if (len < 8 || len > (size_t)INT32_MAX) {
    *why = "too short to be SIP";
    return SR_SIP_DROP;
  }
  raw_view raw;
  sr_raw_scan(buf, len, &raw);
  int stand_in;
  msg_t *msg = sofia_parse(mem, buf, len, &raw, &stand_in);
  if (!msg) {
    *why = "not a SIP message";
    return SR_SIP_DROP;
  }
  sip_t *sip = sip_object(msg);
  if (!sip || (!sip->sip_request && !sip->sip_status) || (!sip->sip_via && raw.n_via == 0)) {
    msg_destroy(msg);
    *why = "no start line or no Via to answer to";
    return SR_SIP_DROP;
  }
  out->sofia = msg;

  int line_status = 0;
  const char *line_why = none;
  if (sip->sip_request) {
    out->is_request = 1;
    sr_span method;
    line_status = sr_raw_request_line_check(raw.start_line, &method, &out->request_uri, &line_why);
    out->method_name = stand_in ? method : sr_span_cstr(sip->sip_request->rq_method_name);
    out->method = sr_method_from_name(out->method_name.p, out->method_name.n);
  } else {
    out->status = sip->sip_status->st_status;
  }
  if (sip->sip_via)
    out->branch = sr_span_cstr(sip->sip_via->v_branch);
  for (const sip_via_t *v = sip->sip_via; v; v = v->v_next)
    out->n_via++;
  if (sip->sip_call_id)
    out->call_id = sr_span_cstr(sip->sip_call_id->i_id);
  if (sip->sip_from)
    out->from_tag = sr_span_cstr(sip->sip_from->a_tag);
  read_bib(sip->sip_from, &out->bib);
  if (sip->sip_to)
    out->to_tag = sr_span_cstr(sip->sip_to->a_tag);
  int raw_cseq = 0;
  if (sip->sip_cseq) {
    out->cseq = sip->sip_cseq->cs_seq;
    out->cseq_method_name = sr_span_cstr(sip->sip_cseq->cs_method_name);
    out->cseq_method = cseq_method_of(sip->sip_cseq);
  } else if (raw.count[RAW_CSEQ] == 1 &&
             (raw_cseq = sr_raw_cseq_read(raw.first[RAW_CSEQ], &out->cseq, &out->cseq_method_name))) {
    out->cseq_method = sr_method_from_name(out->cseq_method_name.p, out->cseq_method_name.n);
  }
  if (sip->sip_contact) {
    out->contact_src = params_have_src(sip->sip_contact->m_params) ||
                       url_params_have_src(sip->sip_contact->m_url->url_params);
  } else {
    contact_fallback(&raw, out);
  }
  if (sip->sip_require) {
    copy_params(sip->sip_require->k_items, out->require, &out->n_require);
    for (unsigned i = 0; i < out->n_require; i++)
      if (sr_span_ieq(out->require[i], "siprec"))
        out->require_siprec = 1;
  }
  if (sip->sip_supported)
    copy_params(sip->sip_supported->k_items, out->supported, &out->n_supported);
  /* Accept (RFC 3261 20.1): an empty one accepts nothing, none accepts SDP. */
  out->accepts_sdp = 1;
  if (sip->sip_accept) {
    out->accepts_sdp = 0;
    for (const sip_accept_t *a = sip->sip_accept; a; a = a->ac_next)
      if (!a->ac_type || !*a->ac_type || strcasecmp(a->ac_type, "application/sdp") == 0 ||
          strcasecmp(a->ac_type, "application/*") == 0 || strcasecmp(a->ac_type, "*/*") == 0 ||
          strcasecmp(a->ac_type, "multipart/mixed") == 0)
        out->accepts_sdp = 1;
  }
  if (sip->sip_content_type && sip->sip_content_type->c_type) {
    out->content_type = sr_span_cstr(sip->sip_content_type->c_type);
    for (msg_param_t const *p = sip->sip_content_type->c_params; p && *p; p++) {
      if (strncasecmp(*p, "boundary=", 9) == 0) {
        const char *v = *p + 9;
        size_t n = strlen(v);
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
          v++;
          n -= 2;
        }
        out->boundary.p = v;
        out->boundary.n = n;
      }
    }
  }
  if (sip->sip_payload) {
    out->body.p = sip->sip_payload->pl_data;
    out->body.n = sip->sip_payload->pl_len;
  }
  if (sip->sip_session_expires) {
    out->session_expires = (uint32_t)sip->sip_session_expires->x_delta;
    const char *r = sip->sip_session_expires->x_refresher;
    out->refresher = !r ? SR_REFRESHER_NONE
                     : strcasecmp(r, "uac") == 0 ? SR_REFRESHER_UAC
                     : strcasecmp(r, "uas") == 0 ? SR_REFRESHER_UAS
                                                 : SR_REFRESHER_NONE;
  }
  if (sip->sip_min_se)
    out->min_se = (uint32_t)sip->sip_min_se->min_delta;
  if (sip->sip_max_forwards) {
    out->has_max_forwards = 1;
    out->max_forwards = (uint32_t)sip->sip_max_forwards->mf_count;
  }
  for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next) {
    if (!u->un_name)
      continue;
    if (strcasecmp(u->un_name, "X-Cisco-Recording-Participant") == 0 &&
        out->n_cisco_participants < SR_SIP_MAX_CISCO_PARTICIPANTS)
      out->cisco_participants[out->n_cisco_participants++] = sr_span_cstr(u->un_value);
    else if (strcasecmp(u->un_name, "Session-ID") == 0)
      out->session_id = sr_span_cstr(u->un_value);
  }

  int rc = build_echo(mem, sip, out, &raw);
  if (rc < 0) {
    sr_sip_msg_free(out);
    *why = "the header lines a response must echo (Via, From, To, Call-ID, CSeq, "
           "Record-Route, Contact) pass 4 KiB";
    return rc == SIPREC_ENOMEM ? SIPREC_ENOMEM : SR_SIP_DROP;
  }

  /* What makes the message unanswerable is settled; now what makes it bad. */
  const char *problem = message_problem(out, msg, sip, &raw, raw_cseq, line_status, line_why,
                                        &out->bad_status);
  if (problem) {
    *why = problem;
    return SR_SIP_BAD;
  }
  out->bad_status = 0;
  return SR_SIP_OK;
}

void sr_sip_msg_free(sr_sip_msg *m)
{
  if (!m)
    return;
  if (m->sofia)
    msg_destroy((msg_t *)m->sofia);
  if (m->echo_buf)
    sr_free(m->mem, m->echo_buf);
  m->sofia = NULL;
  m->echo_buf = NULL;
}
