#include "json/schema_walk.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace chronoconf::json {
namespace {

using rapidjson::Value;

// Where a keyword keeps its subschemas.
enum class Holds { kSchema, kSchemaList, kSchemaMap, kSchemaOrList, kDependencies };

struct Applicator {
  std::string_view keyword;
  Holds holds;
  bool in_place;  // applied to the very value the schema that has it checks
};

constexpr std::array<Applicator, 16> kApplicators = {{
    {"allOf", Holds::kSchemaList, true},
    {"anyOf", Holds::kSchemaList, true},
    {"oneOf", Holds::kSchemaList, true},
    {"not", Holds::kSchema, true},
    {"if", Holds::kSchema, true},
    {"then", Holds::kSchema, true},
    {"else", Holds::kSchema, true},
    {"dependencies", Holds::kDependencies, true},  // its schemas, when the property is there
    {"properties", Holds::kSchemaMap, false},
    {"patternProperties", Holds::kSchemaMap, false},
    {"additionalProperties", Holds::kSchema, false},
    {"items", Holds::kSchemaOrList, false},
    {"additionalItems", Holds::kSchema, false},
    {"contains", Holds::kSchema, false},
    {"propertyNames", Holds::kSchema, false},
    {"definitions", Holds::kSchemaMap, false},  // applied only through a $ref
}};

// Keywords of drafts 4-7 whose values are data (or numbers, names...), never
// schemas: a "$ref" may not point into them.
// clang-format off
constexpr std::array<std::string_view, 31> kDataKeywords = {
    "$ref", "$schema", "$id", "id", "$comment", "title", "description", "default", "examples",
    "enum", "const", "type", "required", "format", "pattern", "multipleOf", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "maxItems",
    "minItems", "uniqueItems", "maxProperties", "minProperties", "contentMediaType",
    "contentEncoding", "readOnly", "writeOnly"};
// clang-format on

const Applicator* ApplicatorOf(std::string_view keyword) {
  for (const Applicator& a : kApplicators) {
    if (a.keyword == keyword) return &a;
  }
  return nullptr;
}

bool IsDataKeyword(std::string_view keyword) {
  return std::find(kDataKeywords.begin(), kDataKeywords.end(), keyword) != kDataKeywords.end();
}

std::string_view Name(const Value& name) { return {name.GetString(), name.GetStringLength()}; }

}  // namespace

// RFC 6901: "~" is "~0" and "/" is "~1" in a reference token.
std::string PointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

bool Unescape(std::string_view token, std::string* out) {
  out->clear();
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] != '~') {
      *out += token[i];
    } else if (i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      *out += token[++i] == '0' ? '~' : '/';
    } else {
      return false;
    }
  }
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A URI fragment is percent-decoded before it is read as a JSON pointer
// (RFC 6901 §6): "#/percent%25field" names the member "percent%field".
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexDigit(in[i + 1]);
    const int lo = HexDigit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// An array index token: "0" or digits without a leading zero (RFC 6901).
bool ParseIndex(std::string_view token, size_t* index) {
  if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0')) return false;
  size_t n = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  *index = n;
  return true;
}

// What the walk marked a value as, besides a schema (a node).
enum class Mark { kContainer, kData };

}  // namespace

std::string RefText(const std::string& pointer) { return fmt::format("#{}", pointer); }

int SchemaGraph::Find(const Value& v) const {
  auto it = index_.find(&v);
  return it == index_.end() ? -1 : it->second;
}

int SchemaGraph::Resolve(int i) const {
  // WalkSchema refused cycles, so a chain of $refs ends.
  while (node(i).ref >= 0) i = node(i).ref;
  return i;
}

class SchemaWalker {
 public:
  explicit SchemaWalker(const Value& root) : root_(root) {}

  Result<SchemaGraph> Walk() {
    int root = -1;
    if (Status s = Discover(root_, "", 0, &root); !s.ok()) return s;
    if (root != 0) return Status::InvalidRequest("a schema is a JSON object (or true or false)");
    if (Status s = Reach(); !s.ok()) return s;
    if (Status s = CheckInPlace(); !s.ok()) return s;
    return std::move(g_);
  }

 private:
  // `v` sits where a schema belongs: records it (and, through its keywords,
  // the schemas and data inside it) unless it is recorded already. A value
  // that is neither an object nor a boolean is no schema (*id = -1); the
  // builder refuses it if it is ever applied.
  Status Discover(const Value& v, const std::string& pointer, int depth, int* id) {
    *id = -1;
    if (!v.IsObject() && !v.IsBool()) return Status::OK();
    if (int known = g_.Find(v); known >= 0) {
      *id = known;
      return Status::OK();
    }
    if (depth > kMaxSchemaNesting) return TooDeep(pointer);
    if (auto it = marks_.find(&v); it != marks_.end()) return Conflict(pointer, it->second);
    *id = static_cast<int>(g_.nodes_.size());
    g_.nodes_.push_back({&v, pointer, -1});
    g_.index_.emplace(&v, *id);
    if (!v.IsObject()) return Status::OK();
    for (const auto& m : v.GetObject()) {
      const std::string_view keyword = Name(m.name);
      const std::string at = pointer + "/" + PointerToken(keyword);
      if (const Applicator* a = ApplicatorOf(keyword)) {
        if (Status s = DiscoverHeld(*a, m.value, at, depth + 1); !s.ok()) return s;
      } else if (IsDataKeyword(keyword)) {
        if (Status s = MarkData(m.value, at, depth + 1); !s.ok()) return s;
      }
      // Any other member is no keyword: nothing applies it, but a "$ref"
      // may name a schema inside it (Resolve discovers that one).
    }
    return Status::OK();
  }

  // The subschemas keyword `a` keeps in `v`. A value of the wrong shape is
  // data: the builder refuses it where it applies.
  Status DiscoverHeld(const Applicator& a, const Value& v, const std::string& at, int depth) {
    int unused = -1;
    Holds holds = a.holds;
    if (holds == Holds::kSchemaOrList) holds = v.IsArray() ? Holds::kSchemaList : Holds::kSchema;
    switch (holds) {
      case Holds::kSchema:
        if (!v.IsObject() && !v.IsBool()) return MarkData(v, at, depth);
        return Discover(v, at, depth, &unused);
      case Holds::kSchemaList:
        if (!v.IsArray()) return MarkData(v, at, depth);
        if (Status s = MarkContainer(v, at); !s.ok()) return s;
        for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
          if (Status s = Discover(v[i], fmt::format("{}/{}", at, i), depth + 1, &unused); !s.ok()) {
            return s;
          }
        }
        return Status::OK();
      case Holds::kSchemaMap:
      case Holds::kDependencies:
        if (!v.IsObject()) return MarkData(v, at, depth);
        if (Status s = MarkContainer(v, at); !s.ok()) return s;
        for (const auto& m : v.GetObject()) {
          const std::string member = at + "/" + PointerToken(Name(m.name));
          // A dependency that lists property names is data.
          Status s = holds == Holds::kDependencies && m.value.IsArray()
                         ? MarkData(m.value, member, depth + 1)
                         : Discover(m.value, member, depth + 1, &unused);
          if (!s.ok()) return s;
        }
        return Status::OK();
      case Holds::kSchemaOrList:
        break;
    }
    return Status::OK();
  }

  Status MarkContainer(const Value& v, const std::string& at) {
    if (g_.Find(v) >= 0) return Conflict(at, Mark::kContainer);
    auto [it, added] = marks_.emplace(&v, Mark::kContainer);
    if (!added && it->second != Mark::kContainer) return Conflict(at, it->second);
    return Status::OK();
  }

  // Data all the way down: no schema may be found inside it later.
  Status MarkData(const Value& v, const std::string& at, int depth) {
    if (depth > kMaxSchemaNesting) return TooDeep(at);
    if (g_.Find(v) >= 0) return Conflict(at, Mark::kData);
    auto [it, added] = marks_.emplace(&v, Mark::kData);
    if (!added) return it->second == Mark::kData ? Status::OK() : Conflict(at, it->second);
    if (v.IsObject()) {
      for (const auto& m : v.GetObject()) {
        if (Status s = MarkData(m.value, at + "/" + PointerToken(Name(m.name)), depth + 1);
            !s.ok()) {
          return s;
        }
      }
    } else if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
        if (Status s = MarkData(v[i], fmt::format("{}/{}", at, i), depth + 1); !s.ok()) return s;
      }
    }
    return Status::OK();
  }

  // Follows the root's subschemas and $refs, resolving each $ref it meets.
  Status Reach() {
    std::vector<char> seen;
    std::vector<int> queue = {0};
    auto visit = [&](int c) {
      if (c < 0) return;
      if (seen.size() <= static_cast<size_t>(c)) seen.resize(static_cast<size_t>(c) + 1, 0);
      if (!seen[static_cast<size_t>(c)]) {
        seen[static_cast<size_t>(c)] = 1;
        queue.push_back(c);
      }
    };
    seen.assign(1, 1);
    for (size_t q = 0; q < queue.size(); ++q) {
      const int i = queue[q];
      g_.reachable_.push_back(i);
      in_place_.resize(g_.nodes_.size());
      const Value& v = *g_.node(i).value;
      if (!v.IsObject()) continue;
      if (auto ref = v.FindMember("$ref"); ref != v.MemberEnd()) {
        int target = -1;
        if (Status s = ResolveRef(i, ref->value, &target); !s.ok()) return s;
        g_.nodes_[static_cast<size_t>(i)].ref = target;
        in_place_.resize(g_.nodes_.size());
        in_place_[static_cast<size_t>(i)] = {target};
        visit(target);
        continue;  // drafts 4-7: a $ref's siblings are ignored
      }
      const bool has_if = v.HasMember("if");
      auto items = v.FindMember("items");
      const bool items_list = items != v.MemberEnd() && items->value.IsArray();
      for (const auto& m : v.GetObject()) {
        const std::string_view keyword = Name(m.name);
        const Applicator* a = ApplicatorOf(keyword);
        if (a == nullptr || keyword == "definitions") continue;
        if ((keyword == "then" || keyword == "else") && !has_if) continue;
        if (keyword == "additionalItems" && !items_list) continue;
        ForEachHeld(*a, m.value, [&](const Value& child) {
          const int c = g_.Find(child);
          if (c < 0) return;
          if (a->in_place) in_place_[static_cast<size_t>(i)].push_back(c);
          visit(c);
        });
      }
    }
    return Status::OK();
  }

  template <typename Fn>
  static void ForEachHeld(const Applicator& a, const Value& v, Fn&& fn) {
    const bool list =
        a.holds == Holds::kSchemaList || (a.holds == Holds::kSchemaOrList && v.IsArray());
    if (list) {
      if (v.IsArray()) {
        for (const Value& e : v.GetArray()) fn(e);
      }
    } else if (a.holds == Holds::kSchemaMap || a.holds == Holds::kDependencies) {
      if (v.IsObject()) {
        for (const auto& m : v.GetObject()) fn(m.value);
      }
    } else {
      fn(v);
    }
  }

  // A "$ref" is "#" or "#" and a JSON pointer, read from the document's root
  // (chronoconf fetches nothing, and "$id"/"id" do not move the base).
  Status ResolveRef(int from, const Value& ref_value, int* target) {
    const std::string where = RefText(g_.node(from).pointer + "/$ref");
    if (!ref_value.IsString()) {
      return Status::InvalidRequest(fmt::format("the schema's {} must be a string", where));
    }
    const std::string_view ref = Name(ref_value);
    if (ref.empty() || ref[0] != '#') {
      return Status::InvalidRequest(fmt::format(
          "the schema's {} is \"{}\", outside the schema: chronoconf fetches nothing, so a $ref is "
          "\"#\" or a JSON pointer into the schema itself (\"#/definitions/name\")",
          where, ref));
    }
    std::string fragment;
    if (!PercentDecode(ref.substr(1), &fragment)) {
      return Status::InvalidRequest(fmt::format(
          "the schema's {} (\"{}\") has a '%' not followed by two hex digits", where, ref));
    }
    if (!fragment.empty() && fragment[0] != '/') {
      return Status::InvalidRequest(fmt::format(
          "the schema's {} (\"{}\") is not a JSON pointer; chronoconf resolves \"#\" and "
          "\"#/...\" only",
          where, ref));
    }
    const Value* cur = &root_;
    std::string pointer;
    std::string token;
    size_t start = 1;
    int depth = 0;
    while (start <= fragment.size() && !fragment.empty()) {
      size_t end = fragment.find('/', start);
      if (end == std::string::npos) end = fragment.size();
      if (!Unescape(std::string_view(fragment).substr(start, end - start), &token)) {
        return Status::InvalidRequest(
            fmt::format("the schema's {} (\"{}\") has a '~' not followed by 0 or 1", where, ref));
      }
      if (auto it = marks_.find(cur); it != marks_.end() && it->second == Mark::kData) {
        return NotASchema(where, ref, pointer, "data");
      }
      const Value* next = nullptr;
      if (cur->IsObject()) {
        auto m = cur->FindMember(rapidjson::StringRef(token.data(), token.size()));
        if (m != cur->MemberEnd()) next = &m->value;
      } else if (size_t index = 0;
                 cur->IsArray() && ParseIndex(token, &index) && index < cur->Size()) {
        next = &(*cur)[static_cast<rapidjson::SizeType>(index)];
      }
      pointer += '/';  // (not "/" + …: GCC 12's false -Wrestrict at -O3, PR 105329)
      pointer += PointerToken(token);
      if (next == nullptr) {
        return Status::InvalidRequest(
            fmt::format("the schema's {} (\"{}\") names nothing: the schema has no {}", where, ref,
                        RefText(pointer)));
      }
      cur = next;
      ++depth;
      start = end + 1;
    }
    if (auto it = marks_.find(cur); it != marks_.end()) {
      return NotASchema(where, ref, pointer,
                        it->second == Mark::kData ? "data" : "a list or map of schemas");
    }
    if (!cur->IsObject() && !cur->IsBool()) {
      return NotASchema(where, ref, pointer, "neither an object nor a boolean");
    }
    // A schema the walk has not met yet (under a member that is no keyword,
    // as in {"$ref":"#/my~1schemas/a","my/schemas":{"a":{...}}}) is one now.
    return Discover(*cur, pointer, depth, target);
  }

  // No in-place cycle, and bounded in-place work and depth at every
  // reachable schema: a depth-first walk of the in-place edges, iterative
  // so that a long chain cannot exhaust this thread's stack either.
  Status CheckInPlace() {
    const size_t n = g_.nodes_.size();
    in_place_.resize(n);
    std::vector<char> state(n, 0);  // 0 unseen, 1 on the stack, 2 done
    std::vector<int64_t> count(n, 0);
    std::vector<int> depth(n, 0);
    std::vector<std::pair<int, size_t>> stack;  // node, next edge
    for (int start : g_.reachable_) {
      if (state[static_cast<size_t>(start)] != 0) continue;
      stack.emplace_back(start, 0);
      state[static_cast<size_t>(start)] = 1;
      while (!stack.empty()) {
        auto& [i, next] = stack.back();
        const std::vector<int>& edges = in_place_[static_cast<size_t>(i)];
        if (next < edges.size()) {
          const int c = edges[next++];
          if (state[static_cast<size_t>(c)] == 1) return Cycle(stack, c);
          if (state[static_cast<size_t>(c)] == 0) {
            state[static_cast<size_t>(c)] = 1;
            stack.emplace_back(c, 0);
          }
          continue;
        }
        // A $ref adds no subschema of its own: its target is checked instead.
        const bool is_ref = g_.node(i).ref >= 0;
        int64_t total = is_ref ? 0 : 1;
        int deepest = 0;
        for (int c : edges) {
          total = std::min(total + count[static_cast<size_t>(c)], kMaxInPlaceSubschemas + 1);
          deepest = std::max(deepest, depth[static_cast<size_t>(c)]);
        }
        count[static_cast<size_t>(i)] = total;
        depth[static_cast<size_t>(i)] = deepest + (is_ref ? 0 : 1);
        if (total > kMaxInPlaceSubschemas) {
          return Status::InvalidRequest(fmt::format(
              "the schema at {} checks one value against more than {} subschemas in place "
              "(through $ref, allOf, anyOf, oneOf, not, if/then/else and dependencies), the "
              "limit for the work one write may cost",
              RefText(g_.node(i).pointer), kMaxInPlaceSubschemas));
        }
        if (depth[static_cast<size_t>(i)] > kMaxInPlaceDepth) {
          return Status::InvalidRequest(fmt::format(
              "the schema at {} nests subschemas in place (through $ref, allOf, anyOf, oneOf, "
              "not, if/then/else and dependencies) more than {} deep, the limit",
              RefText(g_.node(i).pointer), kMaxInPlaceDepth));
        }
        state[static_cast<size_t>(i)] = 2;
        stack.pop_back();
      }
    }
    return Status::OK();
  }

  Status Cycle(const std::vector<std::pair<int, size_t>>& stack, int back_to) {
    auto it = std::find_if(stack.begin(), stack.end(),
                           [&](const auto& frame) { return frame.first == back_to; });
    std::string path;
    int shown = 0;
    for (; it != stack.end(); ++it, ++shown) {
      if (shown == 8) {
        path += " -> ...";
        break;
      }
      path += RefText(g_.node(it->first).pointer) + " -> ";
    }
    if (shown < 8) path += RefText(g_.node(back_to).pointer);
    return Status::InvalidRequest(fmt::format(
        "the schema at {} applies itself to the same value without descending into it ({}, "
        "through $ref, allOf, anyOf, oneOf, not, if/then/else or dependencies): its validation "
        "would never end",
        RefText(g_.node(back_to).pointer), path));
  }

  static Status Conflict(const std::string& pointer, Mark was) {
    return Status::InvalidRequest(fmt::format(
        "the schema uses {} both as a schema and as {}", RefText(pointer),
        was == Mark::kData ? "data (enum, const, default...)" : "a list or map of schemas"));
  }

  static Status NotASchema(const std::string& where, std::string_view ref,
                           const std::string& pointer, std::string_view what) {
    return Status::InvalidRequest(
        fmt::format("the schema's {} (\"{}\") names {}, which is {}, not a schema", where, ref,
                    RefText(pointer), what));
  }

  static Status TooDeep(const std::string& pointer) {
    return Status::InvalidRequest(fmt::format("the schema nests more than {} levels deep at {}",
                                              kMaxSchemaNesting, RefText(pointer)));
  }

  const Value& root_;
  SchemaGraph g_;
  std::unordered_map<const Value*, Mark> marks_;
  std::vector<std::vector<int>> in_place_;  // per node, the subschemas applied in place
};

Result<SchemaGraph> WalkSchema(const Value& root) { return SchemaWalker(root).Walk(); }

}  // namespace chronoconf::json
