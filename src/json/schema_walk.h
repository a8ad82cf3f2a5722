// The shape of a JSON Schema document (drafts 4, 6 and 7) before anything
// is built from it: which of its values are schemas, what each "$ref" names,
// and which subschemas apply to the same place in a value as their parent
// ("in place": allOf, anyOf, oneOf, not, if/then/else, schema dependencies,
// $ref) rather than to a part of it (properties, patternProperties,
// additionalProperties, items, additionalItems, contains, propertyNames).
//
// WalkSchema refuses, as kInvalidRequest naming the JSON pointer, what would
// make validation loop or explode on the committer thread: a "$ref" that is
// not a JSON pointer into the document, a value used both as a schema and as
// data (enum, const, default...) or as a list of schemas, a cycle of in-place
// subschemas ({"$ref":"#"}, definitions a -> b -> a through allOf...), and
// more in-place work per place in a value than the limits below. It keeps
// what descends into the value ({"properties":{"next":{"$ref":"#"}}} is a
// linked list, and fine): each step of that recursion consumes a level of
// the value, whose depth is bounded (kMaxValueDepth).
//
// Only what the root reaches is checked: the siblings of a "$ref" and unused
// definitions are walked for their shape (a "$ref" may point into them) but
// never applied.
//
// Thread safety: a SchemaGraph is immutable once walked.
#ifndef CHRONOCONF_JSON_SCHEMA_WALK_H_
#define CHRONOCONF_JSON_SCHEMA_WALK_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace chronoconf::json {

// The most subschemas one place in a value may be checked against, counting
// every subschema the in-place keywords and $refs reach (an anyOf counts all
// its branches). An allOf of two $refs to a schema that is itself such an
// allOf, 20 deep, is 2^20 subschemas per value: refused when set, not
// discovered on the committer thread.
inline constexpr int64_t kMaxInPlaceSubschemas = 10000;
// The longest chain of in-place subschemas. The validator recurses once per
// link, and again at every level of the value it descends into (at most
// kMaxValueDepth), so the product bounds its stack: 32 links at each of 100
// levels took under 1 MiB of stack (measured, GCC 12 -O2).
inline constexpr int kMaxInPlaceDepth = 32;
// How deeply a schema document may nest (the server stores nothing deeper
// than kMaxValueDepth; this guards callers that do not check).
inline constexpr int kMaxSchemaNesting = 512;

// One schema of the document: an object or a boolean.
struct SchemaNode {
  const rapidjson::Value* value = nullptr;
  std::string pointer;  // RFC 6901, from the document's root
  // For a schema with "$ref": the node it names, whose keywords apply in its
  // place (drafts 4-7 ignore a $ref's siblings); -1 otherwise.
  int ref = -1;
};

class SchemaGraph {
 public:
  // The node of `v`, a value at a schema position; -1 if it is none (not an
  // object or boolean, or not a schema).
  int Find(const rapidjson::Value& v) const;
  // The end of `i`'s "$ref" chain: the node whose keywords apply.
  int Resolve(int i) const;
  const SchemaNode& node(int i) const { return nodes_[static_cast<size_t>(i)]; }
  // The nodes the root (node 0) reaches, the root first.
  const std::vector<int>& reachable() const { return reachable_; }

 private:
  friend class SchemaWalker;
  std::vector<SchemaNode> nodes_;
  std::unordered_map<const rapidjson::Value*, int> index_;
  std::vector<int> reachable_;
};

// `root` is the whole schema document. Drafts 4, 6 and 7 keep subschemas
// under the same keywords (4 lacks some, which the builder refuses there).
Result<SchemaGraph> WalkSchema(const rapidjson::Value& root);

// "#/a~1b/0": a pointer as the URI fragment a "$ref" would use, for messages.
std::string RefText(const std::string& pointer);
// A member name as one token of a JSON pointer ("a/b" is "a~1b").
std::string PointerToken(std::string_view name);

}  // namespace chronoconf::json

#endif  // CHRONOCONF_JSON_SCHEMA_WALK_H_
