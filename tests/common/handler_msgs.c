/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "handler_msgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

const char fx_sdp2[] = "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                       "t=0 0\r\nm=audio 10000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                       "a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\na=label:1\r\n"
                       "m=audio 10002 RTP/AVP 0\r\na=sendonly\r\na=label:2\r\n";

const char fx_sdp3[] = "v=0\r\no=SRC 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
                       "t=0 0\r\nm=audio 10000 RTP/AVP 0\r\na=sendonly\r\na=label:1\r\n"
                       "m=audio 10002 RTP/AVP 0\r\na=inactive\r\na=label:2\r\n"
                       "m=audio 10004 RTP/AVP 8\r\na=sendonly\r\na=label:3\r\n";

void fx_request(char *out, size_t size, const char *method, const char *call_id,
                const char *to_tag, unsigned cseq, const char *branch, const char *extra,
                const char *body)
{
  snprintf(out, size,
           "%s sip:srs@192.0.2.10 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK%s\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:src@192.0.2.1>;tag=src1\r\n"
           "To: <sip:srs@192.0.2.10>%s%s\r\n"
           "Call-ID: %s\r\n"
           "CSeq: %u %s\r\n"
           "Contact: <sip:src@192.0.2.1:5060>;+sip.src\r\n"
           "%s"
           "%s"
           "Content-Length: %zu\r\n\r\n%s",
           method, branch, to_tag ? ";tag=" : "", to_tag ? to_tag : "", call_id, cseq, method,
           extra ? extra : "", body ? "Content-Type: application/sdp\r\n" : "",
           body ? strlen(body) : 0, body ? body : "");
}

int fx_process(siprec_handler *h, const siprec_path *path, const char *msg, uint64_t now,
               char *resp, size_t cap, int *status)
{
  size_t n = 0;
  int rc = siprec_handler_process(h, msg, strlen(msg), path, now, resp, cap - 1, &n);
  *status = 0;
  if (rc == SIPREC_PROCESS_RESPONSE) {
    resp[n] = '\0';
    *status = atoi(resp + 8);
    return (int)n;
  }
  resp[0] = '\0';
  return rc;
}

int fx_resp_to_tag(const char *resp, char *tag, size_t size)
{
  const char *t = strstr(resp, "\r\nTo: ");
  if (!t || !(t = strstr(t, ";tag=")))
    return -1;
  t += 5;
  size_t n = strcspn(t, ";\r\n");
  snprintf(tag, size, "%.*s", (int)n, t);
  return 0;
}
