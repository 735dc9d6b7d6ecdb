/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A dialog of the SRS as the UAS (RFC 3261 12): its identity (Call-ID,
 * tags), the SRC's target and route set, the CSeq numbers, From/To as the
 * SRS's own requests carry them, and the path to the SRC. Plain data: owned
 * strings, no pointers into message buffers. Matching a request to the
 * dialog and writing an in-dialog request are functions of it. */
#ifndef SR_SIP_DIALOG_H
#define SR_SIP_DIALOG_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include <siprec/common.h>

#include "../common/strbuf.h"
#include "message.h"

/* Local tags and branches the SRS makes: hex characters. */
#define SR_TAG_LEN 16

/* A path's address as a dialog keeps it: IPv4 or IPv6, the only families
 * a path may carry (the handler refuses others), in 28 bytes where a
 * sockaddr_storage takes 128 (two per session). ss_family reads the family
 * as a sockaddr_storage's does; the union's address is the sockaddr's. */
typedef union sr_sockaddr {
  sa_family_t ss_family;
  struct sockaddr sa;
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
} sr_sockaddr;

typedef struct sr_dialog {
  char *call_id;
  size_t call_id_len;
  char local_tag[SR_TAG_LEN + 1];
  char *remote_tag;
  char *remote_target; /* the SRC's Contact URI */
  char *route_set;     /* Record-Route lines of the INVITE, in order, as Route: lines */
  char *remote_from;   /* the SRC's From header value (our requests' To) */
  char *local_to;      /* our To header value with our tag (our requests' From) */
  uint32_t remote_cseq;
  uint32_t local_cseq;
  /* The path to the SRC. */
  siprec_transport transport;
  sr_sockaddr remote;
  sr_sockaddr local;
  uint64_t conn_id;
} sr_dialog;

/* Replace *dst by a NUL-terminated copy of (p, n) made with `mem`: 0 or
 * SIPREC_ENOMEM (then *dst is kept). sr_sip_str_drop frees it and sets it NULL. */
int sr_sip_str_set(const siprec_allocator *mem, char **dst, const char *p, size_t n);
void sr_sip_str_drop(const siprec_allocator *mem, char **dst);

/* Free the dialog's strings. */
void sr_dialog_release(sr_dialog *d, const siprec_allocator *mem);

/* The dialog a new INVITE makes, the SRS answering with `local_tag`, over
 * `path` (CSeqs, tags, target, route set, From/To for our requests). The
 * Call-ID is the caller's. 0 or SIPREC_ENOMEM. */
int sr_dialog_init_uas(sr_dialog *d, const siprec_allocator *mem, const sr_sip_msg *invite,
                       const siprec_path *path, const char local_tag[SR_TAG_LEN + 1]);

/* The SRC now speaks from path's remote address, transport and connection. */
void sr_dialog_set_source(sr_dialog *d, const siprec_path *path);

/* The path to the SRC. */
siprec_path sr_dialog_path(const sr_dialog *d);

/* The request's From-tag is the dialog's remote tag. */
int sr_dialog_from_remote(const sr_dialog *d, const sr_sip_msg *m);

/* Whether a request's tags name the dialog: SR_DIALOG_TAGS_NO, _YES, or
 * _NO_TO_TAG (the From-tag matches and the To-tag is missing: a leniency
 * the caller may take). */
enum { SR_DIALOG_TAGS_NO = 0, SR_DIALOG_TAGS_YES = 1, SR_DIALOG_TAGS_NO_TO_TAG = 2 };
int sr_dialog_match_tags(const sr_dialog *d, const sr_sip_msg *m);

/* The source rule (handler.h, "Who may send in a dialog"): over UDP, where
 * addresses cost nothing to forge, only the SRC's exact address (IP and
 * port) speaks for the dialog; over TCP or TLS, whose handshake proves the
 * address, the dialog's connection or any other from the SRC's host.
 * 1 when `path` passes it. */
int sr_dialog_source_rule(const sr_dialog *d, const siprec_path *path);

/* Write an in-dialog request of the SRS (its local CSeq incremented) into
 * b, with top Via branch z9hG4bK`branch`, then `extra` header lines (or
 * NULL) and the body (or NULL). Returns its length, SIPREC_EINVAL (no
 * local address) or SIPREC_ETOOBIG. */
int sr_dialog_write_request(sr_dialog *d, const char *method, const char *branch,
                            const char *user_agent, const char *extra, const char *content_type,
                            const char *body, size_t body_len, sr_strbuf *b);

/* An address as text ("ip", or "ip:port" / "[ip]:port"): 0 or SIPREC_EINVAL. */
int sr_addr_text(const struct sockaddr *sa, char *out, size_t size, int with_port);

#endif
