/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "ADDR:PORT" as a command line gives it, into a socket address: one parser
 * for siprec-server's flags and siprec-client's (tests/tools/client), which
 * compiles this module, so that both read an address the same way.
 */
#ifndef SIPREC_EXAMPLES_HOSTPORT_H
#define SIPREC_EXAMPLES_HOSTPORT_H

#include <stdint.h>
#include <sys/socket.h>

/**
 * Parse "ADDR:PORT", "[V6]:PORT", "[V6]", a bare IPv4 address or a bare
 * IPv6 address (more than one colon, no brackets) into `*out`; an address
 * given without a port gets `default_port`. Numeric addresses only (no name
 * lookup), at most 63 characters.
 * @return 0, or -1 on a malformed address or port (`*out` then undefined)
 */
int parse_hostport(const char *text, uint16_t default_port, struct sockaddr_storage *out);

#endif
