/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec_metadata against its documentation (include/siprec/metadata.h):
 * each element of RFC 7865, the pre-RFC draft schema, every quirk of
 * tests/data/metadata/ (one file each), complete and partial updates with
 * their change sets, the label fallback, malformed and hostile documents,
 * the limits, allocation failure at every point, and the metadata part of
 * every sample of the shared corpus against its expect file. */
/* The experimental section: the shard probe statistics, headers-only models. */
#define SIPREC_EXPERIMENTAL
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <siprec/metadata.h>

#include "corpus.h"
#include "corpus_metadata.h"
#include "expect.h"
#include "expect_metadata.h"
#include "failalloc.h"
#include "fast_check.h"
#include "check_main.h"

static int under_valgrind(void)
{
  return getenv("SIPREC_UNDER_VALGRIND") != NULL;
}

/* ---------------------------------------------------------------------- */
/* Helpers                                                                  */

static char *data_file(const char *name, size_t *len)
{
  const char *dir = getenv("SIPREC_TEST_DATA");
  char path[4096];
  snprintf(path, sizeof path, "%s/metadata/%s", dir ? dir : "tests/data", name);
  char *buf = read_file(path, len);
  ck_assert_msg(buf != NULL, "cannot read %s", path);
  return buf;
}

static siprec_metadata *parse_buf(const char *xml, size_t len)
{
  siprec_metadata *m = NULL;
  ck_assert_int_eq(siprec_metadata_parse(&m, xml, len, NULL, NULL), 0);
  ck_assert_ptr_nonnull(m);
  return m;
}

static siprec_metadata *parse_file(const char *name)
{
  size_t len;
  char *xml = data_file(name, &len);
  siprec_metadata *m = parse_buf(xml, len);
  free(xml);
  return m;
}

/* Apply file `name` over `cur`; the change set goes to *ch when ch is set. */
static siprec_metadata *apply_file(const siprec_metadata *cur, const char *name,
                                   siprec_metadata_changes **ch)
{
  size_t len;
  char *xml = data_file(name, &len);
  siprec_metadata *m = NULL;
  ck_assert_int_eq(siprec_metadata_apply(&m, ch, cur, xml, len, NULL, NULL), 0);
  free(xml);
  return m;
}

static const char *paor(const siprec_metadata *m, size_t i)
{
  const char *aor = NULL;
  ck_assert_int_eq(siprec_metadata_participant(m, i, NULL, &aor, NULL, NULL), 0);
  return aor;
}

static const char *pid(const siprec_metadata *m, size_t i)
{
  const char *id = NULL;
  ck_assert_int_eq(siprec_metadata_participant(m, i, &id, NULL, NULL, NULL), 0);
  return id;
}

static const char *slabel(const siprec_metadata *m, size_t i)
{
  const char *label = NULL;
  ck_assert_int_eq(siprec_metadata_stream(m, i, NULL, NULL, &label), 0);
  return label;
}

/* The AORs sending (or receiving) on the stream labelled `label`, joined
 * with ',' in participant order: "" when none, "?" when no such stream. */
static const char *parties(const siprec_metadata *m, const char *label, int recv, char *out,
                           size_t size)
{
  size_t s;
  if (siprec_metadata_stream_find_label(m, label, &s) != 0)
    return "?";
  out[0] = '\0';
  size_t n = recv ? siprec_metadata_stream_receiver(m, s, 0, NULL)
                  : siprec_metadata_stream_sender(m, s, 0, NULL);
  for (size_t k = 0; k < n; k++) {
    size_t p = 0;
    if (recv)
      siprec_metadata_stream_receiver(m, s, k, &p);
    else
      siprec_metadata_stream_sender(m, s, k, &p);
    size_t used = strlen(out);
    snprintf(out + used, size - used, "%s%s", k ? "," : "", paor(m, p));
  }
  return out;
}

static const char *senders(const siprec_metadata *m, const char *label)
{
  static char buf[1024];
  return parties(m, label, 0, buf, sizeof buf);
}

static const char *receivers(const siprec_metadata *m, const char *label)
{
  static char buf[1024];
  return parties(m, label, 1, buf, sizeof buf);
}

static void check_str(const char *got, const char *want, const char *what)
{
  if (!want)
    ck_assert_msg(got == NULL, "%s: '%s', expected NULL", what, got);
  else
    ck_assert_msg(got && strcmp(got, want) == 0, "%s: '%s', expected '%s'", what,
                  got ? got : "(null)", want);
}

static double now_sec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------------- */
/* Every element of RFC 7865                                                */

START_TEST(test_rfc_elements)
{
  siprec_metadata *m = parse_file("rfc7865-complete.xml");
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_OK);
  ck_assert_str_eq(siprec_metadata_status_name(siprec_metadata_get_status(m)), "ok");
  ck_assert_int_eq(siprec_metadata_error(m), 0);
  ck_assert_str_eq(siprec_metadata_error_detail(m), "");
  ck_assert_int_eq(siprec_metadata_get_datamode(m), SIPREC_METADATA_DATAMODE_COMPLETE);
  ck_assert_int_eq(siprec_metadata_get_schema(m), SIPREC_METADATA_SCHEMA_RFC7865);

  /* group */
  ck_assert_uint_eq(siprec_metadata_group_count(m), 1);
  const char *id, *a, *b, *c, *d;
  ck_assert_int_eq(siprec_metadata_group(m, 0, &id, &a, &b), 0);
  check_str(id, "7+OTCyoxTmqmqyA/1weDAg==", "group id");
  check_str(a, "2010-12-16T23:41:07Z", "group associate-time");
  check_str(b, NULL, "group disassociate-time");
  ck_assert_int_eq(siprec_metadata_group(m, 1, &id, &a, &b), SIPREC_EINVAL);

  /* session: two sipSessionIDs, a group-ref with a line break trimmed */
  ck_assert_uint_eq(siprec_metadata_session_count(m), 1);
  ck_assert_int_eq(siprec_metadata_session(m, 0, &id, &a, &b, &c), 0);
  check_str(id, "hVpd7YQgRW2nD22h7q60JQ==", "session id");
  check_str(a, "7+OTCyoxTmqmqyA/1weDAg==", "group-ref");
  check_str(b, "2010-12-16T23:41:07Z", "start-time");
  check_str(c, "2010-12-16T23:52:10Z", "stop-time");
  ck_assert_uint_eq(siprec_metadata_session_sip_session_id(m, 0, 0, NULL), 2);
  ck_assert_uint_eq(siprec_metadata_session_sip_session_id(m, 0, 1, &a), 2);
  check_str(a, "47755a9de7794ba387653f2099600ef2;remote=ab30317f1a784dc48ff824d0d3715d86",
            "sipSessionID 2");
  ck_assert_uint_eq(siprec_metadata_session_sip_session_id(m, 1, 0, &a), 0);

  /* participants: document order, first nameID, name and xml:lang */
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 2);
  ck_assert_int_eq(siprec_metadata_participant(m, 0, &id, &a, &b, &c), 0);
  check_str(id, "srfBElmCRp2QB23b7Mpk0w==", "participant id");
  check_str(a, "sip:bob@biloxi.com", "aor");
  check_str(b, "Bob", "name");
  check_str(c, "it", "lang");
  ck_assert_uint_eq(siprec_metadata_participant_nameid(m, 0, 1, &a, &b, &c), 2);
  check_str(a, "tel:+15550001111", "second nameID aor");
  check_str(b, NULL, "second nameID name");
  check_str(c, NULL, "second nameID lang");
  ck_assert_int_eq(siprec_metadata_participant(m, 2, &id, NULL, NULL, NULL), SIPREC_EINVAL);
  size_t i = 99;
  ck_assert_int_eq(siprec_metadata_participant_find(m, "zSfPoSvdSDCmU3A3TRDxAw==", &i), 0);
  ck_assert_uint_eq(i, 1);
  ck_assert_int_eq(siprec_metadata_participant_find(m, "nobody", &i), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_metadata_participant_find(m, NULL, &i), SIPREC_EINVAL);

  /* streams and who is on them */
  ck_assert_uint_eq(siprec_metadata_stream_count(m), 2);
  ck_assert_int_eq(siprec_metadata_stream(m, 1, &id, &a, &b), 0);
  check_str(id, "i1Pz3to5hGk8fuXl+PbwCw==", "stream id");
  check_str(a, "hVpd7YQgRW2nD22h7q60JQ==", "stream session");
  check_str(b, "97", "label");
  ck_assert_int_eq(siprec_metadata_stream_find(m, "UAAMm5GRQKSCMVvLyl4rFw==", &i), 0);
  ck_assert_uint_eq(i, 0);
  ck_assert_str_eq(senders(m, "96"), "sip:alice@atlanta.com");
  ck_assert_str_eq(receivers(m, "96"), "sip:bob@biloxi.com");
  ck_assert_str_eq(senders(m, "97"), "sip:bob@biloxi.com");
  ck_assert_str_eq(receivers(m, "97"), "sip:alice@atlanta.com");
  ck_assert_str_eq(senders(m, "98"), "?");
  size_t s = 99;
  ck_assert_uint_eq(siprec_metadata_participant_sends(m, 0, 0, &s), 1);
  ck_assert_uint_eq(s, 1);
  ck_assert_uint_eq(siprec_metadata_participant_receives(m, 0, 0, &s), 1);
  ck_assert_uint_eq(s, 0);
  ck_assert_uint_eq(siprec_metadata_participant_sends(m, 5, 0, &s), 0);
  ck_assert_uint_eq(siprec_metadata_stream_sender(m, 5, 0, &s), 0);

  /* associations */
  ck_assert_uint_eq(siprec_metadata_session_recording_count(m), 1);
  ck_assert_int_eq(siprec_metadata_session_recording(m, 0, &id, &a, &b), 0);
  check_str(id, "hVpd7YQgRW2nD22h7q60JQ==", "sessionrecordingassoc");
  check_str(a, "2010-12-16T23:41:07Z", "sessionrecordingassoc associate-time");
  ck_assert_uint_eq(siprec_metadata_participant_session_count(m), 2);
  ck_assert_int_eq(siprec_metadata_participant_session(m, 1, &id, &a, &b, &d), 0);
  check_str(id, "zSfPoSvdSDCmU3A3TRDxAw==", "participantsessionassoc participant");
  check_str(a, "hVpd7YQgRW2nD22h7q60JQ==", "participantsessionassoc session");
  check_str(b, "2010-12-16T23:41:07Z", "associate-time");
  check_str(d, NULL, "disassociate-time");

  /* the group's extensions, leaves only, in document order */
  ck_assert_uint_eq(siprec_metadata_extension_count(m), 3);
  const char *ns, *path, *text;
  ck_assert_int_eq(siprec_metadata_extension(m, 0, &ns, &path, &text), 0);
  check_str(ns, "urn:ietf:params:xml:ns:callcenter", "ext ns");
  check_str(path, "recording/group/call-center/supervisor", "ext path");
  check_str(text, "sip:alice@atlanta.com", "ext text");
  siprec_metadata_kind kind;
  ck_assert_int_eq(siprec_metadata_extension_owner(m, 2, &kind, &id), 0);
  ck_assert_int_eq(kind, SIPREC_METADATA_GROUP);
  check_str(id, "7+OTCyoxTmqmqyA/1weDAg==", "ext owner");
  ck_assert_int_eq(siprec_metadata_extension(m, 2, &ns, &path, &text), 0);
  check_str(path, "recording/group/mydata/whatever", "ext path 3");
  check_str(text, "bar", "ext text 3");
  ck_assert_int_eq(siprec_metadata_extension(m, 3, &ns, &path, &text), SIPREC_EINVAL);

  /* the raw bytes are kept */
  size_t rl;
  const char *raw = siprec_metadata_raw(m, &rl);
  ck_assert_ptr_nonnull(raw);
  ck_assert(strstr(raw, "<recording") != NULL);
  siprec_metadata_unref(m);
}
END_TEST

/* The absent model: NULL everywhere. */
START_TEST(test_absent)
{
  const siprec_metadata *m = NULL;
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_ABSENT);
  ck_assert_str_eq(siprec_metadata_status_name(SIPREC_METADATA_ABSENT), "absent");
  ck_assert_str_eq(siprec_metadata_status_name((siprec_metadata_status)42), "unknown");
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 0);
  ck_assert_uint_eq(siprec_metadata_stream_count(m), 0);
  ck_assert_uint_eq(siprec_metadata_extension_count(m), 0);
  ck_assert_uint_eq(siprec_metadata_mline_count(m), 0);
  ck_assert_int_eq(siprec_metadata_participant(m, 0, NULL, NULL, NULL, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_stream_find_label(m, "1", NULL), SIPREC_ENOTFOUND);
  size_t len = 7;
  ck_assert_ptr_null(siprec_metadata_raw(m, &len));
  ck_assert_uint_eq(len, 0);
  ck_assert_ptr_null(siprec_metadata_ref(NULL));
  siprec_metadata_unref(NULL);
  ck_assert_int_eq(siprec_metadata_parse(NULL, "x", 1, NULL, NULL), SIPREC_EINVAL);
  siprec_metadata *out = NULL;
  ck_assert_int_eq(siprec_metadata_parse(&out, NULL, 3, NULL, NULL), SIPREC_EINVAL);
  siprec_allocator bad = { NULL, NULL, NULL, NULL };
  ck_assert_int_eq(siprec_metadata_parse(&out, "x", 1, NULL, &bad), SIPREC_EINVAL);
  ck_assert_ptr_null(out);
  ck_assert_str_eq(siprec_metadata_kind_name(SIPREC_METADATA_PARTICIPANT_SESSION),
                   "participant-session");
  ck_assert_str_eq(siprec_metadata_change_name(SIPREC_METADATA_REMOVED), "removed");
  ck_assert_str_eq(siprec_metadata_rule_name(SIPREC_METADATA_RULE_STREAM_ORDER), "stream-order");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Quirks: one file each                                                    */

typedef struct quirk {
  const char *file;
  siprec_metadata_schema schema;
  const char *aors; /* participants' AORs joined by '|' */
  const char *label, *sender; /* one stream's label and who sends on it, or NULL */
} quirk;

static const quirk quirks[] = {
  { "ns-no-version.xml", SIPREC_METADATA_SCHEMA_RECORDING, "sip:a@example.com", "1",
    "sip:a@example.com" },
  { "ns-prefixed.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:a@example.com", "1",
    "sip:a@example.com" },
  { "no-namespace.xml", SIPREC_METADATA_SCHEMA_NO_NAMESPACE, "sip:a@example.com", "1",
    "sip:a@example.com" },
  { "draft-siprec.xml", SIPREC_METADATA_SCHEMA_DRAFT,
    "sip:CALLER_NAME|sip:+15550002222@sbc.example.com;user=phone", "1", "sip:CALLER_NAME" },
  { "aor-no-scheme-tel.xml", SIPREC_METADATA_SCHEMA_RFC7865,
    "2249888500@172.16.198.55|tel:+15550100;phone-context=example.com|+15550199", NULL, NULL },
  { "labels-numbers-words.xml", SIPREC_METADATA_SCHEMA_RFC7865,
    "sip:a@example.com|sip:b@example.com", "16777227", "sip:a@example.com" },
  { "single-quotes.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:a@example.com", "1",
    "sip:a@example.com" },
  { "crlf.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:a@example.com", "1", "sip:a@example.com" },
  { "no-declaration.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:a@example.com", "1",
    "sip:a@example.com" },
  { "bom.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:a@example.com", "1", "sip:a@example.com" },
  { "leading-whitespace.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:a@example.com", "1",
    "sip:a@example.com" },
  { "trailing-bytes.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:a@example.com", "1",
    "sip:a@example.com" },
  { "timestamps-1970.xml", SIPREC_METADATA_SCHEMA_RECORDING, "sip:a@example.com", NULL, NULL },
  { "entities.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:a&b@example.com", "1",
    "sip:a&b@example.com" },
  { "datamode-case.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:9878942259@212.188.68.145", "10",
    "sip:9878942259@212.188.68.145" },
  { "labels-empty-missing.xml", SIPREC_METADATA_SCHEMA_RFC7865,
    "sip:a@example.com|sip:b@example.com", "", "" },
  { "no-associations.xml", SIPREC_METADATA_SCHEMA_RFC7865,
    "sip:0771121212@52.57.92.239|sip:0760516936@sip-cust1.connectel.io", "2", "" },
  { "vendor-extensions.xml", SIPREC_METADATA_SCHEMA_RFC7865, "sip:a@example.com", NULL, NULL },
};

START_TEST(test_quirk)
{
  const quirk *q = &quirks[_i];
  siprec_metadata *m = parse_file(q->file);
  ck_assert_msg(siprec_metadata_get_status(m) == SIPREC_METADATA_OK, "%s: %s (%s)", q->file,
                siprec_metadata_status_name(siprec_metadata_get_status(m)),
                siprec_metadata_error_detail(m));
  ck_assert_msg(siprec_metadata_get_schema(m) == q->schema, "%s: schema %d", q->file,
                siprec_metadata_get_schema(m));
  char got[1024] = "";
  for (size_t i = 0; i < siprec_metadata_participant_count(m); i++) {
    size_t used = strlen(got);
    const char *aor = paor(m, i);
    snprintf(got + used, sizeof got - used, "%s%s", i ? "|" : "", aor ? aor : "(none)");
  }
  ck_assert_msg(strcmp(got, q->aors) == 0, "%s: participants '%s', expected '%s'", q->file, got,
                q->aors);
  if (q->label)
    ck_assert_msg(strcmp(senders(m, q->label), q->sender) == 0,
                  "%s: label '%s' sent by '%s', expected '%s'", q->file, q->label,
                  senders(m, q->label), q->sender);
  siprec_metadata_unref(m);
}
END_TEST

START_TEST(test_quirk_details)
{
  /* CRLF and LF inside text are taken as XML normalises them. */
  siprec_metadata *m = parse_file("crlf.xml");
  const char *name;
  siprec_metadata_participant(m, 0, NULL, NULL, &name, NULL);
  check_str(name, "A\nB", "name across CRLF");
  siprec_metadata_unref(m);

  /* Entities decoded, in ids too. */
  m = parse_file("entities.xml");
  check_str(pid(m, 0), "p&1", "id with &amp;");
  siprec_metadata_participant(m, 0, NULL, NULL, &name, NULL);
  check_str(name, "<Ann> \xc3\xa9\xe2\x98\xba", "name with entities and char refs");
  check_str(slabel(m, 0), "1", "label from &#49;");
  siprec_metadata_unref(m);

  /* An empty label is "", a missing one NULL. */
  m = parse_file("labels-empty-missing.xml");
  check_str(slabel(m, 0), "", "empty label");
  check_str(slabel(m, 1), NULL, "missing label");
  siprec_metadata_unref(m);

  /* Labels are trimmed text, numbers or words. */
  m = parse_file("labels-numbers-words.xml");
  check_str(slabel(m, 0), "16777227", "numeric label");
  check_str(slabel(m, 1), "b_leg", "word label");
  siprec_metadata_unref(m);

  /* AORs as written, trimmed, no scheme added. */
  m = parse_file("aor-no-scheme-tel.xml");
  check_str(paor(m, 0), "2249888500@172.16.198.55", "aor without scheme");
  siprec_metadata_unref(m);

  /* 1970 timestamps are kept as sent. */
  m = parse_file("timestamps-1970.xml");
  const char *gref, *start, *at;
  siprec_metadata_session(m, 0, NULL, &gref, &start, NULL);
  check_str(gref, "g1", "group-ref");
  check_str(start, "1970-01-01T00:00:00Z", "start-time");
  siprec_metadata_group(m, 0, NULL, &at, NULL);
  check_str(at, "1970-05-13T03:29:05Z", "group associate-time");
  siprec_metadata_unref(m);

  /* The bytes after the root are kept in the raw copy, never parsed. */
  size_t len;
  char *xml = data_file("trailing-bytes.xml", &len);
  m = parse_buf(xml, len);
  size_t rl;
  const char *raw = siprec_metadata_raw(m, &rl);
  ck_assert_uint_eq(rl, len);
  ck_assert(memcmp(raw, xml, len) == 0);
  free(xml);
  siprec_metadata_unref(m);

  /* dataMode in any case; an empty <session> is still a session. */
  m = parse_file("datamode-case.xml");
  ck_assert_uint_eq(siprec_metadata_session_count(m), 1);
  siprec_metadata_unref(m);
}
END_TEST

START_TEST(test_draft_schema)
{
  siprec_metadata *m = parse_file("draft-siprec.xml");
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_OK);
  ck_assert_int_eq(siprec_metadata_get_schema(m), SIPREC_METADATA_SCHEMA_DRAFT);
  const char *id, *aor, *name, *a, *b, *c;
  ck_assert_int_eq(siprec_metadata_participant(m, 0, &id, &aor, &name, NULL), 0);
  check_str(id, "urn:uuid:14a581d6-ff14-4444-8397-348dff6f465a", "draft participant id");
  check_str(aor, "sip:CALLER_NAME", "draft aor");
  check_str(name, "Caller Name", "draft name");
  /* <send><id>..</id></send> and <send>text</send>, <recv><id>. */
  ck_assert_str_eq(senders(m, "1"), "sip:CALLER_NAME");
  ck_assert_str_eq(receivers(m, "1"), "sip:+15550002222@sbc.example.com;user=phone");
  ck_assert_str_eq(senders(m, "2"), "sip:+15550002222@sbc.example.com;user=phone");
  /* session= on <participant> and its associate-time: an association. */
  ck_assert_uint_eq(siprec_metadata_participant_session_count(m), 2);
  ck_assert_int_eq(siprec_metadata_participant_session(m, 0, &a, &b, &c, NULL), 0);
  check_str(a, "urn:uuid:14a581d6-ff14-4444-8397-348dff6f465a", "draft psa participant");
  check_str(b, "urn:uuid:ddd71194-e649-4ed3-ab2d-fc54269c43b4", "draft psa session");
  check_str(c, "2019-03-16T12:29:09-04:00", "draft psa associate-time");
  /* group= on <session>. */
  ck_assert_int_eq(siprec_metadata_session(m, 0, &id, &a, &b, NULL), 0);
  check_str(a, "urn:uuid:42ab1207-f416-477b-bd4c-23bed1a455c4", "draft session group");
  check_str(b, "2019-03-16T12:29:09-04:00", "draft session start");
  ck_assert_int_eq(siprec_metadata_stream(m, 0, &id, &a, NULL), 0);
  check_str(a, "urn:uuid:ddd71194-e649-4ed3-ab2d-fc54269c43b4", "draft stream session=");
  /* What the model does not hold is listed: <recording> info, <initiator>, <mode>. */
  int requestor = 0, mode = 0;
  for (size_t i = 0; i < siprec_metadata_extension_count(m); i++) {
    const char *ns, *path, *text;
    siprec_metadata_extension(m, i, &ns, &path, &text);
    ck_assert_str_eq(ns, "urn:ietf:params:xml:ns:siprec");
    requestor += !strcmp(path, "recording_metadata/recording/requestor") && !strcmp(text, "SRC");
    mode += !strcmp(path, "recording_metadata/stream/mode") && !strcmp(text, "mixed");
  }
  ck_assert_int_eq(requestor, 1);
  ck_assert_int_eq(mode, 1);
  siprec_metadata_unref(m);
}
END_TEST

START_TEST(test_extensions)
{
  siprec_metadata *m = parse_file("vendor-extensions.xml");
  static const struct {
    const char *ns, *path, *text;
    siprec_metadata_kind kind;
    const char *owner;
  } want[] = {
    { "urn:example:acme", "recording/@node", "sbc-7", SIPREC_METADATA_RECORDING, NULL },
    { "urn:ietf:params:xml:ns:callData", "recording/group/callData/fromhdr",
      "\"Extension 8500\" <sip:8500@172.16.198.55>;tag=abc", SIPREC_METADATA_GROUP, "g1" },
    { "urn:ietf:params:xml:ns:callData", "recording/group/callData/callid",
      "2da553f7-a48b-1235-d6a2-5254003a4988", SIPREC_METADATA_GROUP, "g1" },
    { "http://www.cisco.com/siprec", "recording/session/extensiondata/CallingPartyTrunk",
      "SIP-TRUNK-1", SIPREC_METADATA_SESSION, "c1" },
    { "urn:example:acme", "recording/participant/@ext", "4711", SIPREC_METADATA_PARTICIPANT,
      "p1" },
    { "http://avaya.com/siprec", "recording/participant/extension/@type", "station",
      SIPREC_METADATA_PARTICIPANT, "p1" },
    { "http://avaya.com/siprec", "recording/participant/extension", "8500",
      SIPREC_METADATA_PARTICIPANT, "p1" },
    { "urn:ietf:params:xml:ns:recording:1", "recording/participant/mode", "separate",
      SIPREC_METADATA_PARTICIPANT, "p1" },
    { "urn:example:acme", "recording/trunk", "PSTN-2", SIPREC_METADATA_RECORDING, NULL },
  };
  size_t n = sizeof want / sizeof want[0];
  ck_assert_uint_eq(siprec_metadata_extension_count(m), n);
  for (size_t i = 0; i < n; i++) {
    const char *ns, *path, *text, *owner;
    siprec_metadata_kind kind;
    ck_assert_int_eq(siprec_metadata_extension(m, i, &ns, &path, &text), 0);
    ck_assert_int_eq(siprec_metadata_extension_owner(m, i, &kind, &owner), 0);
    check_str(ns, want[i].ns, "ns");
    check_str(path, want[i].path, "path");
    check_str(text, want[i].text, "text");
    ck_assert_msg(kind == want[i].kind, "entry %zu: owner kind %d", i, kind);
    check_str(owner, want[i].owner, "owner");
  }
  siprec_metadata_unref(m);
}
END_TEST

START_TEST(test_duplicate_ids)
{
  /* A second participant with the same id merges into the first. */
  siprec_metadata *m = parse_file("duplicate-ids.xml");
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 2);
  check_str(pid(m, 0), "p1", "first participant");
  check_str(paor(m, 0), "sip:a2@example.com", "the later nameID replaces the earlier");
  ck_assert_str_eq(senders(m, "1"), "sip:a2@example.com,sip:b@example.com");
  siprec_metadata_unref(m);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Updates and change sets                                                  */

static int has_change(const siprec_metadata_changes *ch, siprec_metadata_kind kind,
                      siprec_metadata_change change, const char *key)
{
  for (size_t i = 0; i < siprec_metadata_changes_count(ch); i++) {
    siprec_metadata_kind k;
    siprec_metadata_change c;
    const char *key1;
    ck_assert_int_eq(siprec_metadata_changes_get(ch, i, &k, &c, &key1, NULL), 0);
    if (k == kind && c == change && key1 && strcmp(key1, key) == 0)
      return 1;
  }
  return 0;
}

START_TEST(test_first_document_all_added)
{
  siprec_metadata_changes *ch = NULL;
  siprec_metadata *m = apply_file(NULL, "rfc7865-complete.xml", &ch);
  ck_assert_uint_eq(siprec_metadata_changes_tally(ch, SIPREC_METADATA_PARTICIPANT,
                                                  SIPREC_METADATA_ADDED), 2);
  ck_assert_uint_eq(siprec_metadata_changes_tally(ch, SIPREC_METADATA_STREAM,
                                                  SIPREC_METADATA_ADDED), 2);
  ck_assert_uint_eq(siprec_metadata_changes_tally(ch, SIPREC_METADATA_PARTICIPANT_STREAM,
                                                  SIPREC_METADATA_ADDED), 2);
  /* 2 participants, 2 streams, 1 session, 1 group, 2 psa, 2 pst, 1 sra */
  ck_assert_uint_eq(siprec_metadata_changes_count(ch), 11);
  /* Grouped by kind, in kind order. */
  siprec_metadata_kind prev = SIPREC_METADATA_PARTICIPANT, k;
  for (size_t i = 0; i < siprec_metadata_changes_count(ch); i++) {
    siprec_metadata_changes_get(ch, i, &k, NULL, NULL, NULL);
    ck_assert_int_ge(k, prev);
    prev = k;
  }
  const char *key2;
  siprec_metadata_change c;
  for (size_t i = 0; i < siprec_metadata_changes_count(ch); i++) {
    siprec_metadata_changes_get(ch, i, &k, &c, NULL, &key2);
    ck_assert_int_eq(c, SIPREC_METADATA_ADDED);
    if (k == SIPREC_METADATA_PARTICIPANT_SESSION)
      check_str(key2, "hVpd7YQgRW2nD22h7q60JQ==", "psa key2");
    else
      ck_assert_ptr_null(key2);
  }
  ck_assert_int_eq(siprec_metadata_changes_get(ch, 11, &k, &c, NULL, NULL), SIPREC_EINVAL);
  siprec_metadata_changes_free(ch);
  siprec_metadata_unref(m);
}
END_TEST

START_TEST(test_partial_leave)
{
  siprec_metadata *m1 = apply_file(NULL, "rfc7865-complete.xml", NULL);
  siprec_metadata_changes *ch = NULL;
  siprec_metadata *m2 = apply_file(m1, "partial-leave.xml", &ch);
  ck_assert_int_eq(siprec_metadata_get_datamode(m2), SIPREC_METADATA_DATAMODE_PARTIAL);
  /* Nothing removed: Bob is still there, with his disassociate-time. */
  ck_assert_uint_eq(siprec_metadata_participant_count(m2), 2);
  ck_assert_uint_eq(siprec_metadata_stream_count(m2), 2);
  ck_assert_str_eq(senders(m2, "97"), "sip:bob@biloxi.com");
  const char *pidv, *at, *dt;
  ck_assert_int_eq(siprec_metadata_participant_session(m2, 0, &pidv, NULL, &at, &dt), 0);
  check_str(pidv, "srfBElmCRp2QB23b7Mpk0w==", "leaving participant");
  check_str(at, "2010-12-16T23:41:07Z", "associate-time kept");
  check_str(dt, "2010-12-16T23:45:00Z", "disassociate-time");
  ck_assert_uint_eq(siprec_metadata_changes_count(ch), 1);
  ck_assert(has_change(ch, SIPREC_METADATA_PARTICIPANT_SESSION, SIPREC_METADATA_CHANGED,
                       "srfBElmCRp2QB23b7Mpk0w=="));
  /* The old snapshot is unchanged and outlives the new one's sharing. */
  ck_assert_int_eq(siprec_metadata_participant_session(m1, 0, NULL, NULL, NULL, &dt), 0);
  ck_assert_ptr_null(dt);
  /* Extensions of objects the update does not name are kept. */
  ck_assert_uint_eq(siprec_metadata_extension_count(m2), 3);
  siprec_metadata_unref(m1);
  const char *id;
  ck_assert_int_eq(siprec_metadata_group(m2, 0, &id, NULL, NULL), 0);
  check_str(id, "7+OTCyoxTmqmqyA/1weDAg==", "group kept after the old snapshot is gone");
  siprec_metadata_changes_free(ch);
  siprec_metadata_unref(m2);
}
END_TEST

START_TEST(test_partial_add_stream)
{
  siprec_metadata *m1 = apply_file(NULL, "rfc7865-complete.xml", NULL);
  siprec_metadata_changes *ch = NULL;
  siprec_metadata *m2 = apply_file(m1, "partial-add-stream.xml", &ch);
  ck_assert_uint_eq(siprec_metadata_participant_count(m2), 3);
  check_str(paor(m2, 2), "sip:carol@chicago.com", "new participant last");
  ck_assert_uint_eq(siprec_metadata_stream_count(m2), 3);
  check_str(slabel(m2, 2), "98", "new stream last");
  ck_assert_str_eq(senders(m2, "98"), "sip:carol@chicago.com");
  ck_assert_str_eq(receivers(m2, "98"), "sip:alice@atlanta.com");
  ck_assert_str_eq(receivers(m2, "96"), "sip:bob@biloxi.com,sip:carol@chicago.com");
  ck_assert_uint_eq(siprec_metadata_changes_tally(ch, SIPREC_METADATA_PARTICIPANT,
                                                  SIPREC_METADATA_ADDED), 1);
  ck_assert(has_change(ch, SIPREC_METADATA_STREAM, SIPREC_METADATA_ADDED,
                       "newStream000000000000w=="));
  ck_assert(has_change(ch, SIPREC_METADATA_PARTICIPANT_STREAM, SIPREC_METADATA_ADDED,
                       "newPartic1pant0000000w=="));
  ck_assert(has_change(ch, SIPREC_METADATA_PARTICIPANT_STREAM, SIPREC_METADATA_CHANGED,
                       "zSfPoSvdSDCmU3A3TRDxAw=="));
  ck_assert(has_change(ch, SIPREC_METADATA_PARTICIPANT_SESSION, SIPREC_METADATA_ADDED,
                       "newPartic1pant0000000w=="));
  ck_assert_uint_eq(siprec_metadata_changes_count(ch), 5);
  siprec_metadata_changes_free(ch);
  /* The same partial update again changes nothing. */
  siprec_metadata *m3 = apply_file(m2, "partial-add-stream.xml", &ch);
  ck_assert_uint_eq(siprec_metadata_changes_count(ch), 0);
  siprec_metadata_changes_free(ch);
  siprec_metadata_unref(m3);
  siprec_metadata_unref(m2);
  siprec_metadata_unref(m1);
}
END_TEST

START_TEST(test_complete_replaces)
{
  siprec_metadata *m1 = apply_file(NULL, "rfc7865-complete.xml", NULL);
  siprec_metadata_changes *ch = NULL;
  siprec_metadata *m2 = apply_file(m1, "complete-replace.xml", &ch);
  siprec_metadata_unref(m1); /* the change set keeps the removed keys alive */
  ck_assert_uint_eq(siprec_metadata_participant_count(m2), 2);
  check_str(paor(m2, 1), "sip:dave@denver.com", "replaced model");
  ck_assert_uint_eq(siprec_metadata_group_count(m2), 0);
  ck_assert_uint_eq(siprec_metadata_extension_count(m2), 0);
  ck_assert(has_change(ch, SIPREC_METADATA_PARTICIPANT, SIPREC_METADATA_REMOVED,
                       "srfBElmCRp2QB23b7Mpk0w=="));
  ck_assert(has_change(ch, SIPREC_METADATA_PARTICIPANT, SIPREC_METADATA_CHANGED,
                       "zSfPoSvdSDCmU3A3TRDxAw=="));
  ck_assert(has_change(ch, SIPREC_METADATA_PARTICIPANT, SIPREC_METADATA_ADDED,
                       "dave00000000000000000w=="));
  ck_assert(has_change(ch, SIPREC_METADATA_STREAM, SIPREC_METADATA_REMOVED,
                       "i1Pz3to5hGk8fuXl+PbwCw=="));
  ck_assert(!has_change(ch, SIPREC_METADATA_STREAM, SIPREC_METADATA_CHANGED,
                        "UAAMm5GRQKSCMVvLyl4rFw=="));
  ck_assert(has_change(ch, SIPREC_METADATA_SESSION, SIPREC_METADATA_CHANGED,
                       "hVpd7YQgRW2nD22h7q60JQ=="));
  ck_assert(has_change(ch, SIPREC_METADATA_GROUP, SIPREC_METADATA_REMOVED,
                       "7+OTCyoxTmqmqyA/1weDAg=="));
  ck_assert(has_change(ch, SIPREC_METADATA_PARTICIPANT_STREAM, SIPREC_METADATA_CHANGED,
                       "zSfPoSvdSDCmU3A3TRDxAw=="));
  ck_assert(has_change(ch, SIPREC_METADATA_PARTICIPANT_STREAM, SIPREC_METADATA_REMOVED,
                       "srfBElmCRp2QB23b7Mpk0w=="));
  /* Removed entries come after the added and changed ones of their kind. */
  int seen_removed = 0;
  for (size_t i = 0; i < siprec_metadata_changes_count(ch); i++) {
    siprec_metadata_kind k;
    siprec_metadata_change c;
    siprec_metadata_changes_get(ch, i, &k, &c, NULL, NULL);
    if (k != SIPREC_METADATA_PARTICIPANT)
      continue;
    if (c == SIPREC_METADATA_REMOVED)
      seen_removed = 1;
    else
      ck_assert(!seen_removed);
  }
  siprec_metadata_changes_free(ch);
  siprec_metadata_unref(m2);
}
END_TEST

START_TEST(test_unreadable_update_keeps_model)
{
  siprec_metadata *m1 = apply_file(NULL, "rfc7865-complete.xml", NULL);
  size_t len;
  char *bad = data_file("malformed-unclosed.xml", &len);
  siprec_metadata *m2 = NULL;
  siprec_metadata_changes *ch = NULL;
  ck_assert_int_eq(siprec_metadata_apply(&m2, &ch, m1, bad, len, NULL, NULL), 0);
  ck_assert_int_eq(siprec_metadata_get_status(m2), SIPREC_METADATA_UNREADABLE);
  ck_assert_int_eq(siprec_metadata_error(m2), SIPREC_EPARSE);
  ck_assert_msg(strstr(siprec_metadata_error_detail(m2), "line 6") != NULL, "detail: %s",
                siprec_metadata_error_detail(m2));
  size_t rl;
  const char *raw = siprec_metadata_raw(m2, &rl);
  ck_assert_uint_eq(rl, len);
  ck_assert(memcmp(raw, bad, len) == 0);
  ck_assert_uint_eq(siprec_metadata_participant_count(m2), 2);
  ck_assert_str_eq(senders(m2, "96"), "sip:alice@atlanta.com");
  ck_assert_int_eq(siprec_metadata_get_datamode(m2), SIPREC_METADATA_DATAMODE_COMPLETE);
  ck_assert_uint_eq(siprec_metadata_changes_count(ch), 0);
  siprec_metadata_changes_free(ch);
  /* Bound to m-lines (as a session binds it), it says the same. */
  siprec_metadata *bound = NULL;
  const char *labels[] = { "96" };
  ck_assert_int_eq(siprec_metadata_bind(&bound, m2, labels, 1, NULL), 0);
  ck_assert_int_eq(siprec_metadata_get_status(bound), SIPREC_METADATA_UNREADABLE);
  ck_assert_str_eq(siprec_metadata_error_detail(bound), siprec_metadata_error_detail(m2));
  ck_assert_ptr_ne(siprec_metadata_error_detail(bound), siprec_metadata_error_detail(m2));
  siprec_metadata_unref(bound);
  ck_assert_str_eq(siprec_metadata_error_detail(m1), "");
  /* A later good update fixes it. */
  siprec_metadata *m3 = apply_file(m2, "complete-replace.xml", NULL);
  ck_assert_int_eq(siprec_metadata_get_status(m3), SIPREC_METADATA_OK);
  ck_assert_int_eq(siprec_metadata_error(m3), 0);
  siprec_metadata_unref(m3);
  siprec_metadata_unref(m2);
  siprec_metadata_unref(m1);
  free(bad);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Malformed and hostile documents                                          */

typedef struct bad_doc {
  const char *file;
  int error;
  const char *detail; /* a part of the detail */
} bad_doc;

static const bad_doc bad_docs[] = {
  { "malformed-unclosed.xml", SIPREC_EPARSE, "mismatched tag" },
  { "wrong-namespace.xml", SIPREC_EPARSE, "not <recording>" },
  { "billion-laughs.xml", SIPREC_EPARSE, "DOCTYPE refused" },
  { "text-only.xml", SIPREC_EPARSE, "no metadata element" },
  { "undefined-entity.xml", SIPREC_EPARSE, "undefined entity" },
};

START_TEST(test_bad_doc)
{
  const bad_doc *b = &bad_docs[_i];
  double t0 = now_sec();
  siprec_metadata *m = parse_file(b->file);
  double dt = now_sec() - t0;
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_UNREADABLE);
  ck_assert_msg(siprec_metadata_error(m) == b->error, "%s: error %d", b->file,
                siprec_metadata_error(m));
  ck_assert_msg(strstr(siprec_metadata_error_detail(m), b->detail) != NULL, "%s: detail '%s'",
                b->file, siprec_metadata_error_detail(m));
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 0);
  ck_assert_int_eq(siprec_metadata_get_datamode(m), SIPREC_METADATA_DATAMODE_NONE);
  /* Refused at once, never expanded (valgrind is ~50x slower). */
  ck_assert_msg(dt < (under_valgrind() ? 30.0 : 2.0), "%s took %.3f s", b->file, dt);
  siprec_metadata_unref(m);
}
END_TEST

/* Every prefix of a valid document parses without harm: well-formed
 * prefixes do not exist, so each is unreadable, and only the whole is ok. */
START_TEST(test_truncations)
{
  size_t len;
  char *xml = data_file("rfc7865-complete.xml", &len);
  size_t step = under_valgrind() ? 37 : 1;
  for (size_t n = 0; n < len; n += step) {
    char *copy = malloc(n ? n : 1); /* exact size: reads past it are caught */
    memcpy(copy, xml, n);
    siprec_metadata *m = parse_buf(copy, n);
    siprec_metadata_status st = siprec_metadata_get_status(m);
    /* The last bytes are "</recording>\n": ok only once the root closed. */
    ck_assert_msg(st == (n >= len - 1 ? SIPREC_METADATA_OK : SIPREC_METADATA_UNREADABLE),
                  "prefix %zu: %s", n, siprec_metadata_status_name(st));
    siprec_metadata_unref(m);
    free(copy);
  }
  free(xml);
}
END_TEST

START_TEST(test_ten_megabytes)
{
  size_t len = 10u * 1024 * 1024;
  char *xml = malloc(len);
  const char *head = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><!--";
  memcpy(xml, head, strlen(head));
  memset(xml + strlen(head), 'x', len - strlen(head));
  double t0 = now_sec();
  siprec_metadata *m = parse_buf(xml, len);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_UNREADABLE);
  ck_assert_int_eq(siprec_metadata_error(m), SIPREC_ETOOBIG);
  /* Over the limit it is neither parsed nor kept. */
  size_t rl = 1;
  ck_assert_ptr_null(siprec_metadata_raw(m, &rl));
  ck_assert_uint_eq(rl, 0);
  ck_assert(now_sec() - t0 < 10.0);
  siprec_metadata_unref(m);
  free(xml);
}
END_TEST

/* n participants; every 100th also has a stream it sends on. */
static char *many_participants(size_t n, size_t *len)
{
  size_t cap = 256 + n * 100 + (n / 100 + 1) * 200, used = 0;
  char *xml = malloc(cap);
  ck_assert_ptr_nonnull(xml);
  used += (size_t)snprintf(xml + used, cap - used,
                           "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>"
                           "<datamode>complete</datamode>");
  for (size_t i = 0; i < n && used < cap; i++)
    used += (size_t)snprintf(xml + used, cap - used,
                             "<participant participant_id='p%zu'><nameID aor='sip:%zu@x'/>"
                             "</participant>",
                             i, i);
  for (size_t i = 0; i < n && used < cap; i += 100)
    used += (size_t)snprintf(xml + used, cap - used,
                             "<stream stream_id='s%zu'><label>%zu</label></stream>"
                             "<participantstreamassoc participant_id='p%zu'><send>s%zu</send>"
                             "</participantstreamassoc>",
                             i, i, i, i);
  if (used < cap)
    used += (size_t)snprintf(xml + used, cap - used, "</recording>");
  ck_assert_uint_lt(used, cap);
  *len = used;
  return xml;
}

START_TEST(test_hundred_thousand_participants)
{
  const size_t n = 100000;
  size_t len;
  char *xml = many_participants(n, &len);
  /* The defaults refuse it (1 MiB, 100,000 elements). */
  siprec_metadata *m = parse_buf(xml, len);
  ck_assert_int_eq(siprec_metadata_error(m), SIPREC_ETOOBIG);
  siprec_metadata_unref(m);
  siprec_metadata_limits *lim;
  ck_assert_int_eq(siprec_metadata_limits_new(&lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_bytes(lim, 64u << 20), 0);
  siprec_metadata *m2 = NULL;
  ck_assert_int_eq(siprec_metadata_parse(&m2, xml, len, lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_error(m2), SIPREC_ETOOBIG);
  ck_assert(strstr(siprec_metadata_error_detail(m2), "elements") != NULL);
  siprec_metadata_unref(m2);
  /* Raised limits take it (the document's and the merged model's), with ids
   * resolved through the index. */
  ck_assert_int_eq(siprec_metadata_limits_set_max_elements(lim, 10 * n), 0);
  ck_assert_int_eq(siprec_metadata_parse(&m2, xml, len, lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_get_status(m2), SIPREC_METADATA_REFUSED);
  siprec_metadata_unref(m2);
  ck_assert_int_eq(siprec_metadata_limits_set_max_participants(lim, n), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_associations(lim, n), 0);
  double t0 = now_sec();
  ck_assert_int_eq(siprec_metadata_parse(&m2, xml, len, lim, NULL), 0);
  double dt = now_sec() - t0;
  ck_assert_msg(siprec_metadata_get_status(m2) == SIPREC_METADATA_OK, "%s",
                siprec_metadata_error_detail(m2));
  ck_assert_uint_eq(siprec_metadata_participant_count(m2), n);
  ck_assert_uint_eq(siprec_metadata_stream_count(m2), n / 100);
  for (size_t i = 0; i < n; i += 9900) {
    char id[32], aor[32];
    snprintf(id, sizeof id, "p%zu", i);
    snprintf(aor, sizeof aor, "sip:%zu@x", i);
    size_t p, s, q;
    ck_assert_int_eq(siprec_metadata_participant_find(m2, id, &p), 0);
    ck_assert_uint_eq(p, i);
    ck_assert_uint_eq(siprec_metadata_participant_sends(m2, p, 0, &s), 1);
    ck_assert_uint_eq(s, i / 100);
    ck_assert_uint_eq(siprec_metadata_stream_sender(m2, s, 0, &q), 1);
    check_str(paor(m2, q), aor, "sender");
  }
  /* A guard against quadratic work (minutes at this size), not a speed
   * target: that is bench_metadata's, on a shared machine only ratios hold. */
  ck_assert_msg(dt < (under_valgrind() ? 300.0 : 20.0), "%.3f s", dt);
  /* A complete update that drops all but p1: each removal reported. */
  siprec_metadata_changes *ch;
  siprec_metadata *m3 = apply_file(m2, "ns-prefixed.xml", &ch);
  ck_assert_uint_eq(siprec_metadata_changes_tally(ch, SIPREC_METADATA_PARTICIPANT,
                                                  SIPREC_METADATA_REMOVED), n - 1);
  ck_assert_uint_eq(siprec_metadata_changes_tally(ch, SIPREC_METADATA_PARTICIPANT,
                                                  SIPREC_METADATA_CHANGED), 1);
  siprec_metadata_changes_free(ch);
  siprec_metadata_unref(m3);
  siprec_metadata_unref(m2);
  siprec_metadata_limits_free(lim);
  free(xml);
}
END_TEST

START_TEST(test_limits)
{
  siprec_metadata_limits *lim;
  ck_assert_int_eq(siprec_metadata_limits_new(&lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_limits_new(NULL, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_bytes(lim, 0), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_depth(lim, 0), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_depth(lim, SIPREC_METADATA_MAX_DEPTH + 1),
                   SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_elements(lim, 0), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_limits_set_max_attributes(NULL, 1), SIPREC_EINVAL);

  /* Depth: the root is 1; 32 nested is fine by default, 33 is not. */
  char xml[4096];
  for (int depth = 32; depth <= 33; depth++) {
    size_t n = (size_t)snprintf(xml, sizeof xml,
                                "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>"
                                "<datamode>complete</datamode>");
    for (int i = 1; i < depth; i++)
      n += (size_t)snprintf(xml + n, sizeof xml - n, "<x:a xmlns:x='urn:x'>");
    for (int i = 1; i < depth; i++)
      n += (size_t)snprintf(xml + n, sizeof xml - n, "</x:a>");
    n += (size_t)snprintf(xml + n, sizeof xml - n, "</recording>");
    siprec_metadata *m = parse_buf(xml, n);
    ck_assert_msg(siprec_metadata_error(m) == (depth == 32 ? 0 : SIPREC_ETOOBIG), "depth %d: %s",
                  depth, siprec_metadata_error_detail(m));
    if (depth == 32) {
      const char *path;
      ck_assert_uint_eq(siprec_metadata_extension_count(m), 1);
      siprec_metadata_extension(m, 0, NULL, &path, NULL);
      ck_assert_uint_eq(strlen(path), strlen("recording") + 31 * 2);
    }
    siprec_metadata_unref(m);
  }
  ck_assert_int_eq(siprec_metadata_limits_set_max_depth(lim, 2), 0);
  siprec_metadata *m;
  const char *two = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><participant "
                    "participant_id='a'><nameID aor='x'/></participant></recording>";
  ck_assert_int_eq(siprec_metadata_parse(&m, two, strlen(two), lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_error(m), SIPREC_ETOOBIG);
  siprec_metadata_unref(m);
  ck_assert_int_eq(siprec_metadata_limits_set_max_depth(lim, 3), 0);
  ck_assert_int_eq(siprec_metadata_parse(&m, two, strlen(two), lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_error(m), 0);
  siprec_metadata_unref(m);

  /* Attributes per element (namespace declarations do not count). */
  ck_assert_int_eq(siprec_metadata_limits_set_max_attributes(lim, 1), 0);
  ck_assert_int_eq(siprec_metadata_parse(&m, two, strlen(two), lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_error(m), 0);
  siprec_metadata_unref(m);
  const char *attrs = "<recording xmlns='urn:ietf:params:xml:ns:recording:1'><participant "
                      "participant_id='a' b='1'/></recording>";
  ck_assert_int_eq(siprec_metadata_parse(&m, attrs, strlen(attrs), lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_error(m), SIPREC_ETOOBIG);
  ck_assert(strstr(siprec_metadata_error_detail(m), "attributes") != NULL);
  siprec_metadata_unref(m);

  /* Bytes: exactly at the limit is fine. */
  ck_assert_int_eq(siprec_metadata_limits_set_max_attributes(lim, 64), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_bytes(lim, strlen(two)), 0);
  ck_assert_int_eq(siprec_metadata_parse(&m, two, strlen(two), lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_error(m), 0);
  siprec_metadata_unref(m);
  ck_assert_int_eq(siprec_metadata_limits_set_max_bytes(lim, strlen(two) - 1), 0);
  ck_assert_int_eq(siprec_metadata_parse(&m, two, strlen(two), lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_error(m), SIPREC_ETOOBIG);
  siprec_metadata_unref(m);
  siprec_metadata_limits_free(lim);
  siprec_metadata_limits_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Tying m-lines to participants                                            */

static void check_mline(const siprec_metadata *b, size_t i, siprec_metadata_rule rule,
                        size_t stream, const char *sender)
{
  size_t s;
  siprec_metadata_rule r;
  ck_assert_int_eq(siprec_metadata_mline(b, i, &s, &r), 0);
  ck_assert_msg(r == rule, "m-line %zu: rule %s, expected %s", i, siprec_metadata_rule_name(r),
                siprec_metadata_rule_name(rule));
  ck_assert_msg(s == stream, "m-line %zu: stream %zu, expected %zu", i, s, stream);
  size_t p = 0;
  size_t n = siprec_metadata_mline_sender(b, i, 0, &p);
  if (!sender)
    ck_assert_uint_eq(n, 0);
  else
    check_str(n ? paor(b, p) : NULL, sender, "m-line sender");
}

START_TEST(test_bind_rules)
{
  siprec_metadata *m = parse_file("rfc7865-complete.xml");
  siprec_metadata *b;
  /* Labels in another order than the streams: rule 1. */
  const char *labels[] = { "97", "96" };
  ck_assert_int_eq(siprec_metadata_bind(&b, m, labels, 2, NULL), 0);
  ck_assert_uint_eq(siprec_metadata_mline_count(b), 2);
  check_mline(b, 0, SIPREC_METADATA_RULE_LABEL, 1, "sip:bob@biloxi.com");
  check_mline(b, 1, SIPREC_METADATA_RULE_LABEL, 0, "sip:alice@atlanta.com");
  ck_assert_int_eq(siprec_metadata_mline(b, 2, NULL, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_get_status(b), SIPREC_METADATA_OK);
  ck_assert_uint_eq(siprec_metadata_participant_count(b), 2);
  siprec_metadata_unref(b);
  /* No labels in the SDP: rule 2 by position; a third m-line beyond the
   * streams and participants: nothing. */
  const char *none[] = { NULL, "x", NULL };
  ck_assert_int_eq(siprec_metadata_bind(&b, m, none, 3, NULL), 0);
  check_mline(b, 0, SIPREC_METADATA_RULE_STREAM_ORDER, 0, "sip:alice@atlanta.com");
  check_mline(b, 1, SIPREC_METADATA_RULE_STREAM_ORDER, 1, "sip:bob@biloxi.com");
  check_mline(b, 2, SIPREC_METADATA_RULE_NONE, SIZE_MAX, NULL);
  siprec_metadata_unref(b);
  /* A label taken by another m-line is not reused by position. */
  const char *mixed[] = { "97", NULL };
  ck_assert_int_eq(siprec_metadata_bind(&b, m, mixed, 2, NULL), 0);
  check_mline(b, 0, SIPREC_METADATA_RULE_LABEL, 1, "sip:bob@biloxi.com");
  check_mline(b, 1, SIPREC_METADATA_RULE_PARTICIPANT_ORDER, SIZE_MAX, "sip:alice@atlanta.com");
  siprec_metadata_unref(b);
  siprec_metadata_unref(m);

  /* No associations at all (OpenSIPS): rule 3, the stream still named. */
  m = parse_file("no-associations.xml");
  const char *sdp[] = { "1", "2" };
  ck_assert_int_eq(siprec_metadata_bind(&b, m, sdp, 2, NULL), 0);
  check_mline(b, 0, SIPREC_METADATA_RULE_PARTICIPANT_ORDER, 0, "sip:0771121212@52.57.92.239");
  check_mline(b, 1, SIPREC_METADATA_RULE_PARTICIPANT_ORDER, 1,
              "sip:0760516936@sip-cust1.connectel.io");
  /* Binding again replaces the old binding; the bound snapshot is a base
   * for updates like any other. */
  siprec_metadata *b2;
  ck_assert_int_eq(siprec_metadata_bind(&b2, b, sdp, 1, NULL), 0);
  ck_assert_uint_eq(siprec_metadata_mline_count(b2), 1);
  siprec_metadata *u = apply_file(b2, "partial-leave.xml", NULL);
  ck_assert_uint_eq(siprec_metadata_mline_count(u), 0);
  ck_assert_uint_eq(siprec_metadata_participant_count(u), 2);
  siprec_metadata_unref(u);
  siprec_metadata_unref(b2);
  siprec_metadata_unref(b);
  siprec_metadata_unref(m);

  /* The absent model binds to nothing. */
  ck_assert_int_eq(siprec_metadata_bind(&b, NULL, sdp, 2, NULL), 0);
  check_mline(b, 0, SIPREC_METADATA_RULE_NONE, SIZE_MAX, NULL);
  ck_assert_int_eq(siprec_metadata_get_status(b), SIPREC_METADATA_ABSENT);
  siprec_metadata_unref(b);
  ck_assert_int_eq(siprec_metadata_bind(&b, NULL, NULL, 2, NULL), SIPREC_EINVAL);
}
END_TEST

/* Many streams sharing labels, many m-lines: each label finds its first
 * stream, and binding stays fast (the label index, not a scan per m-line). */
START_TEST(test_bind_many)
{
  /* Under the 1 MiB default; smaller under valgrind, which is 50x slower. */
  const size_t ns = under_valgrind() ? 4000 : 16000, nm = ns / 4 + 1000;
  size_t cap = 256 + ns * 80, used = 0;
  char *xml = malloc(cap);
  used += (size_t)snprintf(xml, cap, "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>"
                                     "<participant participant_id='p'><nameID aor='sip:p@x'/>"
                                     "</participant><participantstreamassoc participant_id='p'>");
  for (size_t i = 0; i < ns; i += 2)
    used += (size_t)snprintf(xml + used, cap - used, "<send>s%zu</send>", i + 1);
  used += (size_t)snprintf(xml + used, cap - used, "</participantstreamassoc>");
  for (size_t i = 0; i < ns; i++)
    used += (size_t)snprintf(xml + used, cap - used, "<stream stream_id='s%zu'><label>L%zu</label>"
                             "</stream>", i, i / 2);
  used += (size_t)snprintf(xml + used, cap - used, "</recording>");
  ck_assert_uint_lt(used, cap);
  siprec_metadata_limits *lim;
  ck_assert_int_eq(siprec_metadata_limits_new(&lim, NULL), 0);
  ck_assert_int_eq(siprec_metadata_limits_set_max_streams(lim, ns), 0);
  siprec_metadata *m = NULL;
  ck_assert_int_eq(siprec_metadata_parse(&m, xml, used, lim, NULL), 0);
  siprec_metadata_limits_free(lim);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_OK);
  ck_assert_uint_eq(siprec_metadata_stream_count(m), ns);
  size_t idx;
  char want[24];
  snprintf(want, sizeof want, "L%zu", ns / 4 + 1);
  ck_assert_int_eq(siprec_metadata_stream_find_label(m, want, &idx), 0);
  ck_assert_uint_eq(idx, ns / 2 + 2);
  snprintf(want, sizeof want, "L%zu", ns / 2);
  ck_assert_int_eq(siprec_metadata_stream_find_label(m, want, &idx), SIPREC_ENOTFOUND);
  char (*names)[24] = malloc(nm * sizeof *names);
  const char **labels = malloc(nm * sizeof *labels);
  for (size_t i = 0; i < nm; i++) {
    snprintf(names[i], sizeof names[i], "L%zu", nm - 1 - i);
    labels[i] = names[i];
  }
  double t0 = now_sec();
  siprec_metadata *b;
  ck_assert_int_eq(siprec_metadata_bind(&b, m, labels, nm, NULL), 0);
  ck_assert_msg(now_sec() - t0 < (under_valgrind() ? 60.0 : 5.0), "bind took %.3f s",
                now_sec() - t0);
  /* m-line i has label L(nm-1-i): its first stream is 2*(nm-1-i), whose
   * senders are none (p sends on the odd ones): participant order. */
  for (size_t i = 0; i < nm; i += 499) {
    size_t s;
    siprec_metadata_rule rule;
    ck_assert_int_eq(siprec_metadata_mline(b, i, &s, &rule), 0);
    ck_assert_uint_eq(s, 2 * (nm - 1 - i));
    ck_assert_int_eq(rule, i == 0 ? SIPREC_METADATA_RULE_PARTICIPANT_ORDER
                                  : SIPREC_METADATA_RULE_NONE);
  }
  siprec_metadata_unref(b);
  free(labels);
  free(names);
  siprec_metadata_unref(m);
  free(xml);
}
END_TEST

START_TEST(test_from_headers)
{
  const char *aors[] = { "sip:1001@10.0.0.1", "sip:2002@10.0.0.2", "sip:3003@10.0.0.3" };
  const int mlines[] = { 1, 0, -1 };
  siprec_metadata *m;
  ck_assert_int_eq(siprec_metadata_from_headers(&m, aors, mlines, 3, NULL), 0);
  ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_HEADERS);
  ck_assert_str_eq(siprec_metadata_status_name(SIPREC_METADATA_HEADERS), "headers");
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 3);
  check_str(pid(m, 2), "header-2", "header participant id");
  check_str(paor(m, 2), "sip:3003@10.0.0.3", "header aor");
  ck_assert_uint_eq(siprec_metadata_mline_count(m), 2);
  check_mline(m, 0, SIPREC_METADATA_RULE_HEADERS, SIZE_MAX, "sip:2002@10.0.0.2");
  check_mline(m, 1, SIPREC_METADATA_RULE_HEADERS, SIZE_MAX, "sip:1001@10.0.0.1");
  siprec_metadata_unref(m);
  ck_assert_int_eq(siprec_metadata_from_headers(&m, aors, NULL, 3, NULL), 0);
  ck_assert_uint_eq(siprec_metadata_mline_count(m), 0);
  siprec_metadata_unref(m);
  const char *holes[] = { "a", NULL };
  ck_assert_int_eq(siprec_metadata_from_headers(&m, holes, NULL, 2, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_metadata_from_headers(&m, NULL, NULL, 0, NULL), 0);
  ck_assert_uint_eq(siprec_metadata_participant_count(m), 0);
  siprec_metadata_unref(m);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Allocation failure at every point                                        */

/* One script of calls through `hook`; returns 0 when it ran to its end,
 * SIPREC_ENOMEM when a call failed for want of memory (which must leave
 * nothing behind). */
static int oom_script(const siprec_allocator *hook, const char *doc1, size_t len1,
                      const char *doc2, size_t len2)
{
  siprec_metadata *m1 = NULL, *m2 = NULL, *b = NULL;
  siprec_metadata_changes *ch = NULL;
  siprec_metadata_limits *lim = NULL;
  int rc = siprec_metadata_limits_new(&lim, hook);
  if (rc == 0)
    rc = siprec_metadata_apply(&m1, NULL, NULL, doc1, len1, lim, hook);
  if (rc == 0)
    rc = siprec_metadata_apply(&m2, &ch, m1, doc2, len2, lim, hook);
  const char *labels[] = { "96", NULL, "98" };
  if (rc == 0)
    rc = siprec_metadata_bind(&b, m2, labels, 3, hook);
  if (rc == 0) {
    /* What was made is complete. */
    ck_assert_int_eq(siprec_metadata_get_status(m2), SIPREC_METADATA_OK);
    ck_assert_uint_eq(siprec_metadata_participant_count(b), 3);
    ck_assert_str_eq(senders(b, "98"), "sip:carol@chicago.com");
    ck_assert_uint_eq(siprec_metadata_changes_count(ch), 5);
    ck_assert_uint_eq(siprec_metadata_extension_count(b), 3);
    ck_assert_uint_eq(siprec_metadata_mline_count(b), 3);
  }
  siprec_metadata_unref(b);
  siprec_metadata_changes_free(ch);
  siprec_metadata_unref(m2);
  siprec_metadata_unref(m1);
  siprec_metadata_limits_free(lim);
  return rc;
}

START_TEST(test_oom)
{
  size_t len1, len2;
  char *doc1 = data_file("rfc7865-complete.xml", &len1);
  char *doc2 = data_file("partial-add-stream.xml", &len2);
  failalloc fa;
  siprec_allocator hook;
  failalloc_init(&fa, &hook);
  long k = 0;
  for (;; k++) {
    failalloc_arm(&fa, k);
    int rc = oom_script(&hook, doc1, len1, doc2, len2);
    ck_assert_msg(fa.outstanding == 0 && fa.bytes == 0, "k=%ld: %ld blocks (%zu bytes) leaked",
                  k, fa.outstanding, fa.bytes);
    ck_assert_int_eq(fa.zero_size, 0);
    if (fa.failures == 0) {
      ck_assert_int_eq(rc, 0);
      break;
    }
    ck_assert_msg(rc == SIPREC_ENOMEM, "k=%ld: rc %d after an allocation failure", k, rc);
  }
  /* The script allocates: expat's parsers, the models, the change set. */
  ck_assert_int_gt(k, 20);
  failalloc_destroy(&fa);
  free(doc1);
  free(doc2);
}
END_TEST

/* Unreadable documents under allocation failure: still no leak, and an
 * unreadable snapshot or ENOMEM, never a wrong "ok". */
START_TEST(test_oom_unreadable)
{
  size_t len;
  char *doc = data_file("billion-laughs.xml", &len);
  failalloc fa;
  siprec_allocator hook;
  failalloc_init(&fa, &hook);
  for (long k = 0;; k++) {
    failalloc_arm(&fa, k);
    siprec_metadata *m = NULL;
    int rc = siprec_metadata_parse(&m, doc, len, NULL, &hook);
    if (rc == 0)
      ck_assert_int_eq(siprec_metadata_get_status(m), SIPREC_METADATA_UNREADABLE);
    else
      ck_assert_int_eq(rc, SIPREC_ENOMEM);
    siprec_metadata_unref(m);
    ck_assert_int_eq(fa.outstanding, 0);
    if (fa.failures == 0)
      break;
  }
  failalloc_destroy(&fa);
  free(doc);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The shared corpus                                                        */

/* The metadata part of the sample, as the handler picks it, against its
 * participants, stream_participants and metadata status. */
static int check_corpus_sample(const char *dir, const char *file, const char *stem, void *user)
{
  (void)user;
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/%s.expect.json", dir, stem);
  static expect ex;
  ck_assert_msg(expect_read(path, &ex, err, sizeof err) == 0, "%s", err);
  if (!ex.has_participants && !ex.metadata[0])
    return 0; /* a refused sample: no metadata expectation */
  char *xml = NULL;
  size_t len = 0;
  int has = corpus_metadata_file(file, &xml, &len);
  ck_assert_msg(has >= 0, "%s: cannot read its metadata part", stem);
  siprec_metadata *m = NULL;
  if (has)
    m = parse_buf(xml, len);
  expect_check_metadata(stem, m, &ex);
  siprec_metadata_unref(m);
  free(xml);
  return 1;
}

START_TEST(test_corpus)
{
  int n = corpus_each(check_corpus_sample, NULL);
  ck_assert_msg(n >= 17, "%d samples with a metadata expectation in %s", n, corpus_dir());
}
END_TEST

int main(void)
{
  Suite *s = suite_create("metadata");
  TCase *tc = tcase_create("model");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_rfc_elements);
  tcase_add_test(tc, test_absent);
  tcase_add_loop_test(tc, test_quirk, 0, (int)(sizeof quirks / sizeof quirks[0]));
  tcase_add_test(tc, test_quirk_details);
  tcase_add_test(tc, test_draft_schema);
  tcase_add_test(tc, test_extensions);
  tcase_add_test(tc, test_duplicate_ids);
  suite_add_tcase(s, tc);

  tc = tcase_create("updates");
  tcase_add_test(tc, test_first_document_all_added);
  tcase_add_test(tc, test_partial_leave);
  tcase_add_test(tc, test_partial_add_stream);
  tcase_add_test(tc, test_complete_replaces);
  tcase_add_test(tc, test_unreadable_update_keeps_model);
  tcase_add_test(tc, test_bind_rules);
  tcase_add_test(tc, test_bind_many);
  tcase_add_test(tc, test_from_headers);
  suite_add_tcase(s, tc);

  tc = tcase_create("hostile");
  tcase_set_timeout(tc, 240);
  tcase_add_loop_test(tc, test_bad_doc, 0, (int)(sizeof bad_docs / sizeof bad_docs[0]));
  tcase_add_test(tc, test_truncations);
  tcase_add_test(tc, test_ten_megabytes);
  tcase_add_test(tc, test_hundred_thousand_participants);
  tcase_add_test(tc, test_limits);
  tcase_add_test(tc, test_oom);
  tcase_add_test(tc, test_oom_unreadable);
  suite_add_tcase(s, tc);

  tc = tcase_create("corpus");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_corpus);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
