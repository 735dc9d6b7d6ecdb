/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-client's small helpers: a seeded random generator, base64, XML
 * escaping, addresses as text, the monotonic clock. */
#ifndef CL_UTIL_H
#define CL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* splitmix64: deterministic from its seed, one independent sequence per
 * purpose (cl_rng_for), so that turning on --loss does not change the SSRCs. */
typedef struct cl_rng {
  uint64_t s;
} cl_rng;

void cl_rng_for(cl_rng *r, uint64_t seed, const char *purpose, unsigned index);
uint64_t cl_rng_next(cl_rng *r);
uint32_t cl_rng_u32(cl_rng *r);
void cl_rng_bytes(cl_rng *r, uint8_t *out, size_t n);
/* True with probability pct percent (0..100). */
int cl_rng_pct(cl_rng *r, double pct);
/* n random characters from [0-9a-z], NUL-terminated (out holds n + 1). */
void cl_rng_token(cl_rng *r, char *out, size_t n);

/* Append text to out (capacity cap, NUL-terminated) with &<>"' escaped;
 * -1 when it does not fit. */
int cl_xml_escape(char *out, size_t cap, const char *text);

/* The address alone ("127.0.0.1", "::1"). */
const char *cl_addr_host(const struct sockaddr *sa, char *out, size_t cap);
uint16_t cl_addr_port(const struct sockaddr *sa);
void cl_addr_set_port(struct sockaddr_storage *sa, uint16_t port);
socklen_t cl_addr_len(const struct sockaddr *sa);
/* The host as it goes into a SIP URI or Via: IPv6 in brackets. */
const char *cl_addr_uri_host(const struct sockaddr *sa, char *out, size_t cap);
/* "ip:port" ("[v6]:port" for IPv6). */
const char *cl_addr_text(const struct sockaddr *sa, char *out, size_t cap);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t cl_now_ms(void);

#endif
