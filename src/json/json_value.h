// json::Value: a parsed JSON document that remembers the text it came from.
//
// chronoconf stores a config value as the exact text the client sent, only
// minified (SPEC §1): `1.50` stays `1.50`, `12345678901234567890` stays whole,
// `"caf\u00e9"` keeps its escape and members keep their order. A DOM that
// converts numbers or decodes strings cannot give that back, so Parse() keeps
// for every node the span of the source text it covers. RapidJSON does the
// strict parsing (RFC 8259 grammar, UTF-8 validation, no recursion); this file
// only records where each node starts and ends.
//
// Thread safety: a Value is immutable after Parse(); share it freely.
#ifndef CHRONOCONF_JSON_JSON_VALUE_H_
#define CHRONOCONF_JSON_JSON_VALUE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace chronoconf::json {

enum class Type { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

struct Member;

class Value {
 public:
  Value() = default;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kTrue || type_ == Type::kFalse; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // The source text of this node exactly as sent (whitespace included).
  std::string_view source() const;
  // The source text with the whitespace outside strings removed.
  std::string Minified() const;

  // Decoded string contents. REQUIRES: is_string().
  const std::string& str() const { return str_; }
  bool as_bool() const { return type_ == Type::kTrue; }
  // The number as an int64 when it is written as an integer that fits.
  std::optional<int64_t> AsInt64() const;

  // Object members in the order sent. REQUIRES: is_object().
  const std::vector<Member>& members() const { return members_; }
  // Array items. REQUIRES: is_array().
  const std::vector<Value>& items() const { return items_; }
  // The first member called `name`, or nullptr (also when not an object).
  const Value* Find(std::string_view name) const;
  // How many containers deep this node goes: 0 for a scalar, 1 for [] or
  // {"a":1}, 2 for [[1]].
  size_t depth() const { return depth_; }

 private:
  friend class Builder;
  Type type_ = Type::kNull;
  std::shared_ptr<const std::string> doc_;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t depth_ = 0;
  std::string str_;
  std::vector<Member> members_;
  std::vector<Value> items_;
};

struct Member {
  std::string name;
  Value value;
};

// The deepest value the server stores (SPEC §6): every envelope that carries
// a value (an event page holds it 3 deep, a txn body 3, an import 2) stays
// far below the depth every reader accepts (kMaxReadDepth).
inline constexpr size_t kMaxValueDepth = 100;
inline constexpr size_t kMaxReadDepth = 512;

// Parses one JSON text. Errors: kInvalidJson (with the offset) for anything
// that is not exactly one valid JSON value, or nesting deeper than max_depth.
// Nodes are built for the values `build_depth` levels deep at most (the root
// is level 0): a container at that level is whole-checked and keeps its
// source, type and depth, but has no members or items. A request body is an
// envelope around values the server only stores as text, so it parses with a
// small build_depth: a 1 MiB array costs no node per element.
Result<Value> Parse(std::string_view text, size_t max_depth = kMaxReadDepth,
                    size_t build_depth = SIZE_MAX);

// Removes the whitespace outside strings. REQUIRES: `text` is valid JSON.
std::string Minify(std::string_view text);

}  // namespace chronoconf::json

#endif  // CHRONOCONF_JSON_JSON_VALUE_H_
