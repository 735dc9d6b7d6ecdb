/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <siprec/common.h>
#include <siprec/version.h>

SIPREC_API const char *siprec_version(void)
{
  return SIPREC_VERSION_STRING;
}

SIPREC_API unsigned siprec_version_number(void)
{
  return SIPREC_VERSION_NUMBER;
}
