// KeyScope: the keys one request may see and touch. Every key, or the keys
// under a token's prefixes (SPEC §4). Every query of the read model and
// every event filter takes one, so a prefix-limited token can never read a
// key outside its prefixes by any route.
//
// Thread safety: a plain value; immutable once made.
#ifndef CHRONOCONF_DOMAIN_KEY_SCOPE_H_
#define CHRONOCONF_DOMAIN_KEY_SCOPE_H_

#include <string>
#include <string_view>
#include <vector>

namespace chronoconf {

class KeyScope {
 public:
  // Every key.
  KeyScope() = default;
  // The keys that start with one of `prefixes` (an empty list: no key).
  static KeyScope Under(std::vector<std::string> prefixes);

  bool all() const { return all_; }
  const std::vector<std::string>& prefixes() const { return prefixes_; }

  bool Contains(std::string_view key) const;
  // True when every key under `prefix` is in scope.
  bool Covers(std::string_view prefix) const;
  // The ranges to scan for "keys under `prefix` in scope": prefixes, sorted,
  // none inside another (so their keys come out in key order).
  std::vector<std::string> Within(std::string_view prefix) const;

 private:
  bool all_ = true;
  std::vector<std::string> prefixes_;  // sorted, none a prefix of another
};

// The events a reader asked for and may see: in `scope` and under `prefix`
// (the prefix filter of events, watch, revisions and history, written once).
struct EventFilter {
  KeyScope scope;
  std::string prefix;
  bool Matches(std::string_view key) const {
    return key.starts_with(prefix) && scope.Contains(key);
  }
};

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_KEY_SCOPE_H_
