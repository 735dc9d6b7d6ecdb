/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A narrow view of one SIP message, parsed with Sofia-SIP's message parser
 * (never its stack). The rest of the library sees only this struct: no
 * Sofia-SIP type leaks out of lib/sip/. Spans point into memory the view
 * owns; they live until sr_sip_msg_free(). */
#ifndef SR_SIP_MESSAGE_H
#define SR_SIP_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

#include "../common/span.h"

typedef enum sr_method {
  SR_M_UNKNOWN = 0,
  SR_M_INVITE,
  SR_M_ACK,
  SR_M_BYE,
  SR_M_CANCEL,
  SR_M_OPTIONS,
  SR_M_UPDATE,
  SR_M_INFO,
  SR_M_PRACK,
  SR_M_REGISTER,
  SR_M_SUBSCRIBE,
  SR_M_NOTIFY,
  SR_M_REFER,
  SR_M_MESSAGE,
  SR_M_PUBLISH,
} sr_method;

#define SR_SIP_MAX_TAGS 16
#define SR_SIP_MAX_CISCO_PARTICIPANTS 8

/* A Cisco CUCM built-in-bridge (BiB) recording leg, from the From header's
 * parameters: x-nearend or x-farend says which leg, x-refci and
 * x-farendrefci name the recorded call's two legs in CUCM (the same on both
 * recording INVITEs), x-nearendaddr and x-farendaddr their numbers. */
typedef enum sr_bib_leg { SR_BIB_NONE = 0, SR_BIB_NEAR_END = 1, SR_BIB_FAR_END = 2 } sr_bib_leg;
typedef struct sr_sip_bib {
  sr_bib_leg leg; /* SR_BIB_NONE unless the leg marker and x-refci are both there */
  sr_span refci, farend_refci, nearend_addr, farend_addr, cluster;
} sr_sip_bib;

typedef enum sr_refresher { SR_REFRESHER_NONE = 0, SR_REFRESHER_UAC, SR_REFRESHER_UAS } sr_refresher;

/* Most bytes of the header lines every response echoes (Via, From, To,
 * Call-ID, CSeq, Record-Route): a message needing more cannot be answered
 * within the 8 KiB siprec_handler_process() promises, and is dropped. */
#define SR_SIP_ECHO_MAX 4096

typedef struct sr_sip_msg {
  void *sofia; /* msg_t, owned */
  int is_request;
  sr_method method;
  sr_span method_name;   /* as received (in the caller's buffer when Sofia-SIP
                          * could not read the Request-Line) */
  sr_span request_uri;   /* as received, in the caller's buffer */
  int bad_status;        /* with SR_SIP_BAD: the status the request deserves,
                          * 400, or 505 (SIP version), 416 (URI scheme) */
  int status; /* responses */
  sr_span call_id;
  sr_span from_tag, to_tag;
  uint32_t cseq;
  sr_method cseq_method;
  sr_span cseq_method_name;
  sr_span branch; /* top Via's branch */
  unsigned n_via;
  sr_span contact_uri;   /* first Contact's URI (without <>) */
  int contact_src;       /* +sip.src or src feature tag, as a header or URI parameter */
  sr_span require[SR_SIP_MAX_TAGS];
  unsigned n_require;
  int require_siprec;
  sr_span supported[SR_SIP_MAX_TAGS];
  unsigned n_supported;
  int accepts_sdp;       /* Accept absent, or naming application/sdp (or a wildcard) */
  sr_span content_type;  /* media type, "" when none */
  sr_span boundary;      /* multipart boundary parameter */
  sr_span body;
  uint32_t session_expires; /* 0 when absent */
  sr_refresher refresher;
  uint32_t min_se;       /* 0 when absent */
  int has_max_forwards;
  uint32_t max_forwards;
  sr_span cisco_participants[SR_SIP_MAX_CISCO_PARTICIPANTS]; /* X-Cisco-Recording-Participant */
  unsigned n_cisco_participants;
  sr_span session_id;    /* RFC 7989 Session-ID value */
  sr_sip_bib bib;        /* Cisco built-in-bridge recording leg (From parameters) */
  /* Header lines a response echoes, canonically encoded, each ending in
   * CRLF: every Via, From, Call-ID, CSeq, every Record-Route; To without
   * its CRLF (the answer may add a tag). */
  sr_span echo_via, echo_from, echo_to, echo_call_id, echo_cseq, echo_record_route;
  char *echo_buf;        /* owns the echo_* bytes */
  const siprec_allocator *mem;
} sr_sip_msg;

typedef enum sr_sip_parse_result {
  SR_SIP_OK = 0,
  /* Answerable but malformed: the view is filled enough for a 400. */
  SR_SIP_BAD = 1,
  /* Not SIP, or no Via/Call-ID/CSeq/From/To to answer with: drop. */
  SR_SIP_DROP = 2,
} sr_sip_parse_result;

/* Make Sofia-SIP's logging silent (its default is stderr, with levels from
 * environment variables). Idempotent and thread-safe; the parser calls it. */
void sr_sip_quiet(void);

/* Parse one complete message (a UDP datagram, or one framed stream message).
 * Returns SR_SIP_OK, SR_SIP_BAD (with *why naming the problem for the reason
 * phrase of the response, out->bad_status its status; sr_sip_msg_free()
 * still required), SR_SIP_DROP (nothing to free; *why says why, for the
 * log), or SIPREC_ENOMEM.
 * Stricter than Sofia-SIP where RFC 3261 and RFC 4475 say a message is
 * malformed: the Request-Line's exact form, single-valued headers given
 * twice, a Content-Length that is not a number, NUL bytes in the headers
 * (allowed only as a quoted-pair). More lenient where it can still answer:
 * a Request-Line Sofia-SIP cannot read (an unusual method token, LWS in the
 * URI) or a Via it cannot read still gets its error response. */
int sr_sip_parse(const siprec_allocator *mem, const char *buf, size_t len, sr_sip_msg *out,
                 const char **why);

void sr_sip_msg_free(sr_sip_msg *m);

/* Method from a name (case-sensitive, as RFC 3261 says). */
sr_method sr_method_from_name(const char *name, size_t len);
const char *sr_method_name(sr_method m);

#endif
