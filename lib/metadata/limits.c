/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "../common/alloc.h"
#include "model.h"

SIPREC_API int siprec_metadata_limits_new(siprec_metadata_limits **out,
                                          const siprec_allocator *mem)
{
  if (!out)
    return SIPREC_EINVAL;
  siprec_allocator am;
  int rc;
  siprec_metadata_limits *l = sr_object_new(mem, sizeof *l, &am, &rc);
  if (!l)
    return rc;
  *l = *md_default_limits();
  l->mem = am;
  *out = l;
  return 0;
}

SIPREC_API void siprec_metadata_limits_free(siprec_metadata_limits *limits)
{
  if (limits) {
    siprec_allocator mem = limits->mem;
    sr_free(&mem, limits);
  }
}

SIPREC_API int siprec_metadata_limits_set_max_bytes(siprec_metadata_limits *limits, size_t max)
{
  if (!limits || max == 0)
    return SIPREC_EINVAL;
  limits->max_bytes = max;
  return 0;
}

SIPREC_API int siprec_metadata_limits_set_max_depth(siprec_metadata_limits *limits, unsigned max)
{
  if (!limits || max == 0 || max > SIPREC_METADATA_MAX_DEPTH)
    return SIPREC_EINVAL;
  limits->max_depth = max;
  return 0;
}

SIPREC_API int siprec_metadata_limits_set_max_elements(siprec_metadata_limits *limits,
                                                       size_t max)
{
  /* Record indexes are 32-bit inside the model. */
  if (!limits || max == 0 || max > UINT32_MAX / 2)
    return SIPREC_EINVAL;
  limits->max_elements = max;
  return 0;
}

SIPREC_API int siprec_metadata_limits_set_max_attributes(siprec_metadata_limits *limits,
                                                         unsigned max)
{
  if (!limits)
    return SIPREC_EINVAL;
  limits->max_attributes = max;
  return 0;
}

/* The merged model's limits: record indexes are 32-bit inside the model. */
static int set_objects(siprec_metadata_limits *limits, size_t max, int k0, int k1)
{
  if (!limits || max == 0 || max > UINT32_MAX / 2)
    return SIPREC_EINVAL;
  for (int k = k0; k <= k1; k++)
    limits->max_objects[k] = max;
  return 0;
}

SIPREC_API int siprec_metadata_limits_set_max_participants(siprec_metadata_limits *limits,
                                                           size_t max)
{
  return set_objects(limits, max, SIPREC_METADATA_PARTICIPANT, SIPREC_METADATA_PARTICIPANT);
}

SIPREC_API int siprec_metadata_limits_set_max_streams(siprec_metadata_limits *limits, size_t max)
{
  return set_objects(limits, max, SIPREC_METADATA_STREAM, SIPREC_METADATA_STREAM);
}

SIPREC_API int siprec_metadata_limits_set_max_sessions(siprec_metadata_limits *limits,
                                                       size_t max)
{
  return set_objects(limits, max, SIPREC_METADATA_SESSION, SIPREC_METADATA_GROUP);
}

SIPREC_API int siprec_metadata_limits_set_max_associations(siprec_metadata_limits *limits,
                                                           size_t max)
{
  return set_objects(limits, max, SIPREC_METADATA_PARTICIPANT_SESSION,
                     SIPREC_METADATA_SESSION_RECORDING);
}

SIPREC_API int siprec_metadata_limits_set_max_extensions(siprec_metadata_limits *limits,
                                                         size_t max)
{
  if (!limits || max == 0 || max > UINT32_MAX / 2)
    return SIPREC_EINVAL;
  limits->max_extensions = max;
  return 0;
}
