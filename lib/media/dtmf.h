/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RFC 4733 telephone-events as DTMF key presses, not audio. A sender
 * sends each event many times: updates while the key is held (same RTP
 * timestamp, growing duration) and its end three times (the E bit set).
 * sr_dtmf_feed turns that stream into one start and one end per press.
 *
 * Only events 0-15 (the DTMF keys 0-9 * # A-D) are reported; other events
 * (flash, modem tones) are read and ignored. A long press that RFC 4733
 * section 2.5.1.3 splits into segments (a new timestamp every 8 s) shows
 * as one press per segment. */
#ifndef SR_MEDIA_DTMF_H
#define SR_MEDIA_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One telephone-event block of a payload (RFC 4733 section 2.3). */
typedef struct sr_dtmf_payload {
  uint8_t event;     /* 0..255 */
  bool end;          /* the E bit */
  uint8_t volume;    /* 0..63: the power is -volume dBm0 */
  uint16_t duration; /* RTP timestamp units since the event's timestamp */
} sr_dtmf_payload;

/* Reads the first event block of a payload (the blocks after it are
 * redundant copies of earlier events, RFC 4733 section 2.6, already
 * seen). Returns 0, SIPREC_EPARSE for fewer than 4 bytes, SIPREC_EINVAL
 * for NULL arguments. */
int sr_dtmf_parse(const uint8_t *payload, size_t len, sr_dtmf_payload *out);

/* The key of event 0..15, or '\0' for another event. */
char sr_dtmf_digit(uint8_t event);

typedef struct sr_dtmf_event {
  char digit;         /* '0'-'9', '*', '#', 'A'-'D' */
  uint8_t code;       /* 0..15 */
  uint8_t volume;     /* -dBm0 */
  uint16_t duration;  /* so far (start) or in all (end), timestamp units */
  uint32_t timestamp; /* the RTP timestamp of the event's start */
} sr_dtmf_event;

/* What sr_dtmf_feed found in a packet. Both bits when the first packet of
 * a press seen is already one of its ends (the start was lost). */
enum {
  SR_DTMF_START = 1u << 0,
  SR_DTMF_END = 1u << 1,
};

/* A stream's events so far: zero it (or sr_dtmf_init) to start. */
typedef struct sr_dtmf {
  uint32_t timestamp; /* of the press being heard, or the last one */
  bool active;        /* a press was started and not ended */
  bool seen;          /* any press yet: timestamp means something */
  bool ended;         /* its end was reported: later copies are repeats */
} sr_dtmf;

void sr_dtmf_init(sr_dtmf *s);

/* Takes one telephone-event packet's payload and RTP timestamp. Returns
 * SR_DTMF_START and/or SR_DTMF_END with *ev filled, 0 for a packet that
 * tells nothing new (an update of a press already started, a repeated
 * end, a late packet of an older press, an event other than 0-15), or
 * SIPREC_EPARSE / SIPREC_EINVAL as sr_dtmf_parse. */
int sr_dtmf_feed(sr_dtmf *s, uint32_t rtp_timestamp, const uint8_t *payload, size_t len,
                 sr_dtmf_event *ev);

#endif
