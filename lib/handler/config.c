/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler's configuration and callbacks objects. */
#include <string.h>

#include <siprec/version.h>

#include "../common/alloc.h"
#include "../media/codecs_built.h"
#include "../store/seal.h"
#include "handler_internal.h"

void sr_handler_config_defaults(struct siprec_handler_config *cfg)
{
  cfg->shards = SIPREC_SHMAP_DEFAULT_SHARDS;
  cfg->rtp_low = 20000;
  cfg->rtp_high = 39999;
  /* Every codec this build decodes, so that a recording is never refused
   * for a codec the media can decode, nor accepted for one it cannot; the
   * offer's order picks among them. */
  static const char *const candidates[] = { "PCMU", "PCMA",    "G722",         "opus",
                                             "G729", "G726-32", "AAL2-G726-32", "L16" };
  cfg->n_codecs = 0;
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
    if (cfg->n_codecs < SR_MAX_CODECS && sr_media_codec_built(candidates[i]))
      strcpy(cfg->codec_names[cfg->n_codecs++], candidates[i]);
  cfg->max_message = 65536;
  cfg->t1_ms = 500;
  cfg->t2_ms = 4000;
  cfg->refuse_plain = 1;
  cfg->session_expires_s = 1800;
  cfg->min_se_s = 90;
  cfg->ping_ms = 60000;
  cfg->idle_ms = 0;
  cfg->defer_ms = 10000;
  cfg->max_pending_per_source = 32;
  cfg->md_limits = *md_default_limits();
  cfg->log_level = SIPREC_LOG_INFO;
  cfg->jitter_ms = 200;
  cfg->frame_ms = 20;
  cfg->audio_rate = 0;
  cfg->no_media_ms = 10000;
  cfg->snapshots = 0;
  cfg->snapshot_media_ms = SR_SNAPSHOT_MEDIA_MS;
  cfg->failover_silence_ms = 2000;
}

static int dup_str(const siprec_allocator *mem, char **dst, const char *src)
{
  char *c = NULL;
  if (src) {
    size_t n = strlen(src);
    c = sr_malloc(mem, n + 1);
    if (!c)
      return SIPREC_ENOMEM;
    memcpy(c, src, n + 1);
  }
  sr_free(mem, *dst);
  *dst = c;
  return 0;
}

int sr_handler_config_copy(struct siprec_handler_config *dst, const struct siprec_handler_config *src,
                           const siprec_allocator *mem)
{
  *dst = *src;
  dst->contact_user = dst->user_agent = dst->media_address = NULL;
  if (dup_str(mem, &dst->contact_user, src->contact_user) < 0 ||
      dup_str(mem, &dst->user_agent,
              src->user_agent ? src->user_agent : "libsiprec/" SIPREC_VERSION_STRING) < 0 ||
      dup_str(mem, &dst->media_address, src->media_address) < 0) {
    sr_handler_config_release(dst, mem);
    return SIPREC_ENOMEM;
  }
  return 0;
}

void sr_handler_config_release(struct siprec_handler_config *cfg, const siprec_allocator *mem)
{
  sr_free(mem, cfg->contact_user);
  sr_free(mem, cfg->user_agent);
  sr_free(mem, cfg->media_address);
  cfg->contact_user = cfg->user_agent = cfg->media_address = NULL;
}

SIPREC_API int siprec_handler_config_new(siprec_handler_config **out, const siprec_allocator *mem)
{
  if (!out)
    return SIPREC_EINVAL;
  int rc;
  siprec_allocator a;
  siprec_handler_config *c = sr_object_new(mem, sizeof *c, &a, &rc);
  if (!c)
    return rc;
  c->mem = a;
  sr_handler_config_defaults(c);
  *out = c;
  return 0;
}

SIPREC_API void siprec_handler_config_free(siprec_handler_config *cfg)
{
  if (!cfg)
    return;
  siprec_allocator a = cfg->mem;
  sr_handler_config_release(cfg, &a);
  sr_free(&a, cfg);
}

SIPREC_API int siprec_handler_config_set_shards(siprec_handler_config *cfg, unsigned shards)
{
  if (!cfg || shards == 0 || shards > SIPREC_SHMAP_MAX_SHARDS)
    return SIPREC_EINVAL;
  if (shards & (shards - 1))
    return SIPREC_EINVAL;
  cfg->shards = shards;
  return 0;
}

/* Header values must not smuggle line breaks into messages. */
static int header_safe(const char *s)
{
  return s && *s && !strpbrk(s, "\r\n");
}

SIPREC_API int siprec_handler_config_set_contact_user(siprec_handler_config *cfg, const char *user)
{
  if (!cfg || !header_safe(user) || strpbrk(user, "@<>;: \t"))
    return SIPREC_EINVAL;
  return dup_str(&cfg->mem, &cfg->contact_user, user);
}

SIPREC_API int siprec_handler_config_set_user_agent(siprec_handler_config *cfg, const char *ua)
{
  if (!cfg || !header_safe(ua))
    return SIPREC_EINVAL;
  return dup_str(&cfg->mem, &cfg->user_agent, ua);
}

SIPREC_API int siprec_handler_config_set_media_address(siprec_handler_config *cfg,
                                                       const char *address)
{
  if (!cfg || (address && (!header_safe(address) || strlen(address) >= SR_SDP_ADDR_MAX ||
                           strpbrk(address, " \t"))))
    return SIPREC_EINVAL;
  return dup_str(&cfg->mem, &cfg->media_address, address);
}

SIPREC_API int siprec_handler_config_set_rtp_ports(siprec_handler_config *cfg, uint16_t low,
                                                   uint16_t high)
{
  if (!cfg || low == 0 || high < low || high - low < 1)
    return SIPREC_EINVAL;
  cfg->rtp_low = low;
  cfg->rtp_high = high;
  return 0;
}

SIPREC_API int siprec_handler_config_set_codecs(siprec_handler_config *cfg,
                                                const char *const *codecs, int prefer_own_order)
{
  if (!cfg || !codecs || !codecs[0])
    return SIPREC_EINVAL;
  size_t n = 0;
  for (; codecs[n]; n++)
    if (n == SR_MAX_CODECS || strlen(codecs[n]) >= SR_CODEC_NAME_MAX || !header_safe(codecs[n]))
      return SIPREC_EINVAL;
  for (size_t i = 0; i < n; i++)
    strcpy(cfg->codec_names[i], codecs[i]);
  cfg->n_codecs = n;
  cfg->prefer_own_order = prefer_own_order != 0;
  return 0;
}

SIPREC_API int siprec_handler_config_set_max_sessions(siprec_handler_config *cfg, size_t max)
{
  if (!cfg)
    return SIPREC_EINVAL;
  cfg->max_sessions = max;
  return 0;
}

SIPREC_API int siprec_handler_config_set_max_message_size(siprec_handler_config *cfg, size_t max)
{
  if (!cfg || max < 1024)
    return SIPREC_EINVAL;
  cfg->max_message = max;
  return 0;
}

SIPREC_API int siprec_handler_config_set_timers(siprec_handler_config *cfg, uint32_t t1_ms,
                                                uint32_t t2_ms)
{
  if (!cfg || t1_ms == 0 || t2_ms < t1_ms)
    return SIPREC_EINVAL;
  cfg->t1_ms = t1_ms;
  cfg->t2_ms = t2_ms;
  return 0;
}

SIPREC_API int siprec_handler_config_set_refuse_plain(siprec_handler_config *cfg, int refuse)
{
  if (!cfg)
    return SIPREC_EINVAL;
  cfg->refuse_plain = refuse != 0;
  return 0;
}

SIPREC_API int siprec_handler_config_set_session_timer(siprec_handler_config *cfg,
                                                       uint32_t session_expires_s,
                                                       uint32_t min_se_s)
{
  if (!cfg || min_se_s == 0 || (session_expires_s && session_expires_s < min_se_s))
    return SIPREC_EINVAL;
  cfg->session_expires_s = session_expires_s;
  cfg->min_se_s = min_se_s;
  return 0;
}

SIPREC_API int siprec_handler_config_set_ping_interval(siprec_handler_config *cfg, uint32_t ms)
{
  if (!cfg)
    return SIPREC_EINVAL;
  cfg->ping_ms = ms;
  return 0;
}

SIPREC_API int siprec_handler_config_set_idle_limit(siprec_handler_config *cfg, uint32_t ms)
{
  if (!cfg)
    return SIPREC_EINVAL;
  cfg->idle_ms = ms;
  return 0;
}

SIPREC_API int siprec_handler_config_set_defer_timeout(siprec_handler_config *cfg, uint32_t ms)
{
  if (!cfg || ms == 0)
    return SIPREC_EINVAL;
  cfg->defer_ms = ms;
  return 0;
}

SIPREC_API int siprec_handler_config_set_max_pending_per_source(siprec_handler_config *cfg,
                                                                size_t max)
{
  if (!cfg)
    return SIPREC_EINVAL;
  cfg->max_pending_per_source = max;
  return 0;
}

SIPREC_API int siprec_handler_config_set_max_pending(siprec_handler_config *cfg, size_t sessions,
                                                     size_t ports)
{
  if (!cfg)
    return SIPREC_EINVAL;
  cfg->max_pending = sessions;
  cfg->max_pending_ports = ports;
  return 0;
}

SIPREC_API int siprec_handler_config_set_metadata_limits(siprec_handler_config *cfg,
                                                         const siprec_metadata_limits *limits)
{
  if (!cfg)
    return SIPREC_EINVAL;
  cfg->md_limits = limits ? *limits : *md_default_limits();
  return 0;
}

SIPREC_API int siprec_handler_config_set_log_level(siprec_handler_config *cfg,
                                                   siprec_log_level level)
{
  if (!cfg || (unsigned)level > SIPREC_LOG_DEBUG)
    return SIPREC_EINVAL;
  cfg->log_level = level;
  return 0;
}

SIPREC_API int siprec_handler_config_set_snapshots(siprec_handler_config *cfg, int enable,
                                                   uint32_t media_interval_ms)
{
  if (!cfg || media_interval_ms > 300000)
    return SIPREC_EINVAL;
  cfg->snapshots = enable != 0;
  cfg->snapshot_media_ms = media_interval_ms ? media_interval_ms : SR_SNAPSHOT_MEDIA_MS;
  return 0;
}

SIPREC_API int siprec_handler_config_set_snapshot_key(siprec_handler_config *cfg,
                                                      const uint8_t *key)
{
  if (!cfg)
    return SIPREC_EINVAL;
  if (!key) {
    cfg->has_seal_key = 0;
    memset(cfg->seal_key, 0, sizeof cfg->seal_key);
    return 0;
  }
  if (!sr_seal_available())
    return SIPREC_EINVAL;
  memcpy(cfg->seal_key, key, sizeof cfg->seal_key);
  cfg->has_seal_key = 1;
  return 0;
}

SIPREC_API int siprec_handler_config_set_failover_silence(siprec_handler_config *cfg, uint32_t ms)
{
  if (!cfg || ms > 3600000)
    return SIPREC_EINVAL;
  cfg->failover_silence_ms = ms;
  return 0;
}

SIPREC_API int siprec_handler_callbacks_new(siprec_handler_callbacks **out,
                                            const siprec_allocator *mem)
{
  if (!out)
    return SIPREC_EINVAL;
  int rc;
  siprec_allocator a;
  siprec_handler_callbacks *c = sr_object_new(mem, sizeof *c, &a, &rc);
  if (!c)
    return rc;
  c->mem = a;
  *out = c;
  return 0;
}

SIPREC_API void siprec_handler_callbacks_free(siprec_handler_callbacks *cbs)
{
  if (cbs) {
    siprec_allocator a = cbs->mem;
    sr_free(&a, cbs);
  }
}

SIPREC_API void siprec_handler_callbacks_set_send(siprec_handler_callbacks *cbs, siprec_send_cb fn)
{
  if (cbs)
    cbs->send = fn;
}

SIPREC_API void siprec_handler_callbacks_set_session_offered(siprec_handler_callbacks *cbs,
                                                             siprec_session_offered_cb fn)
{
  if (cbs)
    cbs->offered = fn;
}

SIPREC_API void siprec_handler_callbacks_set_session_started(siprec_handler_callbacks *cbs,
                                                             siprec_session_started_cb fn)
{
  if (cbs)
    cbs->started = fn;
}

SIPREC_API void siprec_handler_callbacks_set_session_updated(siprec_handler_callbacks *cbs,
                                                             siprec_session_updated_cb fn)
{
  if (cbs)
    cbs->updated = fn;
}

SIPREC_API void siprec_handler_callbacks_set_session_ended(siprec_handler_callbacks *cbs,
                                                           siprec_session_ended_cb fn)
{
  if (cbs)
    cbs->ended = fn;
}

SIPREC_API void siprec_handler_callbacks_set_ports(siprec_handler_callbacks *cbs,
                                                   siprec_port_alloc_cb alloc,
                                                   siprec_port_free_cb release)
{
  if (cbs) {
    cbs->port_alloc = alloc;
    cbs->port_free = release;
  }
}

SIPREC_API void siprec_handler_callbacks_set_random(siprec_handler_callbacks *cbs,
                                                    siprec_random_cb fn)
{
  if (cbs)
    cbs->random = fn;
}

SIPREC_API void siprec_handler_callbacks_set_acl(siprec_handler_callbacks *cbs, siprec_acl_cb fn)
{
  if (cbs)
    cbs->acl = fn;
}

SIPREC_API void siprec_handler_callbacks_set_snapshot(siprec_handler_callbacks *cbs,
                                                      siprec_snapshot_cb fn)
{
  if (cbs)
    cbs->snapshot = fn;
}

SIPREC_API void siprec_handler_callbacks_set_wallclock(siprec_handler_callbacks *cbs,
                                                       siprec_wallclock_cb fn)
{
  if (cbs)
    cbs->wallclock = fn;
}

SIPREC_API void siprec_handler_callbacks_set_log(siprec_handler_callbacks *cbs, siprec_log_cb fn)
{
  if (cbs)
    cbs->log = fn;
}

SIPREC_API int siprec_handler_config_set_jitter_depth(siprec_handler_config *cfg, uint32_t ms)
{
  if (!cfg || ms < 20 || ms > 2000)
    return SIPREC_EINVAL;
  cfg->jitter_ms = ms;
  return 0;
}

SIPREC_API int siprec_handler_config_set_frame_duration(siprec_handler_config *cfg, uint32_t ms)
{
  if (!cfg || ms < 10 || ms > 120)
    return SIPREC_EINVAL;
  cfg->frame_ms = ms;
  return 0;
}

SIPREC_API int siprec_handler_config_set_audio_rate(siprec_handler_config *cfg, uint32_t hz)
{
  if (!cfg || hz > 48000 || (hz != 0 && hz < 8000))
    return SIPREC_EINVAL;
#ifndef SR_HAVE_SPEEXDSP
  if (hz != 0)
    return SIPREC_EINVAL; /* no resampler in this build */
#endif
  cfg->audio_rate = hz;
  return 0;
}

SIPREC_API int siprec_handler_config_set_no_media_timeout(siprec_handler_config *cfg, uint32_t ms)
{
  if (!cfg)
    return SIPREC_EINVAL;
  cfg->no_media_ms = ms;
  return 0;
}

SIPREC_API void siprec_handler_callbacks_set_audio(siprec_handler_callbacks *cbs,
                                                   siprec_audio_cb fn)
{
  if (cbs)
    cbs->audio = fn;
}

SIPREC_API void siprec_handler_callbacks_set_stream_event(siprec_handler_callbacks *cbs,
                                                          siprec_stream_event_cb fn)
{
  if (cbs)
    cbs->stream_event = fn;
}

SIPREC_API void siprec_handler_callbacks_set_dtmf(siprec_handler_callbacks *cbs,
                                                  siprec_dtmf_cb fn)
{
  if (cbs)
    cbs->dtmf = fn;
}
