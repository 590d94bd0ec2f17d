// Compile-time measurement (scripts/compile-time.sh): a typical translation unit of a service
// that uses cpm: it opens the store and calls a handful of operations (an SSH login check and
// a repository listing). Beside store_all_ops.cpp (every operation) it shows what one file
// of a program pays, since only the members a TU calls are instantiated.
#include <cpm/cpm.hpp>

#include <cstdint>
#include <string>
#include <vector>

std::vector<std::string> visible_repositories(const std::string& path, const std::string& key, std::int64_t repo) {
  auto store = cpm::store::open(path);
  std::vector<std::string> names;
  auto user = store.user_by_public_key(key);
  if (!user) return names;
  if (store.access_level(user->id, repo) < cpm::access_level::read) return names;
  for (const cpm::repository& r : store.user_repositories(user->id)) names.push_back(r.name);
  return names;
}
