/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RFC 7865 metadata with expat: one pass of start/end/text handlers that
 * fills the records of a delta (model.h) directly, with no tree in between.
 * Expat runs with namespace processing, its memory routed to the host's
 * allocator, and refuses DOCTYPEs, so no entity is ever declared. */
#include <expat.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../common/alloc.h"
#include "expat_mem.h"
#include "model.h"

/* Between a namespace URI and a local name in expat's names: a byte that
 * cannot occur in XML text, so no URI can forge it. */
#define NS_SEP '\x01'

static const char XML_NS[] = "http://www.w3.org/XML/1998/namespace";

/* What an open element is, and where its text goes. */
enum el {
  EL_OTHER = 0, /* not held by the model: an extension entry when it is a leaf */
  EL_ROOT,
  EL_DATAMODE,
  EL_REC,       /* a direct child of the root that is a record */
  EL_FIELD,     /* text -> field `arg` of the open record */
  EL_LIST,      /* text -> list `arg` of the open record */
  EL_NAMEID,    /* a new nameID triplet */
  EL_NAME,      /* text -> the name of the last triplet */
  EL_DRAFT_AOR, /* draft <aor> under <participant> */
  EL_DRAFT_NAME,/* draft <name> under <participant> */
  EL_SEND,      /* <send> (arg 0) or <recv> (arg 1): a stream id, or <id> children */
  EL_SEND_ID,   /* draft <id> inside <send>/<recv> */
  EL_PSA_TIME,  /* draft times in <participant>: field `arg` of its session association */
  EL_SRA_TIME,  /* draft times in <session>: field `arg` of its recording association */
};

typedef struct frame {
  uint8_t el, arg, want_text, has_child;
  size_t text0, path0;
  const char *ns; /* EL_OTHER: its namespace, interned */
} frame;

typedef struct buf {
  char *p;
  size_t n, cap;
} buf;

/* Pointer lists of the open record until its element ends (its list items
 * arrive interleaved with other strings, and a record's list is one range). */
typedef struct ptrs {
  const char **p;
  size_t n, cap;
} ptrs;

typedef struct parser {
  XML_Parser xp;
  const siprec_allocator *mem;
  const siprec_metadata_limits *lim;
  md_content *d;
  frame *stack;
  unsigned depth;
  size_t elements;
  md_parse_result *res;
  buf text, path;
  /* The open record (a child of the root) and what a draft participant
   * implies: its stream association and its session association. */
  int rec_kind;
  size_t rec, pst, psa, sra;
  ptrs lists[2], pst_lists[2];
  const char *pending_session; /* a draft participant's session= */
  const char *last_ns;         /* the last interned namespace */
  int root_ns_none, saw_metadata, root_closed, failed;
} parser;

/* ---------------------------------------------------------------------- */

static void set_error(parser *ps, int code, const char *what)
{
  if (ps->failed)
    return;
  ps->failed = 1;
  ps->res->error = code;
  snprintf(ps->res->detail, sizeof ps->res->detail, "line %lu, column %lu: %s",
           (unsigned long)XML_GetCurrentLineNumber(ps->xp),
           (unsigned long)XML_GetCurrentColumnNumber(ps->xp), what);
}

/* From a handler: record the error and stop the parse there. */
static void fail(parser *ps, int code, const char *what)
{
  if (ps->failed)
    return;
  set_error(ps, code, what);
  XML_StopParser(ps->xp, XML_FALSE);
}

static void oom(parser *ps)
{
  fail(ps, SIPREC_ENOMEM, "out of memory");
}

static int buf_add(parser *ps, buf *b, const char *s, size_t n)
{
  if (b->n + n + 1 > b->cap) {
    char *np = md_grow(ps->mem, b->p, &b->cap, b->n + n + 1, 1);
    if (!np) {
      oom(ps);
      return -1;
    }
    b->p = np;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  return 0;
}

static int ptrs_add(parser *ps, ptrs *v, const char *s)
{
  if (v->n == v->cap) {
    const char **np = md_grow(ps->mem, v->p, &v->cap, v->n + 1, sizeof *np);
    if (!np) {
      oom(ps);
      return -1;
    }
    v->p = np;
  }
  v->p[v->n++] = s;
  return 0;
}

static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A trimmed copy of s[0..n) in the delta's arena, or NULL (then failed). */
static const char *keep(parser *ps, const char *s, size_t n)
{
  while (n && is_space(*s)) {
    s++;
    n--;
  }
  while (n && is_space(s[n - 1]))
    n--;
  const char *k = md_arena_strndup(ps->mem, &ps->d->arena, s, n);
  if (!k)
    oom(ps);
  return k;
}

static const char *keep_str(parser *ps, const char *s)
{
  return keep(ps, s, strlen(s));
}

/* Split an expat name into its namespace URI (NULL for none) and local name. */
static const char *split_name(const char *name, const char **uri, size_t *uri_len)
{
  const char *sep = strchr(name, NS_SEP);
  if (!sep) {
    *uri = NULL;
    *uri_len = 0;
    return name;
  }
  *uri = name;
  *uri_len = (size_t)(sep - name);
  return sep + 1;
}

static int uri_is(const char *uri, size_t n, const char *lit)
{
  size_t l = strlen(lit);
  return uri && n == l && memcmp(uri, lit, l) == 0;
}

static siprec_metadata_schema schema_of(const char *uri, size_t n)
{
  if (!uri)
    return SIPREC_METADATA_SCHEMA_NO_NAMESPACE;
  if (uri_is(uri, n, "urn:ietf:params:xml:ns:recording:1"))
    return SIPREC_METADATA_SCHEMA_RFC7865;
  if (uri_is(uri, n, "urn:ietf:params:xml:ns:recording"))
    return SIPREC_METADATA_SCHEMA_RECORDING;
  if (uri_is(uri, n, "urn:ietf:params:xml:ns:siprec"))
    return SIPREC_METADATA_SCHEMA_DRAFT;
  return SIPREC_METADATA_SCHEMA_NONE;
}

static int in_recording_ns(const parser *ps, const char *uri, size_t n)
{
  siprec_metadata_schema s = schema_of(uri, n);
  return s == SIPREC_METADATA_SCHEMA_NO_NAMESPACE ? ps->root_ns_none
                                                   : s != SIPREC_METADATA_SCHEMA_NONE;
}

/* The element's namespace as an arena string, shared with the previous
 * entry's when equal (an extension block repeats one namespace). */
static const char *intern_ns(parser *ps, const char *uri, size_t n)
{
  if (!uri)
    return "";
  if (ps->last_ns && strlen(ps->last_ns) == n && memcmp(ps->last_ns, uri, n) == 0)
    return ps->last_ns;
  const char *s = md_arena_strndup(ps->mem, &ps->d->arena, uri, n);
  if (!s)
    oom(ps);
  ps->last_ns = s;
  return s;
}

/* ---------------------------------------------------------------------- */
/* What each element is                                                     */

typedef struct name_map {
  const char *name;
  uint8_t el, arg;
} name_map;

static const name_map root_children[] = {
  { "datamode", EL_DATAMODE, 0 },
  { "group", EL_REC, SIPREC_METADATA_GROUP },
  { "session", EL_REC, SIPREC_METADATA_SESSION },
  { "participant", EL_REC, SIPREC_METADATA_PARTICIPANT },
  { "stream", EL_REC, SIPREC_METADATA_STREAM },
  { "sessionrecordingassoc", EL_REC, SIPREC_METADATA_SESSION_RECORDING },
  { "participantsessionassoc", EL_REC, SIPREC_METADATA_PARTICIPANT_SESSION },
  { "participantstreamassoc", EL_REC, SIPREC_METADATA_PARTICIPANT_STREAM },
  { NULL, 0, 0 },
};

static const name_map group_children[] = {
  { "associate-time", EL_FIELD, MD_F_ASSOCIATE },
  { "disassociate-time", EL_FIELD, MD_F_DISASSOCIATE },
  { NULL, 0, 0 },
};

static const name_map session_children[] = {
  { "sipSessionID", EL_LIST, MD_L_SIP_SESSION_IDS },
  { "group-ref", EL_FIELD, MD_F_SESSION_GROUP },
  { "start-time", EL_FIELD, MD_F_SESSION_START },
  { "stop-time", EL_FIELD, MD_F_SESSION_STOP },
  { "associate-time", EL_SRA_TIME, MD_F_ASSOCIATE },
  { "disassociate-time", EL_SRA_TIME, MD_F_DISASSOCIATE },
  { NULL, 0, 0 },
};

static const name_map participant_children[] = {
  { "nameID", EL_NAMEID, 0 },
  { "aor", EL_DRAFT_AOR, 0 },
  { "name", EL_DRAFT_NAME, 0 },
  { "send", EL_SEND, MD_L_SEND },
  { "recv", EL_SEND, MD_L_RECV },
  { "associate-time", EL_PSA_TIME, MD_F_ASSOCIATE },
  { "disassociate-time", EL_PSA_TIME, MD_F_DISASSOCIATE },
  { NULL, 0, 0 },
};

static const name_map stream_children[] = {
  { "label", EL_FIELD, MD_F_STREAM_LABEL },
  { NULL, 0, 0 },
};

static const name_map pst_children[] = {
  { "send", EL_SEND, MD_L_SEND },
  { "recv", EL_SEND, MD_L_RECV },
  { NULL, 0, 0 },
};

static const name_map *const rec_children[MD_KINDS] = {
  [SIPREC_METADATA_PARTICIPANT] = participant_children,
  [SIPREC_METADATA_STREAM] = stream_children,
  [SIPREC_METADATA_SESSION] = session_children,
  [SIPREC_METADATA_GROUP] = group_children,
  [SIPREC_METADATA_PARTICIPANT_SESSION] = group_children,
  [SIPREC_METADATA_PARTICIPANT_STREAM] = pst_children,
  [SIPREC_METADATA_SESSION_RECORDING] = group_children,
};

static const name_map *lookup(const name_map *m, const char *local)
{
  for (; m && m->name; m++)
    if (strcasecmp(m->name, local) == 0)
      return m;
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Records                                                                  */

static md_rec *rec_at(parser *ps, int kind, size_t idx)
{
  return &ps->d->recs[kind][idx];
}

static size_t add_rec(parser *ps, int kind)
{
  size_t idx = md_rec_add(ps->d, kind);
  if (idx == MD_NONE)
    oom(ps);
  return idx;
}

/* The session association a draft participant implies (its session=
 * attribute, its times), made on first use. */
static md_rec *draft_psa(parser *ps)
{
  if (ps->psa == MD_NONE) {
    ps->psa = add_rec(ps, SIPREC_METADATA_PARTICIPANT_SESSION);
    if (ps->psa == MD_NONE)
      return NULL;
    rec_at(ps, SIPREC_METADATA_PARTICIPANT_SESSION, ps->psa)->key[0] =
      rec_at(ps, SIPREC_METADATA_PARTICIPANT, ps->rec)->key[0];
  }
  return rec_at(ps, SIPREC_METADATA_PARTICIPANT_SESSION, ps->psa);
}

static md_rec *draft_sra(parser *ps)
{
  if (ps->sra == MD_NONE) {
    ps->sra = add_rec(ps, SIPREC_METADATA_SESSION_RECORDING);
    if (ps->sra == MD_NONE)
      return NULL;
    rec_at(ps, SIPREC_METADATA_SESSION_RECORDING, ps->sra)->key[0] =
      rec_at(ps, SIPREC_METADATA_SESSION, ps->rec)->key[0];
  }
  return rec_at(ps, SIPREC_METADATA_SESSION_RECORDING, ps->sra);
}

/* A draft participant's <send>/<recv> make a participant-stream record. */
static int draft_pst(parser *ps)
{
  if (ps->pst == MD_NONE) {
    ps->pst = add_rec(ps, SIPREC_METADATA_PARTICIPANT_STREAM);
    if (ps->pst == MD_NONE)
      return -1;
    rec_at(ps, SIPREC_METADATA_PARTICIPANT_STREAM, ps->pst)->key[0] =
      rec_at(ps, SIPREC_METADATA_PARTICIPANT, ps->rec)->key[0];
  }
  return 0;
}

static void add_stream_ref(parser *ps, int list, const char *id)
{
  if (!*id)
    return;
  if (ps->rec_kind == SIPREC_METADATA_PARTICIPANT) {
    if (draft_pst(ps) == 0)
      (void)ptrs_add(ps, &ps->pst_lists[list], id);
  } else {
    (void)ptrs_add(ps, &ps->lists[list], id);
  }
}

/* The open record's lists become ranges of the delta's string store. */
static void flush_lists(parser *ps, md_rec *r, ptrs lists[2])
{
  for (int l = 0; l < 2; l++) {
    r->list_off[l] = (uint32_t)ps->d->n_strs;
    r->list_len[l] = (uint32_t)lists[l].n;
    if (lists[l].n && md_strs_add(ps->d, lists[l].p, lists[l].n) < 0)
      oom(ps);
    lists[l].n = 0;
  }
}

static void set_key(parser *ps, md_rec *r, int k, const char *v, int specific)
{
  /* "participant_id" wins over the draft's "id" whatever their order. */
  if (r->key[k] && !specific)
    return;
  r->key[k] = keep_str(ps, v);
}

/* The attributes of a record element. */
static void rec_attr(parser *ps, int kind, md_rec *r, const char *local, const char *value)
{
  static const char *const key_names[MD_KINDS] = {
    [SIPREC_METADATA_PARTICIPANT] = "participant_id",
    [SIPREC_METADATA_STREAM] = "stream_id",
    [SIPREC_METADATA_SESSION] = "session_id",
    [SIPREC_METADATA_GROUP] = "group_id",
    [SIPREC_METADATA_PARTICIPANT_SESSION] = "participant_id",
    [SIPREC_METADATA_PARTICIPANT_STREAM] = "participant_id",
    [SIPREC_METADATA_SESSION_RECORDING] = "session_id",
  };
  if (strcasecmp(local, key_names[kind]) == 0) {
    set_key(ps, r, 0, value, 1);
  } else if (strcasecmp(local, "id") == 0) {
    set_key(ps, r, 0, value, 0);
  } else if (kind == SIPREC_METADATA_PARTICIPANT_SESSION && strcasecmp(local, "session_id") == 0) {
    set_key(ps, r, 1, value, 1);
  } else if (kind == SIPREC_METADATA_STREAM &&
             (strcasecmp(local, "session_id") == 0 || strcasecmp(local, "session") == 0)) {
    if (!r->f[MD_F_STREAM_SESSION])
      r->f[MD_F_STREAM_SESSION] = keep_str(ps, value);
  } else if (kind == SIPREC_METADATA_SESSION && strcasecmp(local, "group") == 0) {
    if (!r->f[MD_F_SESSION_GROUP])
      r->f[MD_F_SESSION_GROUP] = keep_str(ps, value);
  } else if (kind == SIPREC_METADATA_PARTICIPANT && strcasecmp(local, "session") == 0) {
    /* The draft's participant names its session here; its association is
     * made once every attribute (its id too) has been read. */
    ps->pending_session = keep_str(ps, value);
  }
}

/* The open record, or MD_NO_OWNER: the owner of extension entries. */
static uint32_t owner_idx(const parser *ps)
{
  return ps->rec == MD_NONE ? MD_NO_OWNER : (uint32_t)ps->rec;
}

static void add_ext(parser *ps, const char *ns, const char *path, size_t path_len,
                    const char *text, size_t text_len)
{
  md_ext e;
  e.ns = ns;
  e.path = md_arena_strndup(ps->mem, &ps->d->arena, path, path_len);
  e.text = keep(ps, text, text_len);
  e.owner_idx = owner_idx(ps);
  e.owner_kind = (uint8_t)(e.owner_idx == MD_NO_OWNER ? SIPREC_METADATA_RECORDING : ps->rec_kind);
  if (!e.path || !e.text || md_ext_add(ps->d, &e) < 0)
    oom(ps);
}

/* An attribute the model does not hold: its path is the element's and
 * "@name"; an unprefixed one belongs to its element's vocabulary. */
static void attr_ext(parser *ps, const char *uri, size_t uri_len, const char *elem_uri,
                     size_t elem_uri_len, const char *local, const char *value)
{
  const char *ns = uri ? intern_ns(ps, uri, uri_len) : intern_ns(ps, elem_uri, elem_uri_len);
  size_t n0 = ps->path.n;
  if (!ns || buf_add(ps, &ps->path, "/@", 2) < 0 || buf_add(ps, &ps->path, local, strlen(local)) < 0)
    return;
  add_ext(ps, ns, ps->path.p, ps->path.n, value, strlen(value));
  ps->path.n = n0;
}

/* The last nameID triplet of the open participant: aor, name, lang. */
static const char **last_triplet(parser *ps)
{
  ptrs *v = &ps->lists[MD_L_NAMES];
  return v->n >= 3 ? v->p + v->n - 3 : NULL;
}

static const char **new_triplet(parser *ps)
{
  ptrs *v = &ps->lists[MD_L_NAMES];
  if (ptrs_add(ps, v, NULL) < 0 || ptrs_add(ps, v, NULL) < 0 || ptrs_add(ps, v, NULL) < 0)
    return NULL;
  return v->p + v->n - 3;
}

static void known_attr(parser *ps, const frame *f, const char *uri, size_t uri_len,
                       const char *local, const char *value)
{
  switch (f->el) {
  case EL_REC:
    if (!uri)
      rec_attr(ps, ps->rec_kind, rec_at(ps, ps->rec_kind, ps->rec), local, value);
    break;
  case EL_NAMEID: {
    const char **t = last_triplet(ps);
    if (!uri && t && !t[0] && strcasecmp(local, "aor") == 0)
      t[0] = keep_str(ps, value);
    break;
  }
  case EL_NAME: {
    /* Only the first <name> of a nameID is kept, with its language. */
    const char **t = last_triplet(ps);
    if (t && !t[1] && !t[2] && strcasecmp(local, "lang") == 0 &&
        (!uri || uri_is(uri, uri_len, XML_NS)))
      t[2] = keep_str(ps, value);
    break;
  }
  default:
    break;
  }
}

static uint8_t classify(parser *ps, const frame *parent, const char *uri, size_t uri_len,
                        const char *local, uint8_t *arg)
{
  *arg = 0;
  if (!in_recording_ns(ps, uri, uri_len))
    return EL_OTHER;
  const name_map *m = NULL;
  switch (parent->el) {
  case EL_ROOT:
    m = lookup(root_children, local);
    break;
  case EL_REC:
    m = lookup(rec_children[ps->rec_kind], local);
    break;
  case EL_NAMEID:
    return strcasecmp(local, "name") == 0 ? EL_NAME : EL_OTHER;
  case EL_SEND:
    *arg = parent->arg;
    return strcasecmp(local, "id") == 0 ? EL_SEND_ID : EL_OTHER;
  default:
    break;
  }
  if (!m)
    return EL_OTHER;
  *arg = m->arg;
  return m->el;
}

static int open_root(parser *ps, const char *uri, size_t uri_len, const char *local)
{
  siprec_metadata_schema s = schema_of(uri, uri_len);
  if (s == SIPREC_METADATA_SCHEMA_NONE ||
      (strcasecmp(local, "recording") != 0 && strcasecmp(local, "recording_metadata") != 0)) {
    fail(ps, SIPREC_EPARSE, "the root element is not <recording> in a recording namespace");
    return -1;
  }
  ps->res->schema = s;
  ps->root_ns_none = s == SIPREC_METADATA_SCHEMA_NO_NAMESPACE;
  return 0;
}

static void open_rec(parser *ps, int kind)
{
  ps->saw_metadata = 1;
  ps->rec_kind = kind;
  ps->rec = add_rec(ps, kind);
  ps->pst = ps->psa = ps->sra = MD_NONE;
  ps->pending_session = NULL;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
  parser *ps = ud;
  if (ps->failed)
    return;
  if (ps->depth >= ps->lim->max_depth) {
    fail(ps, SIPREC_ETOOBIG, "elements nested deeper than the limit");
    return;
  }
  if (++ps->elements > ps->lim->max_elements) {
    fail(ps, SIPREC_ETOOBIG, "more elements than the limit");
    return;
  }
  size_t natts = 0;
  while (atts[2 * natts])
    natts++;
  if (natts > ps->lim->max_attributes) {
    fail(ps, SIPREC_ETOOBIG, "more attributes on an element than the limit");
    return;
  }
  const char *uri;
  size_t uri_len;
  const char *local = split_name(name, &uri, &uri_len);
  frame *parent = ps->depth ? &ps->stack[ps->depth - 1] : NULL;
  frame *f = &ps->stack[ps->depth];
  memset(f, 0, sizeof *f);
  f->text0 = ps->text.n;
  f->path0 = ps->path.n;
  if ((ps->path.n && buf_add(ps, &ps->path, "/", 1) < 0) ||
      buf_add(ps, &ps->path, local, strlen(local)) < 0)
    return;
  ps->depth++;
  if (parent) {
    parent->has_child = 1;
    f->el = classify(ps, parent, uri, uri_len, local, &f->arg);
  } else {
    if (open_root(ps, uri, uri_len, local) < 0)
      return;
    f->el = EL_ROOT;
  }
  f->want_text = f->el != EL_ROOT && f->el != EL_REC && f->el != EL_NAMEID;
  switch (f->el) {
  case EL_OTHER:
    f->ns = intern_ns(ps, uri, uri_len);
    break;
  case EL_DATAMODE:
    ps->saw_metadata = 1;
    break;
  case EL_REC:
    open_rec(ps, f->arg);
    break;
  case EL_NAMEID:
    (void)new_triplet(ps);
    break;
  default:
    break;
  }
  for (size_t i = 0; i < natts && !ps->failed; i++) {
    const char *auri;
    size_t auri_len;
    const char *alocal = split_name(atts[2 * i], &auri, &auri_len);
    int foreign = auri && !uri_is(auri, auri_len, XML_NS) &&
                  schema_of(auri, auri_len) == SIPREC_METADATA_SCHEMA_NONE;
    if (f->el == EL_OTHER || foreign)
      attr_ext(ps, auri, auri_len, uri, uri_len, alocal, atts[2 * i + 1]);
    else
      known_attr(ps, f, auri, auri_len, alocal, atts[2 * i + 1]);
  }
  if (f->el == EL_REC && ps->pending_session && !ps->failed) {
    md_rec *a = draft_psa(ps);
    if (a)
      a->key[1] = ps->pending_session;
  }
}

static void set_field(parser *ps, md_rec *r, int field, const char *t, size_t n)
{
  if (r && !r->f[field])
    r->f[field] = keep(ps, t, n);
}

static void close_rec(parser *ps)
{
  flush_lists(ps, rec_at(ps, ps->rec_kind, ps->rec), ps->lists);
  if (ps->pst != MD_NONE)
    flush_lists(ps, rec_at(ps, SIPREC_METADATA_PARTICIPANT_STREAM, ps->pst), ps->pst_lists);
  ps->rec = MD_NONE;
  ps->rec_kind = -1;
}

static int is_word(const char *t, size_t n, const char *w)
{
  while (n && is_space(*t)) {
    t++;
    n--;
  }
  while (n && is_space(t[n - 1]))
    n--;
  return n == strlen(w) && strncasecmp(t, w, n) == 0;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
  parser *ps = ud;
  (void)name;
  if (ps->failed)
    return;
  frame *f = &ps->stack[--ps->depth];
  const char *t = ps->text.p ? ps->text.p + f->text0 : "";
  size_t n = ps->text.n - f->text0;
  const char **tr;
  switch (f->el) {
  case EL_ROOT:
    /* Done: whatever follows the root (an epilogue of bytes some clients
     * leave before the next MIME delimiter) is never read. */
    ps->root_closed = 1;
    XML_StopParser(ps->xp, XML_FALSE);
    break;
  case EL_DATAMODE:
    if (is_word(t, n, "partial"))
      ps->res->datamode = SIPREC_METADATA_DATAMODE_PARTIAL;
    break;
  case EL_REC:
    close_rec(ps);
    break;
  case EL_FIELD:
    set_field(ps, rec_at(ps, ps->rec_kind, ps->rec), f->arg, t, n);
    break;
  case EL_LIST: {
    const char *v = keep(ps, t, n);
    if (v)
      (void)ptrs_add(ps, &ps->lists[f->arg], v);
    break;
  }
  case EL_NAME:
    tr = last_triplet(ps);
    if (tr && !tr[1])
      tr[1] = keep(ps, t, n);
    break;
  case EL_DRAFT_AOR:
  case EL_DRAFT_NAME: {
    /* <aor> then <name> fill one nameID; a repeated one starts the next. */
    int slot = f->el == EL_DRAFT_AOR ? 0 : 1;
    const char *v = keep(ps, t, n);
    tr = last_triplet(ps);
    if (v && (!tr || tr[slot]))
      tr = new_triplet(ps);
    if (v && tr)
      tr[slot] = v;
    break;
  }
  case EL_SEND:
    if (!f->has_child) {
      const char *v = keep(ps, t, n);
      if (v)
        add_stream_ref(ps, f->arg, v);
    }
    break;
  case EL_SEND_ID: {
    const char *v = keep(ps, t, n);
    if (v)
      add_stream_ref(ps, f->arg, v);
    break;
  }
  case EL_PSA_TIME:
    set_field(ps, draft_psa(ps), f->arg, t, n);
    break;
  case EL_SRA_TIME:
    set_field(ps, draft_sra(ps), f->arg, t, n);
    break;
  case EL_OTHER:
    if (!f->has_child && f->ns)
      add_ext(ps, f->ns, ps->path.p, ps->path.n, t, n);
    break;
  default:
    break;
  }
  ps->text.n = f->text0;
  ps->path.n = f->path0;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
  parser *ps = ud;
  if (ps->failed || !ps->depth || !ps->stack[ps->depth - 1].want_text || len <= 0)
    return;
  (void)buf_add(ps, &ps->text, s, (size_t)len);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
  (void)name;
  (void)sysid;
  (void)pubid;
  (void)has_internal_subset;
  fail(ud, SIPREC_EPARSE, "DOCTYPE refused: metadata never needs a DTD or an entity");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
  (void)name;
  (void)is_param;
  (void)value;
  (void)value_len;
  (void)base;
  (void)sysid;
  (void)pubid;
  (void)notation;
  fail(ud, SIPREC_EPARSE, "entity declaration refused");
}

/* ---------------------------------------------------------------------- */

static const siprec_metadata_limits default_limits = {
  .max_bytes = SIPREC_METADATA_DEFAULT_MAX_BYTES,
  .max_depth = SIPREC_METADATA_DEFAULT_MAX_DEPTH,
  .max_elements = SIPREC_METADATA_DEFAULT_MAX_ELEMENTS,
  .max_attributes = SIPREC_METADATA_DEFAULT_MAX_ATTRIBUTES,
  .max_objects = { SIPREC_METADATA_DEFAULT_MAX_PARTICIPANTS, SIPREC_METADATA_DEFAULT_MAX_STREAMS,
                   SIPREC_METADATA_DEFAULT_MAX_SESSIONS, SIPREC_METADATA_DEFAULT_MAX_SESSIONS,
                   SIPREC_METADATA_DEFAULT_MAX_ASSOCIATIONS,
                   SIPREC_METADATA_DEFAULT_MAX_ASSOCIATIONS,
                   SIPREC_METADATA_DEFAULT_MAX_ASSOCIATIONS },
  .max_extensions = SIPREC_METADATA_DEFAULT_MAX_EXTENSIONS,
};

const siprec_metadata_limits *md_default_limits(void)
{
  return &default_limits;
}

static void run(parser *ps, const char *p, size_t n)
{
  XML_SetUserData(ps->xp, ps);
  XML_SetElementHandler(ps->xp, on_start, on_end);
  XML_SetCharacterDataHandler(ps->xp, on_text);
  XML_SetStartDoctypeDeclHandler(ps->xp, on_doctype);
  XML_SetEntityDeclHandler(ps->xp, on_entity_decl);
  XML_SetParamEntityParsing(ps->xp, XML_PARAM_ENTITY_PARSING_NEVER);
  enum XML_Status st = XML_STATUS_OK;
  /* XML_Parse takes an int length. */
  const size_t chunk = (size_t)INT_MAX / 2;
  do {
    size_t take = n < chunk ? n : chunk;
    st = XML_Parse(ps->xp, p, (int)take, take == n);
    p += take;
    n -= take;
  } while (st == XML_STATUS_OK && n);
  if (st != XML_STATUS_OK && !ps->failed && !ps->root_closed) {
    enum XML_Error e = XML_GetErrorCode(ps->xp);
    if (e == XML_ERROR_NO_MEMORY)
      set_error(ps, SIPREC_ENOMEM, "out of memory");
    else
      set_error(ps, SIPREC_EPARSE, XML_ErrorString(e));
  }
}

static void free_parser(parser *ps)
{
  sr_free(ps->mem, ps->stack);
  sr_free(ps->mem, ps->text.p);
  sr_free(ps->mem, ps->path.p);
  for (int l = 0; l < 2; l++) {
    sr_free(ps->mem, ps->lists[l].p);
    sr_free(ps->mem, ps->pst_lists[l].p);
  }
}

int md_parse(const siprec_allocator *mem, const siprec_metadata_limits *lim, const char *xml,
             size_t len, md_content **delta, md_parse_result *res)
{
  memset(res, 0, sizeof *res);
  res->datamode = SIPREC_METADATA_DATAMODE_COMPLETE;
  *delta = NULL;
  if (len > lim->max_bytes) {
    res->error = SIPREC_ETOOBIG;
    snprintf(res->detail, sizeof res->detail, "%zu bytes, more than the limit of %zu", len,
             lim->max_bytes);
    return 0;
  }
  /* An XML declaration must open the entity: drop a UTF-8 byte order mark
   * and the white space a MIME part may start with. */
  const char *p = xml;
  size_t n = len;
  if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
    p += 3;
    n -= 3;
  }
  while (n && is_space(*p)) {
    p++;
    n--;
  }
  parser ps;
  memset(&ps, 0, sizeof ps);
  ps.mem = mem;
  ps.lim = lim;
  ps.res = res;
  ps.rec = ps.pst = ps.psa = ps.sra = MD_NONE;
  ps.rec_kind = -1;
  /* The strings a document yields are well under half its bytes (tags and
   * markup are the rest); the snapshot keeps this chunk for the whole call,
   * and a document that needs more gets a second, larger one. */
  ps.d = md_content_new(mem, n / 2 + 64);
  ps.stack = sr_calloc(mem, lim->max_depth, sizeof *ps.stack);
  md_expat_mem em;
  md_expat_begin(&em, mem);
  ps.xp = ps.d && ps.stack ? md_expat_create(NS_SEP) : NULL;
  if (ps.xp) {
    run(&ps, p, n);
    XML_ParserFree(ps.xp);
  }
  md_expat_end(&em);
  int nomem = !ps.xp || em.failed || res->error == SIPREC_ENOMEM;
  free_parser(&ps);
  if (!nomem && !res->error && !ps.saw_metadata) {
    res->error = SIPREC_EPARSE;
    snprintf(res->detail, sizeof res->detail, "no metadata element in the document");
  }
  if (nomem || res->error) {
    md_content_unref(ps.d);
    if (nomem) {
      memset(res, 0, sizeof *res);
      return SIPREC_ENOMEM;
    }
    res->datamode = SIPREC_METADATA_DATAMODE_NONE;
    return 0;
  }
  *delta = ps.d;
  return 0;
}
