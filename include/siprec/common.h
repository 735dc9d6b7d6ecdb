/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file siprec/common.h
 * What every libsiprec sub-API shares: the export macro, error codes, the
 * allocator hook and the run-time version.
 *
 * Conventions used by every public function of the library:
 * - Functions that can fail return an int: 0 (or a documented non-negative
 *   value) on success, a negative SIPREC_E* code on failure. A failed call
 *   changes nothing unless its documentation says otherwise.
 * - Constructors take a `const siprec_allocator *`; NULL means the C library's
 *   malloc/realloc/free. Allocation failure is reported as SIPREC_ENOMEM; the
 *   library never aborts, exits, asserts or prints.
 * - Objects are opaque; they are created by `siprec_X_new()` and released by
 *   `siprec_X_free()` (which accepts NULL); reference-counted ones (sessions,
 *   metadata snapshots) by `siprec_X_ref()`/`siprec_X_unref()` on a
 *   non-const pointer (unref accepts NULL).
 * - Names are `siprec_<object>_<verb>[_<noun>]` for actions
 *   (siprec_handler_accept_session) and `siprec_<object>_<noun>` for what an
 *   object holds (siprec_session_call_id); setters are
 *   `siprec_<object>_set_<noun>`. Where C cannot use the noun alone because
 *   a type has that name (siprec_metadata_status), the reader is
 *   `siprec_<object>_get_<noun>`; nowhere else is `get_` used.
 * - Functions return int for success or a SIPREC_E* code, a count or
 *   size_t for counts, and a pointer or NULL where the absence of the thing
 *   is not an error.
 * - Each header has a stable section, under the ABI promise of docs/abi.md,
 *   and may have an experimental one, declared only when the host defines
 *   SIPREC_EXPERIMENTAL before including it (its symbols live in a version
 *   node of their own, SIPREC_EXPERIMENTAL_0.1, and may change in any
 *   release).
 *
 * Thread safety: everything declared in this header is safe to call from any
 * thread at any time.
 */
#ifndef SIPREC_COMMON_H
#define SIPREC_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a symbol as part of the public ABI. The library is built with
 * -fvisibility=hidden, so only declarations carrying this macro are exported. */
#if defined(__GNUC__) || defined(__clang__)
#define SIPREC_API __attribute__((visibility("default")))
#else
#define SIPREC_API
#endif

/* ======================================================================
 * Stable API
 * ====================================================================== */

/** Error codes. All are negative; 0 is success. New codes may be added in
 * later versions: treat any unknown negative value as a generic failure. */
typedef enum siprec_error {
  SIPREC_OK = 0,
  /** An argument is invalid (NULL object, out-of-range value). */
  SIPREC_EINVAL = -1,
  /** Memory allocation failed; nothing was changed. */
  SIPREC_ENOMEM = -2,
  /* -3 is retired (it was a count that is not a power of two: now
   * SIPREC_EINVAL, like every other invalid argument). */
  /** The random source failed (getrandom, or the host's source). */
  SIPREC_ERANDOM = -4,
  /** The call was made from a callback that runs under a lock of the same
   * object, where it would deadlock. */
  SIPREC_EBUSY = -5,
  /** A size or count limit was exceeded. */
  SIPREC_ETOOBIG = -6,
  /** Requested item does not exist. */
  SIPREC_ENOTFOUND = -7,
  /** Requested item already exists. */
  SIPREC_EEXIST = -8,
  /** A resource (ports, sessions) is exhausted for now: try again later. */
  SIPREC_EAGAIN = -9,
  /** Input (a document, a message) is malformed or of the wrong kind. */
  SIPREC_EPARSE = -10
} siprec_error;

/**
 * A short English description of an error code, e.g. "out of memory".
 * Never returns NULL; unknown codes give "unknown error".
 */
SIPREC_API const char *siprec_strerror(int code);

/**
 * Allocator hook. Every constructor accepts one; the object then makes all of
 * its own allocations through it, for its whole life, and the struct is copied
 * (the host need not keep it). `user` is passed back unchanged.
 *
 * - `malloc` returns NULL on failure; it is never called with size 0.
 * - `realloc` has the C semantics: NULL on failure with `ptr` untouched.
 * - `free` accepts any pointer returned by the other two (never NULL).
 *
 * All three must be set, and must be safe to call from any thread that uses
 * the object. What third-party libraries allocate internally (none so far
 * for the map) is documented per sub-API, not hooked.
 */
typedef struct siprec_allocator {
  void *(*malloc)(size_t size, void *user);
  void *(*realloc)(void *ptr, size_t size, void *user);
  void (*free)(void *ptr, void *user);
  void *user;
} siprec_allocator;

/** Transport a message arrived on. */
typedef enum siprec_transport {
  SIPREC_TRANSPORT_UDP = 0,
  SIPREC_TRANSPORT_TCP = 1,
  SIPREC_TRANSPORT_TLS = 2,
} siprec_transport;

/**
 * The path a message travels: the transport, the local address it arrived
 * on (or leaves from), the peer's address and, on stream transports, the
 * host's id of the connection (0 for UDP). siprec_handler_process() takes
 * the path a message came on; the send callback gets the path to send on
 * (`remote` is the destination, `local` the address to send from: a host
 * with several listeners sends from that one, as SIP peers expect); the
 * ACL callback gets the path of the request it asks about.
 *
 * A host listening on a wildcard address (0.0.0.0, ::) learns `local` per
 * datagram with the IP_PKTINFO (IPv4) or IPV6_RECVPKTINFO (IPv6) socket
 * option and recvmsg(): the address in the ancillary data, with the
 * listener's port; on a stream transport, getsockname() of the accepted
 * connection. `local` goes into the Contact of the SRS and, unless a media
 * address is configured, into the SDP answer, so it must be an address the
 * SRC can reach, never a wildcard.
 *
 * The addresses are only read during the call that receives them.
 */
typedef struct siprec_path {
  siprec_transport transport;
  const struct sockaddr *local;  /**< IPv4 or IPv6 */
  const struct sockaddr *remote; /**< IPv4 or IPv6 */
  uint64_t conn_id;              /**< the host's connection id (stream transports), else 0 */
} siprec_path;

/**
 * Version of the loaded library as "MAJOR.MINOR.PATCH", which may differ
 * from SIPREC_VERSION_STRING in <siprec/version.h> if the host was compiled
 * against other headers.
 */
SIPREC_API const char *siprec_version(void);

/**
 * Version of the loaded library as one number, 0xMMmmpp, comparable with
 * SIPREC_VERSION_NUMBER.
 */
SIPREC_API unsigned siprec_version_number(void);

#ifdef __cplusplus
}
#endif

#endif
