// SPDX-License-Identifier: LGPL-2.1-or-later
// A C++11 host of libsiprec: the umbrella header, the map behind RAII
// wrappers, std::string keys with embedded NULs, and a lambda-backed range
// callback through a static trampoline. Exits non-zero on any mismatch.
#include <siprec/siprec.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace {

struct MapDeleter {
  void operator()(siprec_shmap *m) const { siprec_shmap_free(m); }
};
struct OptionsDeleter {
  void operator()(siprec_shmap_options *o) const { siprec_shmap_options_free(o); }
};
using MapPtr = std::unique_ptr<siprec_shmap, MapDeleter>;
using OptionsPtr = std::unique_ptr<siprec_shmap_options, OptionsDeleter>;

int failures = 0;

void check(bool ok, const char *what, int line)
{
  if (!ok) {
    std::fprintf(stderr, "cxx_consumer.cpp:%d: check failed: %s\n", line, what);
    ++failures;
  }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

int destroyed = 0;

// Range over the map with any callable.
using Visitor = std::function<int(const std::string &, void *)>;

} // namespace

extern "C" {
// Values are heap ints owned by the map: the destructor deletes them and
// counts.
static void free_int(void *value, void *user)
{
  ++*static_cast<int *>(user);
  delete static_cast<int *>(value);
}

static int range_trampoline(const void *key, size_t len, void *value, void *user)
{
  const Visitor &fn = *static_cast<const Visitor *>(user);
  return fn(std::string(static_cast<const char *>(key), len), value);
}
}

namespace {

int for_each(siprec_shmap *m, Visitor fn)
{
  return siprec_shmap_range(m, range_trampoline, &fn);
}

int load_int(siprec_shmap *m, const std::string &k, bool *found)
{
  void *v = nullptr;
  int rc = siprec_shmap_load(m, k.data(), k.size(), &v);
  *found = rc == 1;
  return rc == 1 ? *static_cast<int *>(v) : -1;
}

} // namespace

int main()
{
  CHECK(std::strlen(siprec_version()) > 0);
  CHECK(siprec_version_number() == SIPREC_VERSION_NUMBER);
  CHECK(std::string(siprec_strerror(SIPREC_ENOMEM)).size() > 0);

  siprec_shmap_options *raw_opts = nullptr;
  CHECK(siprec_shmap_options_new(&raw_opts, nullptr) == SIPREC_OK);
  OptionsPtr opts(raw_opts);
  CHECK(siprec_shmap_options_set_shards(opts.get(), 8) == 0);
  CHECK(siprec_shmap_options_set_shards(opts.get(), 6) == SIPREC_EINVAL);
  CHECK(siprec_shmap_options_set_value_free(opts.get(), free_int, &destroyed) == 0);
  const uint8_t hkey[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  CHECK(siprec_shmap_options_set_hash_key(opts.get(), hkey) == 0);

  siprec_shmap *raw_map = nullptr;
  CHECK(siprec_shmap_new(&raw_map, opts.get(), nullptr) == 0);
  MapPtr map(raw_map);
  opts.reset(); // the map copied the options
  if (!map) {
    std::fprintf(stderr, "cxx_consumer: no map\n");
    return 1;
  }
  CHECK(siprec_shmap_shard_count(map.get()) == 8);

  // Keys that differ only after an embedded NUL, the empty key, a long key.
  const std::string keys[] = {
      std::string("call\0one", 8), std::string("call\0two", 8), std::string("call", 4),
      std::string(), std::string(100, '\0'), std::string(99, '\0') + "x"};
  const int n = static_cast<int>(sizeof keys / sizeof keys[0]);
  for (int i = 0; i < n; ++i)
    CHECK(siprec_shmap_store(map.get(), keys[i].data(), keys[i].size(), new int(i)) == 0);
  CHECK(siprec_shmap_len(map.get()) == static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    bool found = false;
    CHECK(load_int(map.get(), keys[i], &found) == i && found);
  }
  bool found = true;
  load_int(map.get(), std::string("call\0three", 10), &found);
  CHECK(!found);

  // Overwrite destroys the old value; load_or_store leaves ours with us.
  CHECK(siprec_shmap_store(map.get(), keys[0].data(), keys[0].size(), new int(100)) == 0);
  CHECK(destroyed == 1);
  std::unique_ptr<int> offer(new int(7));
  void *actual = nullptr;
  CHECK(siprec_shmap_load_or_store(map.get(), keys[1].data(), keys[1].size(), offer.get(),
                                   &actual) == 1);
  CHECK(actual != offer.get() && *static_cast<int *>(actual) == 1);

  // Swap hands the previous value back.
  void *prev = nullptr;
  CHECK(siprec_shmap_swap(map.get(), keys[2].data(), keys[2].size(), new int(200), &prev) == 1);
  std::unique_ptr<int> prev_owned(static_cast<int *>(prev));
  CHECK(prev_owned && *prev_owned == 2);

  // Range with a capturing lambda; the callback may delete what it visits.
  std::map<std::string, int> seen;
  int rc = for_each(map.get(), [&](const std::string &k, void *v) {
    seen[k] = *static_cast<int *>(v);
    if (k == keys[4])
      CHECK(siprec_shmap_delete(map.get(), k.data(), k.size()) == 1);
    return 0;
  });
  CHECK(rc == 0);
  CHECK(seen.size() == static_cast<size_t>(n));
  CHECK(seen[keys[0]] == 100 && seen[keys[2]] == 200 && seen[keys[5]] == 5);
  CHECK(siprec_shmap_len(map.get()) == static_cast<size_t>(n - 1));
  CHECK(destroyed == 2);

  // Stopping the walk returns the callback's value.
  int visits = 0;
  rc = for_each(map.get(), [&](const std::string &, void *) { return ++visits == 2 ? 42 : 0; });
  CHECK(rc == 42 && visits == 2);

  // Compare-and-delete by pointer identity.
  void *cur = nullptr;
  CHECK(siprec_shmap_load(map.get(), keys[3].data(), keys[3].size(), &cur) == 1);
  int other = 3;
  CHECK(siprec_shmap_compare_and_delete(map.get(), keys[3].data(), keys[3].size(), &other) == 0);
  CHECK(siprec_shmap_compare_and_delete(map.get(), keys[3].data(), keys[3].size(), cur) == 1);
  CHECK(destroyed == 3);

  int remaining = static_cast<int>(siprec_shmap_len(map.get()));
  map.reset(); // frees the map: the rest is destroyed
  CHECK(destroyed == 3 + remaining);

  if (failures) {
    std::fprintf(stderr, "cxx_consumer: %d check(s) failed\n", failures);
    return 1;
  }
  std::printf("cxx_consumer: ok\n");
  return 0;
}
