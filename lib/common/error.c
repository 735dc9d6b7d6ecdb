/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <siprec/common.h>

SIPREC_API const char *siprec_strerror(int code)
{
  switch (code) {
  case SIPREC_OK: return "success";
  case SIPREC_EINVAL: return "invalid argument";
  case SIPREC_ENOMEM: return "out of memory";
  case SIPREC_ERANDOM: return "random source failed";
  case SIPREC_EBUSY: return "called from a callback holding a lock of the same object";
  case SIPREC_ETOOBIG: return "size or count limit exceeded";
  case SIPREC_ENOTFOUND: return "not found";
  case SIPREC_EEXIST: return "already exists";
  case SIPREC_EAGAIN: return "resource exhausted, try again later";
  case SIPREC_EPARSE: return "malformed input";
  default: return "unknown error";
  }
}
