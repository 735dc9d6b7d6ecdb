/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A host such as FreeSWITCH carries its own Sofia-SIP under the same SONAME
 * as Debian's. libsiprec links Sofia-SIP statically with its symbols hidden,
 * so a program that links both must load and both must work: this program
 * links the shared libsiprec and the system's shared libsofia-sip-ua, parses
 * with each, and checks that libsiprec exports none of Sofia-SIP's names. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <siprec/siprec.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

static const char invite[] =
    "INVITE sip:srs@192.0.2.10 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcoexist\r\n"
    "From: <sip:src@192.0.2.1>;tag=1\r\nTo: <sip:srs@192.0.2.10>\r\n"
    "Call-ID: coexist@192.0.2.1\r\nCSeq: 1 INVITE\r\n"
    "Contact: <sip:src@192.0.2.1>;+sip.src\r\nRequire: siprec\r\n"
    "Content-Type: application/sdp\r\nContent-Length: 88\r\n\r\n"
    "v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 10000 RTP/AVP 0\r\n";

int main(void)
{
  /* The host's own Sofia-SIP. */
  msg_t *m = msg_make(sip_default_mclass(), 0, invite, (ssize_t)strlen(invite));
  sip_t *sip = m ? sip_object(m) : NULL;
  if (!sip || !sip->sip_call_id || strcmp(sip->sip_call_id->i_id, "coexist@192.0.2.1") != 0) {
    fprintf(stderr, "the system Sofia-SIP did not parse the message\n");
    return 1;
  }
  msg_destroy(m);

  /* libsiprec's own copy, through the handler. */
  siprec_handler *h;
  if (siprec_handler_new(&h, NULL, NULL, NULL, NULL) != 0)
    return 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5060) }, b = a;
  inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
  inet_pton(AF_INET, "192.0.2.10", &b.sin_addr);
  char out[8192];
  const siprec_path path = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&b, (struct sockaddr *)&a,
                             0 };
  size_t len = 0;
  int n = siprec_handler_process(h, invite, strlen(invite), &path, 1, out, sizeof out, &len);
  n = n == SIPREC_PROCESS_RESPONSE ? (int)len : n;
  siprec_handler_free(h);
  if (n < 12 || memcmp(out, "SIP/2.0 200 ", 12) != 0) {
    fprintf(stderr, "libsiprec did not answer 200 (%d): %.*s\n", n, n > 0 ? n : 0, out);
    return 1;
  }

  /* Sofia-SIP's names resolve to the system library, never to libsiprec. */
  void *self = dlopen("libsiprec.so.0", RTLD_NOW | RTLD_NOLOAD);
  if (!self) {
    fprintf(stderr, "libsiprec.so.0 is not loaded: %s\n", dlerror());
    return 1;
  }
  const char *names[] = { "msg_make", "sdp_parse", "su_home_new", "su_log_redirect" };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (dlsym(self, names[i]) != NULL) {
      Dl_info info;
      if (dladdr(dlsym(self, names[i]), &info) && info.dli_fname &&
          strstr(info.dli_fname, "libsiprec")) {
        fprintf(stderr, "libsiprec exports %s\n", names[i]);
        return 1;
      }
    }
  }
  dlclose(self);
  puts("system Sofia-SIP and libsiprec coexist");
  return 0;
}
