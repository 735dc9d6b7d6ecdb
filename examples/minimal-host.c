/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * minimal-host: the smallest recording server built on libsiprec, to read
 * before embedding the library (docs/embedding.md walks through it). One
 * UDP socket, one thread, one poll loop; nothing but libsiprec and POSIX.
 *
 *   minimal-host --listen ADDR:PORT --rtp-ports LOW-HIGH [--duration-s N]
 *
 * It answers SIPREC sessions, hands out RTP ports from its own range and
 * prints one line per session event on stdout. It receives no media: where
 * a real host would open its RTP sockets, this one only marks a port used.
 * SIGINT, SIGTERM or the end of --duration-s ends every session with a BYE;
 * it exits 0 once the SRCs answered (or after 5 s). IPv4 only: an IPv6
 * host does the same with IPV6_RECVPKTINFO and struct in6_pktinfo.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* struct in_pktinfo, ppoll, SOCK_NONBLOCK */
#endif
#include <siprec/siprec.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S UINT64_C(1000000000)
/* How long a graceful shutdown waits for the answers to its BYEs. */
#define SHUTDOWN_WAIT_NS (5 * NS_PER_S)

typedef struct host {
  siprec_handler *handler;
  int fd;
  struct sockaddr_in listen; /* as bound: the address may be 0.0.0.0 */
  uint16_t port_low;         /* first (even) port of the range */
  size_t pairs;              /* RTP/RTCP port pairs in the range */
  unsigned char *used;       /* one flag per pair */
  size_t next_pair;          /* where the next search for a free pair starts */
  size_t pairs_used;
} host;

/* What the host keeps per session: attached in `offered`, freed in `ended`
 * (handler.h: every session seen in `offered` reaches `ended` exactly once,
 * so this never leaks, whatever ends the session). */
typedef struct call {
  uint64_t offered_ns;
} call;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

/* The handler has no clock of its own: every call takes the host's time. */
static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Send on `path`: to path->remote, from path->local. On a socket bound to
 * 0.0.0.0 the kernel would pick the source address from its routes; the
 * SRC expects answers from the address it sent to, so IP_PKTINFO pins it.
 * The send callback (2xx retransmissions, BYEs, pings, refreshes) and the
 * responses siprec_handler_process() writes both go out here. */
static void on_send(void *user, const void *data, size_t len, const siprec_path *path)
{
  host *ho = user;
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  _Alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(struct in_pktinfo))] = {0};
  struct msghdr msg = {.msg_name = (void *)path->remote,
                       .msg_namelen = sizeof(struct sockaddr_in),
                       .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = ctl, .msg_controllen = sizeof ctl};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
  struct in_pktinfo pi = {.ipi_spec_dst = ((const struct sockaddr_in *)path->local)->sin_addr};
  memcpy(CMSG_DATA(c), &pi, sizeof pi);
  if (sendmsg(ho->fd, &msg, 0) < 0)
    fprintf(stderr, "sendmsg: %s\n", strerror(errno));
}

static void on_log(void *user, siprec_log_level level, const char *message)
{
  (void)user;
  fprintf(stderr, "siprec[%d]: %s\n", (int)level, message);
}

/* The port callbacks run before `offered` and after `ended`, outside the
 * time the session carries our `call`: they key on the port alone. A host
 * with RTP sockets would open one here and close it in port_free. */
static int port_alloc(void *user, siprec_session *s, size_t index, uint16_t *port)
{
  host *ho = user;
  (void)s;
  (void)index;
  for (size_t n = 0; n < ho->pairs; n++) {
    size_t i = (ho->next_pair + n) % ho->pairs;
    if (ho->used[i])
      continue;
    ho->used[i] = 1;
    ho->pairs_used++;
    /* Round robin: a port just freed is the last one handed out again, so
     * late packets of an ended call do not land in a new one. */
    ho->next_pair = (i + 1) % ho->pairs;
    *port = (uint16_t)(ho->port_low + 2 * i); /* RTP; RTCP is *port + 1 */
    return 0;
  }
  return SIPREC_EAGAIN; /* the range is full: the INVITE gets 503 */
}

static void port_free(void *user, siprec_session *s, size_t index, uint16_t port)
{
  host *ho = user;
  (void)s;
  (void)index;
  size_t i = (size_t)(port - ho->port_low) / 2;
  if (port >= ho->port_low && i < ho->pairs && ho->used[i]) {
    ho->used[i] = 0;
    ho->pairs_used--;
  }
}

/* One line per event: the session id (made to be logged, unlike the
 * Call-ID, which comes from the network: printed to match the SRC's logs),
 * then per stream its label, port, codec and who speaks on it. */
static void print_event(const char *event, siprec_session *s, const char *tail)
{
  size_t cid_len, n = siprec_session_stream_count(s);
  const char *cid = siprec_session_call_id(s, &cid_len);
  siprec_metadata *md = siprec_session_metadata(s); /* NULL until metadata came */
  printf("%s id=%s call-id=%.*s streams=%zu", event, siprec_session_id(s), (int)cid_len, cid, n);
  for (size_t i = 0; i < n; i++) {
    siprec_stream_info st = {.size = sizeof st}; /* the library fills what fits */
    if (siprec_session_stream(s, i, &st) != 0)
      continue;
    printf(" [%zu label=%s port=%u codec=%s speaker=", i, st.label ? st.label : "-",
           (unsigned)st.port, st.codec ? st.codec : "-");
    /* The model's m-lines are bound to the session's streams: m-line i is
     * stream i, and its senders are participants of the model. */
    size_t who = 0, senders = siprec_metadata_mline_sender(md, i, 0, &who);
    for (size_t k = 0; k < senders; k++) {
      const char *id = NULL, *aor = NULL;
      siprec_metadata_mline_sender(md, i, k, &who);
      siprec_metadata_participant(md, who, &id, &aor, NULL, NULL);
      printf("%s%s", k ? "," : "", aor ? aor : id ? id : "?");
    }
    printf("%s]", senders ? "" : "-");
  }
  siprec_metadata_unref(md);
  printf("%s%s\n", tail ? " " : "", tail ? tail : "");
  fflush(stdout); /* a line as it happens, also into a pipe */
}

static siprec_decision on_offered(void *user, siprec_session *s, int *status)
{
  (void)user;
  call *c = calloc(1, sizeof *c);
  if (!c) {
    *status = 503; /* a refused session still reaches `ended` */
    return SIPREC_DECISION_REFUSE;
  }
  c->offered_ns = now_ns();
  siprec_session_set_user(s, c);
  print_event("offered", s, NULL);
  return SIPREC_DECISION_ACCEPT;
}

static void on_started(void *user, siprec_session *s)
{
  (void)user;
  print_event("started", s, NULL);
}

static void on_updated(void *user, siprec_session *s)
{
  (void)user;
  char tail[32];
  snprintf(tail, sizeof tail, "changes=0x%x", siprec_session_changes(s));
  print_event("updated", s, tail);
}

static void on_ended(void *user, siprec_session *s, siprec_end_reason reason)
{
  (void)user;
  call *c = siprec_session_user(s);
  char tail[64];
  snprintf(tail, sizeof tail, "reason=%s after-ms=%llu", siprec_end_reason_name(reason),
           c ? (unsigned long long)((now_ns() - c->offered_ns) / 1000000) : 0ULL);
  print_event("ended", s, tail);
  siprec_session_set_user(s, NULL);
  free(c);
}

/* Feed every datagram waiting on the (non-blocking) socket to the handler. */
static void read_datagrams(host *ho)
{
  static unsigned char buf[65536];
  unsigned char out[8192]; /* enough for every response (handler.h) */
  for (;;) {
    struct sockaddr_in remote, local = ho->listen;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    _Alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct msghdr msg = {.msg_name = &remote, .msg_namelen = sizeof remote,
                         .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = ctl, .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(ho->fd, &msg, 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        fprintf(stderr, "recvmsg: %s\n", strerror(errno));
      return;
    }
    /* `local` goes into our Contact and SDP answer, so it must be the
     * address the SRC reached, never 0.0.0.0: IP_PKTINFO says which. */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        local.sin_addr = pi.ipi_spec_dst;
      }
    }
    siprec_path path = {.transport = SIPREC_TRANSPORT_UDP,
                        .local = (const struct sockaddr *)&local,
                        .remote = (const struct sockaddr *)&remote};
    size_t out_len = 0;
    int r = siprec_handler_process(ho->handler, buf, (size_t)n, &path, now_ns(), out,
                                   sizeof out, &out_len);
    if (r == SIPREC_PROCESS_RESPONSE)
      on_send(ho, out, out_len, &path); /* the answer goes back on the request's path */
    else if (r < 0)
      fprintf(stderr, "process: %s\n", siprec_strerror(r));
  }
}

/* "ADDR:PORT", IPv4; port 0 lets the kernel pick one (printed at start). */
static int parse_listen(const char *arg, struct sockaddr_in *sa)
{
  char ip[INET_ADDRSTRLEN], rest;
  unsigned port;
  *sa = (struct sockaddr_in){.sin_family = AF_INET};
  if (sscanf(arg, "%15[0-9.]:%u%c", ip, &port, &rest) != 2 || port > 65535 ||
      inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
    return -1;
  sa->sin_port = htons((uint16_t)port);
  return 0;
}

/* "LOW-HIGH": RTP on its even ports, each odd successor kept for RTCP. */
static int parse_ports(const char *arg, host *ho)
{
  unsigned low, high;
  char rest;
  if (sscanf(arg, "%u-%u%c", &low, &high, &rest) != 2 || low == 0 || high > 65535)
    return -1;
  low += low % 2;
  if (low >= high)
    return -1;
  ho->port_low = (uint16_t)low;
  ho->pairs = (high - low + 1) / 2;
  return (ho->used = calloc(ho->pairs, 1)) ? 0 : -1;
}

int main(int argc, char **argv)
{
  host ho = {.fd = -1};
  unsigned long duration_s = 0;
  int have_listen = 0, bad = 0;
  for (int i = 1; i < argc && !bad; i += 2) {
    const char *val = i + 1 < argc ? argv[i + 1] : "";
    char *end;
    if (!strcmp(argv[i], "--listen") && parse_listen(val, &ho.listen) == 0)
      have_listen = 1;
    else if (!strcmp(argv[i], "--rtp-ports") && !ho.used)
      bad = parse_ports(val, &ho) != 0;
    else if (!strcmp(argv[i], "--duration-s")) {
      duration_s = strtoul(val, &end, 10);
      bad = duration_s == 0 || *end;
    }
    else
      bad = 1;
  }
  if (bad || !have_listen || !ho.used) {
    fputs("usage: minimal-host --listen ADDR:PORT --rtp-ports LOW-HIGH [--duration-s N]\n",
          stderr);
    return 2;
  }

  /* Block the stop signals everywhere but inside ppoll(): one can only
   * arrive while the loop waits, and the wait then returns at once, so none
   * is lost between checking the flag and going to sleep. */
  sigset_t stop_set, unblocked;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_set, &unblocked);
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int on = 1;
  socklen_t sl = sizeof ho.listen;
  ho.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (ho.fd < 0 || setsockopt(ho.fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) < 0 ||
      bind(ho.fd, (struct sockaddr *)&ho.listen, sizeof ho.listen) < 0 ||
      getsockname(ho.fd, (struct sockaddr *)&ho.listen, &sl) < 0) { /* port 0: which one */
    perror("minimal-host: socket");
    return 1;
  }

  /* Config and callbacks are copied by siprec_handler_new(): freed at once. */
  siprec_handler_config *cfg = NULL;
  siprec_handler_callbacks *cbs = NULL;
  if (siprec_handler_config_new(&cfg, NULL) != 0 || siprec_handler_callbacks_new(&cbs, NULL) != 0)
    return 1;
  siprec_handler_config_set_user_agent(cfg, "minimal-host");
  siprec_handler_callbacks_set_send(cbs, on_send);
  siprec_handler_callbacks_set_log(cbs, on_log);
  siprec_handler_callbacks_set_session_offered(cbs, on_offered);
  siprec_handler_callbacks_set_session_started(cbs, on_started);
  siprec_handler_callbacks_set_session_updated(cbs, on_updated);
  siprec_handler_callbacks_set_session_ended(cbs, on_ended);
  siprec_handler_callbacks_set_ports(cbs, port_alloc, port_free);
  int rc = siprec_handler_new(&ho.handler, cfg, cbs, &ho, NULL);
  siprec_handler_config_free(cfg);
  siprec_handler_callbacks_free(cbs);
  if (rc != 0) {
    fprintf(stderr, "minimal-host: %s\n", siprec_strerror(rc));
    return 1;
  }
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &ho.listen.sin_addr, ip, sizeof ip);
  printf("listening %s:%u rtp-ports %u-%u\n", ip, (unsigned)ntohs(ho.listen.sin_port),
         (unsigned)ho.port_low, (unsigned)(ho.port_low + 2 * ho.pairs - 1));
  fflush(stdout);

  uint64_t stop_at = duration_s ? now_ns() + duration_s * NS_PER_S : UINT64_MAX;
  uint64_t give_up_at = UINT64_MAX;
  for (;;) {
    uint64_t now = now_ns();
    if (give_up_at == UINT64_MAX && (stop_signal || now >= stop_at)) {
      /* Graceful: a BYE to every SRC, retransmitted until answered; new
       * INVITEs get 503 meanwhile. The loop goes on to carry the answers. */
      printf("stopping sessions=%zu\n", siprec_handler_sessions(ho.handler, NULL, 0));
      fflush(stdout);
      siprec_handler_shutdown(ho.handler, SIPREC_SHUTDOWN_BYE, now);
      give_up_at = now + SHUTDOWN_WAIT_NS;
      stop_at = UINT64_MAX; /* past: must no longer set the wake-up time */
    }
    uint64_t due = siprec_handler_next_deadline(ho.handler);
    if (give_up_at != UINT64_MAX && (due == UINT64_MAX || now >= give_up_at))
      break; /* nothing left to wait for, or waited long enough */
    if (due <= now) {
      siprec_handler_expire(ho.handler, now);
      continue;
    }
    uint64_t wake = due < stop_at ? due : stop_at;
    wake = wake < give_up_at ? wake : give_up_at;
    struct timespec wait = {.tv_sec = (time_t)((wake - now) / NS_PER_S),
                            .tv_nsec = (long)((wake - now) % NS_PER_S)};
    struct pollfd pfd = {.fd = ho.fd, .events = POLLIN};
    int n = ppoll(&pfd, 1, wake == UINT64_MAX ? NULL : &wait, &unblocked);
    if (n < 0 && errno != EINTR) {
      perror("minimal-host: ppoll");
      break;
    }
    if (n > 0)
      read_datagrams(&ho);
  }

  siprec_handler_free(ho.handler); /* ends whatever is left (reason shutdown) */
  printf("stopped ports-in-use=%zu\n", ho.pairs_used);
  close(ho.fd);
  free(ho.used);
  return 0;
}
