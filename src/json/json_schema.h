// JSON Schema (SPEC §8): a schema compiled once when it is set, then used to
// check every value written under its prefix.
//
// Drafts 7 (the default), 6 (read as draft 7, its superset) and 4, chosen
// by "$schema"; a schema of another draft (3, 2019-09, 2020-12) is refused
// with a message that says which are supported. Every keyword of those
// drafts is checked, "format" for "date", "time" and "date-time" (RFC 3339;
// other formats are annotations, as draft 7 allows). A "$ref" is "#" or a
// JSON pointer into the schema ("#/definitions/a"): chronoconf fetches
// nothing, and "$id" does not change what a pointer names.
//
// Compile walks the schema (schema_walk.h), then builds its validator
// (schema_build.h): valijson's constraints (Debian's libvalijson-dev) over
// RapidJSON, and chronoconf's own "pattern", "patternProperties", "format"
// and "uniqueItems" (schema_keywords.h), valijson's being unsafe on a
// server, and numeric keywords (bounds, "multipleOf", "enum", "const"),
// valijson's being inexact. It refuses what would crash or stall the committer, which
// validates every write: a cycle of in-place subschemas, more than
// kMaxInPlaceSubschemas of them or a chain deeper than kMaxInPlaceDepth at
// one place in a value, "multipleOf" <= 0, a regular expression Boost.Regex
// cannot compile. Validate bounds the work of checking one value, pattern
// matching included (ValidationBudget): past it, or when a pattern gives
// up, the value is refused with a failure that says so.
//
// Thread safety: Validate may be called from several threads at once.
#ifndef CHRONOCONF_JSON_JSON_SCHEMA_H_
#define CHRONOCONF_JSON_JSON_SCHEMA_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace chronoconf::json {

// One way a value breaks a schema.
struct SchemaFailure {
  std::string pointer;  // RFC 6901 JSON pointer into the value ("" = the value itself)
  std::string rule;     // the schema keyword that failed ("type", "required", "minimum"...)
  std::string message;  // what the validator said

  bool operator==(const SchemaFailure&) const = default;
};

class CompiledSchema {
 public:
  // Errors: kInvalidRequest naming what is wrong, and where as a JSON
  // pointer into the schema ("#/properties/a/pattern"): not JSON, not a
  // schema, an unsupported draft, a reference outside the schema or to
  // nothing, a cycle, a limit passed.
  static Result<std::shared_ptr<const CompiledSchema>> Compile(std::string_view schema_json);

  ~CompiledSchema();
  CompiledSchema(const CompiledSchema&) = delete;
  CompiledSchema& operator=(const CompiledSchema&) = delete;

  // The failures of `value_json` (one JSON text), none when it is valid.
  // A text that is not JSON is one failure with rule "json".
  std::vector<SchemaFailure> Validate(std::string_view value_json) const;

  // "draft-07", "draft-06" or "draft-04": what the schema was read as.
  const std::string& draft() const { return draft_; }

 private:
  struct Impl;
  explicit CompiledSchema(std::unique_ptr<Impl> impl, std::string draft);
  std::unique_ptr<Impl> impl_;
  std::string draft_;
};

}  // namespace chronoconf::json

#endif  // CHRONOCONF_JSON_JSON_SCHEMA_H_
