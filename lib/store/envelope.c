/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <siprec/store.h>

#include "envelope.h"

int sr_snap_write(const sr_snap_envelope *env, const sr_snap_w *body, const sr_snap_w *secrets,
                  const uint8_t *seal_key, sr_snap_w *out)
{
  sr_snap_begin(out);
  sr_snap_put_bytes(out, SR_SNAP_T_KEY, env->key, env->key_len);
  sr_snap_put_str(out, SR_SNAP_T_SESSION_ID, env->session_id);
  sr_snap_put_u64(out, SR_SNAP_T_WALL, env->wall_ns);
  if (secrets && secrets->len && seal_key) {
    sr_snap_w sealed;
    sr_snap_w_init(&sealed, &out->mem);
    int rc = secrets->err ? secrets->err
                          : sr_seal(seal_key, env->key, env->key_len, secrets->p, secrets->len,
                                    &sealed);
    if (!rc)
      sr_snap_put_sub(out, SR_SNAP_T_SECRETS, &sealed);
    sr_snap_w_free(&sealed);
    if (rc && !out->err)
      out->err = rc;
  }
  sr_snap_put_sub(out, SR_SNAP_T_BODY, body);
  return sr_snap_end(out);
}

int sr_snap_read(const void *data, size_t len, sr_snap_parsed *out)
{
  memset(out, 0, sizeof *out);
  sr_snap_r r;
  int rc = sr_snap_open(&r, data, len, &out->version);
  if (rc)
    return rc;
  unsigned tag;
  sr_snap_val v;
  int have_body = 0, have_key = 0;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    switch (tag) {
    case SR_SNAP_T_KEY:
      out->key = v;
      have_key = v.len > 0;
      break;
    case SR_SNAP_T_SESSION_ID:
      out->session_id = v;
      break;
    case SR_SNAP_T_WALL:
      if (sr_snap_u64(&v, UINT64_MAX, &out->wall_ns))
        return SIPREC_EPARSE;
      break;
    case SR_SNAP_T_SECRETS:
      out->sealed = v;
      break;
    case SR_SNAP_T_BODY:
      out->body = v;
      have_body = 1;
      break;
    default:
      break; /* a later version's: skipped */
    }
  }
  if (rc < 0 || !have_body || !have_key)
    return SIPREC_EPARSE;
  return 0;
}

int sr_snap_unseal(const sr_snap_parsed *p, const uint8_t *seal_key, uint8_t *buf, size_t *len)
{
  if (!p->sealed.p)
    return SIPREC_ENOTFOUND;
  if (!seal_key)
    return SIPREC_EPARSE;
  return sr_unseal(seal_key, p->key.p, p->key.len, p->sealed.p, p->sealed.len, buf, len);
}

SIPREC_API int siprec_snapshot_inspect(const void *data, size_t len, siprec_snapshot_info *info)
{
  if (!data || !info)
    return SIPREC_EINVAL;
  memset(info, 0, sizeof *info);
  sr_snap_parsed p;
  int rc = sr_snap_read(data, len, &p);
  if (rc)
    return rc;
  info->version = p.version;
  info->key_len = p.key.len;
  size_t k = p.key.len < sizeof info->key - 1 ? p.key.len : sizeof info->key - 1;
  memcpy(info->key, p.key.p, k);
  info->key[k] = '\0';
  size_t n = p.session_id.len < sizeof info->session_id - 1 ? p.session_id.len
                                                             : sizeof info->session_id - 1;
  if (n)
    memcpy(info->session_id, p.session_id.p, n);
  info->session_id[n] = '\0';
  info->wall_ns = p.wall_ns;
  info->has_secrets = p.sealed.p != NULL;
  return 0;
}
