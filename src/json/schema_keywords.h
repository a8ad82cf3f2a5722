// The keywords chronoconf checks itself instead of through valijson 1.0,
// whose versions are unsafe on a server: "pattern", "patternProperties" and
// "format" (date, time, date-time) run libstdc++'s std::regex, which recurses
// once per character (a 30,000-character string overflows the stack) and
// backtracks without bound; "uniqueItems" compares every pair of items
// (40,000 took 37 s). The numeric keywords ("minimum", "maximum", their
// exclusive forms, "multipleOf", "enum" and "const") are chronoconf's too:
// valijson compares numbers as doubles, reads an integer past int64's range
// as negative (18446744073709551615 as -1), and its "multipleOf" by an
// integer truncates the value (4.5 passed {"multipleOf":2}). Each is a
// valijson PolyConstraint that the schema builder (schema_build.h) adds
// where the keyword is.
//
// Regular expressions are Boost.Regex, ECMAScript syntax with "^" and "$"
// matching only at the ends of the string and "." not matching a newline, as
// in ECMAScript. Its matcher keeps its backtracking state on the heap and
// gives up (std::runtime_error) when a match gets too complex; on top of
// that, every character it reads is charged to the running validation
// pass's ValidationBudget. A pattern that gives up refuses the value with a
// failure that says so, never a crash or a stall of the committer.
//
// Thread safety: the constraints are immutable and may be used by several
// threads at once; a ValidationBudget belongs to the thread that made it.
#ifndef CHRONOCONF_JSON_SCHEMA_KEYWORDS_H_
#define CHRONOCONF_JSON_SCHEMA_KEYWORDS_H_

// valijson's adapter and RapidJSON, with RapidJSON's assertion set: first.
#include "json/valijson_rapidjson.h"
#include <valijson/constraints/concrete_constraints.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace valijson {
class Subschema;
namespace constraints {
struct Constraint;
}  // namespace constraints
}  // namespace valijson

namespace chronoconf::json {

struct CompiledPattern;  // a boost::regex (schema_keywords.cc)
using Regex = std::shared_ptr<const CompiledPattern>;
using Constraint = std::unique_ptr<const valijson::constraints::Constraint>;

// What one validation pass of a value may cost, so that no schema and
// value hold the committer for long (each keyword's own cost is linear in
// the value, or O(n log n) for uniqueItems; these bound how often):
// - characters read by pattern matching: every string of a value checked
//   against a few linear patterns takes a small part of it, and a
//   catastrophic pattern (^(a+)+$) stops after tens of milliseconds;
// - work units: each time a schema is applied, 1 plus the elements of its
//   array and object keywords (an enum's values, properties, required...).
//   Compile bounds the subschemas applied at one place of a value (10,000,
//   kMaxInPlaceSubschemas); this bounds their sum over the whole value.
inline constexpr int64_t kRegexStepsPerPass = 1'000'000;
inline constexpr int64_t kRegexStepsPerValueByte = 32;
inline constexpr int64_t kWorkPerPass = 1'000'000;
inline constexpr int64_t kWorkPerValueByte = 64;

// Sets the budget of the validation pass it lives through on this thread,
// the per-pass amount plus the per-byte one times `value_bytes`; a pass
// without one gets the per-pass amounts.
class ValidationBudget {
 public:
  explicit ValidationBudget(size_t value_bytes);
  ~ValidationBudget();
  ValidationBudget(const ValidationBudget&) = delete;
  ValidationBudget& operator=(const ValidationBudget&) = delete;

  int64_t regex_steps;
  int64_t work;

 private:
  ValidationBudget* outer_;
};

// Thrown out of a validation pass that cannot answer for sure: a pattern
// gave up (inside "not" or "anyOf" a plain failure could turn into a
// success), or the pass spent its work. The value is refused with it.
class ValidationAborted : public std::runtime_error {
 public:
  ValidationAborted(std::vector<std::string> context, std::string rule, const std::string& message)
      : std::runtime_error(message), context_(std::move(context)), rule_(std::move(rule)) {}
  // valijson's context of where it happened (["<root>", "[a]", "[0]"]).
  const std::vector<std::string>& context() const { return context_; }
  const std::string& rule() const { return rule_; }

 private:
  std::vector<std::string> context_;
  std::string rule_;
};

// Charged first each time the schema it is in is applied: `cost` work units.
Constraint MakeCostConstraint(int64_t cost);

// Compiles `pattern` as JSON Schema's "pattern" reads it. Errors:
// kInvalidRequest with Boost's reason (the caller says where it was).
Result<Regex> CompilePattern(std::string_view pattern);

// Whether `text` contains a match of `regex`, within the running pass's
// budget; kGaveUp (Boost's limits, or the budget's) sets *why.
enum class Match { kYes, kNo, kGaveUp };
Match Search(const CompiledPattern& regex, std::string_view text, std::string* why);

// "pattern": a string must contain a match of `regex` (`source` is its
// text). Matching that gives up throws ValidationAborted.
Constraint MakePatternConstraint(Regex regex, std::string source);

// "format": "date", "time" and "date-time" are checked (RFC 3339 full-date,
// full-time and date-time); any other format is an annotation (nullptr).
Constraint MakeFormatConstraint(std::string_view format);

// "uniqueItems": true. JSON Schema equality (1 and 1.0 are equal, members
// in any order), found by sorting the items' canonical forms: O(n log n).
Constraint MakeUniqueItemsConstraint();

// The numeric keywords compare numbers exactly as RapidJSON holds them (an
// int64, a uint64 or a double): 18446744073709551615 is above
// 18446744073709551614, and 1 equals 1.0.
//
// "maximum" (`is_max`) or "minimum" at `limit`, a number; `exclusive` for
// "exclusiveMaximum"/"exclusiveMinimum" (or draft 4's boolean beside it).
Constraint MakeBoundConstraint(const rapidjson::Value& limit, bool is_max, bool exclusive);

// "multipleOf" `divisor`, a number greater than 0. An integer below 2^64 by
// an integer is exact; otherwise the numbers are read in decimal, as JSON
// writes them, a double as the shortest decimal that reads back as it, to
// at most 15 significant digits (what was written, if no more): 0.0075 is a
// multiple of 0.0001, 1e308 is one of 0.5 and not of 0.123456789.
Constraint MakeMultipleOfConstraint(const rapidjson::Value& divisor);

// "type", any of `types`. An integer is a number with no fractional part
// (1.0 too, as drafts 6 and 7 say); in `draft4` one written without a
// fraction. Fails with valijson's words for "type".
using JsonType = valijson::constraints::TypeConstraint::JsonType;
Constraint MakeTypeConstraint(std::vector<JsonType> types, bool draft4);

// "enum" (`values`, an array) and "const": JSON Schema equality (1 and 1.0
// are equal, members in any order).
Constraint MakeEnumConstraint(const rapidjson::Value& values);
Constraint MakeConstConstraint(const rapidjson::Value& value);

// "properties", "patternProperties" and "additionalProperties" of one
// schema, checked together where patternProperties is present (a property
// is additional when no name and no pattern matches it).
struct PatternProperty {
  std::string source;
  Regex regex;
  const valijson::Subschema* schema;
};
Constraint MakePatternPropertiesConstraint(
    std::vector<std::pair<std::string, const valijson::Subschema*>> properties,
    std::vector<PatternProperty> patterns,
    const valijson::Subschema* additional);  // nullptr: no other property

// RFC 3339, exposed for tests.
bool IsDate(std::string_view s);
bool IsTime(std::string_view s);
bool IsDateTime(std::string_view s);

}  // namespace chronoconf::json

#endif  // CHRONOCONF_JSON_SCHEMA_KEYWORDS_H_
