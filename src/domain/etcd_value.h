// Values between etcd's bytes and chronoconf's JSON (SPEC §7 "Values").
//
// Put: a value that is a minified JSON object or array is stored as that
// JSON value; any other valid UTF-8 text is stored as a JSON string holding
// it. Range: a JSON string gives its text, any other JSON value its minified
// text. So every value an etcd client puts reads back byte for byte, and
// native JSON documents read through etcd as JSON. A domain rule, not the
// transport's: a Txn's VALUE compares are decided on etcd's bytes.
#ifndef CHRONOCONF_DOMAIN_ETCD_VALUE_H_
#define CHRONOCONF_DOMAIN_ETCD_VALUE_H_

#include <optional>
#include <string>
#include <string_view>

namespace chronoconf {

// The stored (minified JSON) text for an etcd value; nullopt when `bytes`
// is not valid UTF-8 (the etcd API's INVALID_ARGUMENT).
std::optional<std::string> StoredValueFromEtcd(std::string_view bytes);

// The etcd bytes of a stored value. REQUIRES: `stored` is valid JSON.
std::string EtcdValueFromStored(std::string_view stored);

}  // namespace chronoconf

#endif  // CHRONOCONF_DOMAIN_ETCD_VALUE_H_
