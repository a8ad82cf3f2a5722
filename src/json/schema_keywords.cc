#include "json/schema_keywords.h"

#include "json/valijson_rapidjson.h"  // first: it sets RapidJSON's assertion
#include <valijson/constraints/concrete_constraints.hpp>
#include <valijson/subschema.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validation_visitor.hpp>

#include <boost/regex.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace chronoconf::json {

struct CompiledPattern {
  boost::regex regex;
};

namespace {

using valijson::ValidationResults;
using valijson::adapters::Adapter;
using valijson::adapters::RapidJsonAdapter;
using Context = std::vector<std::string>;

thread_local ValidationBudget* t_budget = nullptr;  // the running pass's

struct OutOfSteps : std::runtime_error {
  OutOfSteps() : std::runtime_error("out of steps") {}
};

// A pointer into the text that charges each character read to a budget.
// Boost's matcher reads a character for nearly every step it takes, also
// when it backtracks over the same ones again.
class CountingIterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator() = default;
  CountingIterator(const char* p, int64_t* steps) : p_(p), steps_(steps) {}

  reference operator*() const { return Charge(*p_); }
  reference operator[](difference_type n) const { return Charge(p_[n]); }
  CountingIterator& operator++() {
    ++p_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator t = *this;
    ++p_;
    return t;
  }
  CountingIterator& operator--() {
    --p_;
    return *this;
  }
  CountingIterator operator--(int) {
    CountingIterator t = *this;
    --p_;
    return t;
  }
  CountingIterator& operator+=(difference_type n) {
    p_ += n;
    return *this;
  }
  CountingIterator& operator-=(difference_type n) {
    p_ -= n;
    return *this;
  }
  // What Boost's matcher uses of a random-access iterator (clang flags the
  // rest as unused).
  friend difference_type operator-(CountingIterator a, CountingIterator b) { return a.p_ - b.p_; }
  friend bool operator==(CountingIterator a, CountingIterator b) { return a.p_ == b.p_; }

 private:
  const char& Charge(const char& c) const {
    if (--*steps_ < 0) throw OutOfSteps();
    return c;
  }
  const char* p_ = nullptr;
  int64_t* steps_ = nullptr;
};

// valijson's visitor wants the std::regex cache of its own "pattern"
// constraint, which chronoconf's schemas never contain: it stays empty.
std::unordered_map<std::string, std::regex>& UnusedRegexCache() {
  thread_local std::unordered_map<std::string, std::regex> cache;
  return cache;
}

class PatternConstraint : public valijson::constraints::PolyConstraint {
 public:
  PatternConstraint(Regex regex, std::string source)
      : regex_(std::move(regex)), source_(std::move(source)) {}

  bool validate(const Adapter& target, const Context& context,
                ValidationResults* results) const override {
    if (!target.isString()) return true;
    std::string text;
    target.getString(text);
    std::string why;
    const Match m = Search(*regex_, text, &why);
    if (m == Match::kYes) return true;
    if (m == Match::kGaveUp) {
      throw ValidationAborted(
          context, "pattern",
          fmt::format("Failed to match regex specified by 'pattern' constraint ('{}'): {}", source_,
                      why));
    }
    if (results != nullptr) {
      results->pushError(context, "Failed to match regex specified by 'pattern' constraint.");
    }
    return false;
  }

 private:
  valijson::constraints::Constraint* cloneInto(void* p) const override {
    return new (p) PatternConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(*this); }

  Regex regex_;
  std::string source_;
};

enum class Format { kDate, kTime, kDateTime };

class FormatConstraint : public valijson::constraints::PolyConstraint {
 public:
  explicit FormatConstraint(Format format) : format_(format) {}

  bool validate(const Adapter& target, const Context& context,
                ValidationResults* results) const override {
    if (!target.isString()) return true;  // a format speaks of strings only
    std::string text;
    target.getString(text);
    const bool ok = format_ == Format::kDate   ? IsDate(text)
                    : format_ == Format::kTime ? IsTime(text)
                                               : IsDateTime(text);
    if (!ok && results != nullptr) {
      results->pushError(context, format_ == Format::kDate ? "String should be a valid date"
                                  : format_ == Format::kTime
                                      ? "String should be a valid time"
                                      : "String should be a valid date-time");
    }
    return ok;
  }

 private:
  valijson::constraints::Constraint* cloneInto(void* p) const override {
    return new (p) FormatConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(*this); }

  Format format_;
};

// A JSON number, exactly: long double holds every int64, uint64 and double
// (x86-64's has a 64-bit significand, others' more).
using Number = long double;
static_assert(std::numeric_limits<Number>::digits >= 64, "a uint64 must be exact in Number");

Number NumberOf(const rapidjson::Value& v) {
  if (v.IsInt64()) return static_cast<Number>(v.GetInt64());
  if (v.IsUint64()) return static_cast<Number>(v.GetUint64());
  return v.GetDouble();
}

// The number `v` holds (v.isNumber()). valijson's getInteger gives an
// integer past int64's range as signed bits; getDouble answers for it too
// (valijson_rapidjson.h), which says to read them unsigned.
Number NumberOf(const Adapter& v) {
  double d = 0;
  if (v.isDouble()) {
    v.getDouble(d);
    return d;
  }
  int64_t i = 0;
  v.getInteger(i);
  if (i < 0 && v.getDouble(d)) return static_cast<Number>(static_cast<uint64_t>(i));
  return static_cast<Number>(i);
}

// `x` as a uint64 when it is an integer in its range.
bool ToUint64(Number x, uint64_t* out) {
  if (!(x >= 0) || x > static_cast<Number>(UINT64_MAX) || std::trunc(x) != x) return false;
  *out = static_cast<uint64_t>(x);
  return true;
}

// A number as written in a schema or a message: an integer in full.
std::string NumberText(const rapidjson::Value& v) {
  if (v.IsInt64()) return fmt::format("{}", v.GetInt64());
  if (v.IsUint64()) return fmt::format("{}", v.GetUint64());
  return fmt::format("{}", v.GetDouble());
}

// digits x 10^exponent, `digits` with no trailing zero.
struct Decimal {
  uint64_t digits = 0;
  int exponent = 0;
};

// std::to_chars's scientific form ("d.ddde-xx") as a Decimal, and how many
// digits it has.
Decimal Scientific(const char* p, const char* end, int* count) {
  Decimal out;
  *count = 0;
  for (bool fraction = false; *p != 'e'; ++p) {
    if (*p == '.') {
      fraction = true;
      continue;
    }
    out.digits = out.digits * 10 + static_cast<uint64_t>(*p - '0');
    out.exponent -= fraction ? 1 : 0;
    ++*count;
  }
  const bool negative = *++p == '-';
  int e = 0;
  for (++p; p < end; ++p) e = e * 10 + (*p - '0');
  out.exponent += negative ? -e : e;
  return out;
}

// A number > 0 in decimal: an integer below 2^64 exactly; a double (any
// other number) as the shortest decimal that reads back as it, rounded to
// 15 significant digits (what a double keeps of any decimal) when longer:
// RapidJSON reads "1e-30" 1 ulp off, whose shortest form is
// 9.999999999999999e-31, and 0.1+0.2 (0.30000000000000004) is 0.3.
Decimal DecimalOf(Number x) {
  Decimal out;
  if (!ToUint64(x, &out.digits)) {
    const double d = static_cast<double>(x);
    char text[32];  // "d.dddddddddddddddde-308": at most 24
    int count = 0;
    auto end = std::to_chars(text, text + sizeof text, d, std::chars_format::scientific).ptr;
    out = Scientific(text, end, &count);
    if (count > 15) {
      end = std::to_chars(text, text + sizeof text, d, std::chars_format::scientific, 14).ptr;
      out = Scientific(text, end, &count);
    }
  }
  while (out.digits % 10 == 0) {
    out.digits /= 10;
    ++out.exponent;
  }
  return out;
}

// Whether `value` is `divisor` (> 0) times an integer.
bool IsMultipleOf(Number value, Number divisor) {
  value = std::fabs(value);
  if (value == 0) return true;
  uint64_t a = 0, b = 0;
  if (ToUint64(value, &a) && ToUint64(divisor, &b)) return a % b == 0;
  // value / divisor = (x / y) * 10^k, with x and y free of factors of 10:
  // an integer only if k >= 0 and y / gcd(x, y) divides 10^k.
  const Decimal x = DecimalOf(value), y = DecimalOf(divisor);
  const int k = x.exponent - y.exponent;
  if (k < 0) return false;
  uint64_t rest = y.digits / std::gcd(x.digits, y.digits);
  for (int i = 0; i < k && rest % 2 == 0; ++i) rest /= 2;
  for (int i = 0; i < k && rest % 5 == 0; ++i) rest /= 5;
  return rest == 1;
}

// JSON Schema equality of a value and a schema's value.
bool Equal(const Adapter& v, const rapidjson::Value& expected) {
  switch (expected.GetType()) {
    case rapidjson::kNullType:
      return v.isNull();
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return v.isBool() && v.getBool() == expected.GetBool();
    case rapidjson::kNumberType:
      return v.isNumber() && NumberOf(v) == NumberOf(expected);
    case rapidjson::kStringType: {
      std::string s;
      return v.getString(s) &&
             s == std::string_view(expected.GetString(), expected.GetStringLength());
    }
    case rapidjson::kArrayType: {
      size_t n = 0;
      if (!v.isArray() || !v.getArraySize(n) || n != expected.Size()) return false;
      rapidjson::SizeType i = 0;
      return v.applyToArray([&](const Adapter& item) { return Equal(item, expected[i++]); });
    }
    case rapidjson::kObjectType: {
      size_t n = 0;
      if (!v.isObject() || !v.getObjectSize(n) || n != expected.MemberCount()) return false;
      return v.applyToObject([&](const std::string& name, const Adapter& value) {
        const rapidjson::Value key(rapidjson::StringRef(name.data(), name.size()));
        auto it = expected.FindMember(key);
        return it != expected.MemberEnd() && Equal(value, it->value);
      });
    }
  }
  return false;
}

class BoundConstraint : public valijson::constraints::PolyConstraint {
 public:
  BoundConstraint(Number limit, bool is_max, bool exclusive, std::string message)
      : limit_(limit), is_max_(is_max), exclusive_(exclusive), message_(std::move(message)) {}

  bool validate(const Adapter& target, const Context& context,
                ValidationResults* results) const override {
    if (!target.isNumber()) return true;
    const Number n = NumberOf(target);
    const bool ok =
        is_max_ ? (exclusive_ ? n < limit_ : n <= limit_) : (exclusive_ ? n > limit_ : n >= limit_);
    if (!ok && results != nullptr) results->pushError(context, message_);
    return ok;
  }

 private:
  valijson::constraints::Constraint* cloneInto(void* p) const override {
    return new (p) BoundConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(*this); }

  Number limit_;
  bool is_max_;
  bool exclusive_;
  std::string message_;
};

class MultipleOfConstraint : public valijson::constraints::PolyConstraint {
 public:
  MultipleOfConstraint(Number divisor, std::string message)
      : divisor_(divisor), message_(std::move(message)) {}

  bool validate(const Adapter& target, const Context& context,
                ValidationResults* results) const override {
    if (!target.isNumber() || IsMultipleOf(NumberOf(target), divisor_)) return true;
    if (results != nullptr) results->pushError(context, message_);
    return false;
  }

 private:
  valijson::constraints::Constraint* cloneInto(void* p) const override {
    return new (p) MultipleOfConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(*this); }

  Number divisor_;
  std::string message_;
};

// "type". An integer is a number with no fractional part however it is
// written (1.0 too), as drafts 6 and 7 say; draft 4 counts only numbers
// written without a fraction. valijson's own "type" has draft 4's rule.
class JsonTypeConstraint : public valijson::constraints::PolyConstraint {
 public:
  JsonTypeConstraint(std::vector<JsonType> types, bool draft4)
      : types_(std::move(types)), draft4_(draft4) {}

  bool validate(const Adapter& target, const Context& context,
                ValidationResults* results) const override {
    for (JsonType type : types_) {
      if (Is(target, type)) return true;
    }
    if (results != nullptr) {
      results->pushError(context, "Value type not permitted by 'type' constraint.");
    }
    return false;
  }

 private:
  bool Is(const Adapter& target, JsonType type) const {
    switch (type) {
      case JsonType::kAny: return true;
      case JsonType::kArray: return target.isArray();
      case JsonType::kBoolean: return target.isBool();
      case JsonType::kNull: return target.isNull();
      case JsonType::kNumber: return target.isNumber();
      case JsonType::kObject: return target.isObject();
      case JsonType::kString: return target.isString();
      case JsonType::kInteger: {
        if (target.isInteger()) return true;
        double d = 0;
        return !draft4_ && target.isDouble() && target.getDouble(d) && std::isfinite(d) &&
               std::trunc(d) == d;
      }
    }
    return false;
  }

  valijson::constraints::Constraint* cloneInto(void* p) const override {
    return new (p) JsonTypeConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(*this); }

  std::vector<JsonType> types_;
  bool draft4_;
};

// "enum" (`values_` is the array) or "const" (`values_` is the value).
class EqualsConstraint : public valijson::constraints::PolyConstraint {
 public:
  EqualsConstraint(const rapidjson::Value& values, bool is_enum) : is_enum_(is_enum) {
    auto copy = std::make_shared<rapidjson::Document>();
    copy->CopyFrom(values, copy->GetAllocator());
    values_ = std::move(copy);
  }

  bool validate(const Adapter& target, const Context& context,
                ValidationResults* results) const override {
    if (is_enum_) {
      for (const rapidjson::Value& v : values_->GetArray()) {
        if (Equal(target, v)) return true;
      }
    } else if (Equal(target, *values_)) {
      return true;
    }
    if (results != nullptr) {
      results->pushError(context,
                         is_enum_ ? "Failed to match against any enum values."
                                  : "Failed to match expected value set by 'const' constraint.");
    }
    return false;
  }

 private:
  valijson::constraints::Constraint* cloneInto(void* p) const override {
    return new (p) EqualsConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(*this); }

  std::shared_ptr<const rapidjson::Document> values_;  // immutable: shared by copies
  bool is_enum_;
};

// A text equal for equal JSON values and only for them: strings are length
// prefixed, numbers written by value (1 and 1.0 alike), members sorted.
void AppendCanonical(const Adapter& v, std::string* out) {
  auto append_string = [out](const std::string& s) {
    *out += fmt::format("s{}:", s.size());
    *out += s;
  };
  if (v.isObject()) {
    std::vector<std::pair<std::string, std::string>> members;
    v.applyToObject([&](const std::string& name, const Adapter& value) {
      std::string text;
      AppendCanonical(value, &text);
      members.emplace_back(name, std::move(text));
      return true;
    });
    std::sort(members.begin(), members.end());
    *out += '{';
    for (const auto& [name, text] : members) {
      append_string(name);
      *out += text;
    }
    *out += '}';
  } else if (v.isArray()) {
    *out += '[';
    v.applyToArray([out](const Adapter& item) {
      AppendCanonical(item, out);
      return true;
    });
    *out += ']';
  } else if (v.isString()) {
    std::string s;
    v.getString(s);
    append_string(s);
  } else if (v.isBool()) {
    *out += v.getBool() ? 't' : 'f';
  } else if (v.isNumber()) {
    // An integer (also as a double) is written in full, any other double
    // shortest: each text is one number.
    const Number n = NumberOf(v);
    uint64_t u = 0;
    if (ToUint64(std::fabs(n), &u)) {
      *out += fmt::format("n{}{};", n < 0 ? "-" : "", u);
    } else {
      *out += fmt::format("n{};", static_cast<double>(n));
    }
  } else {
    *out += 'z';  // null
  }
}

class UniqueItemsConstraint : public valijson::constraints::PolyConstraint {
 public:
  bool validate(const Adapter& target, const Context& context,
                ValidationResults* results) const override {
    if (!target.isArray()) return true;
    std::vector<std::string> items;
    target.applyToArray([&items](const Adapter& item) {
      items.emplace_back();
      AppendCanonical(item, &items.back());
      return true;
    });
    std::vector<size_t> order(items.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&items](size_t a, size_t b) { return items[a] < items[b]; });
    // The earliest item that repeats an earlier one, and that one.
    size_t first = 0, second = SIZE_MAX;
    for (size_t k = 1; k < order.size(); ++k) {
      if (items[order[k]] != items[order[k - 1]] || order[k] >= second) continue;
      size_t start = k - 1;
      while (start > 0 && items[order[start - 1]] == items[order[k]]) --start;
      first = order[start];
      second = order[k];
    }
    if (second == SIZE_MAX) return true;
    if (results != nullptr) {
      results->pushError(context, fmt::format("Elements at indexes #{} and #{} violate uniqueness "
                                              "constraint.",
                                              first, second));
    }
    return false;
  }

 private:
  valijson::constraints::Constraint* cloneInto(void* p) const override {
    return new (p) UniqueItemsConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(*this); }
};

class PatternPropertiesConstraint : public valijson::constraints::PolyConstraint {
 public:
  PatternPropertiesConstraint(
      std::vector<std::pair<std::string, const valijson::Subschema*>> properties,
      std::vector<PatternProperty> patterns, const valijson::Subschema* additional)
      : properties_(std::move(properties)),
        patterns_(std::move(patterns)),
        additional_(additional) {
    std::sort(properties_.begin(), properties_.end());
  }

  bool validate(const Adapter& target, const Context& context,
                ValidationResults* results) const override {
    if (!target.isObject()) return true;
    // The member values are validated by valijson itself, which needs the
    // adapter's own type: a value's objects are always RapidJSON's.
    const auto* object = dynamic_cast<const RapidJsonAdapter*>(&target);
    if (object == nullptr) throw std::runtime_error("patternProperties met an unexpected adapter");
    bool valid = true;
    for (const auto& member : object->getObject()) {
      const std::string& name = member.first;
      bool matched = false;
      auto apply = [&](const valijson::Subschema& schema, auto&& wrapper) {
        Context child = context;
        child.push_back(fmt::format("[{}]", name));
        valijson::ValidationVisitor<RapidJsonAdapter> visitor(member.second, std::move(child), true,
                                                              results, UnusedRegexCache());
        if (visitor.validateSchema(schema)) return;
        valid = false;
        if (results != nullptr) results->pushError(context, wrapper());
      };
      auto it = std::lower_bound(properties_.begin(), properties_.end(), name,
                                 [](const auto& p, const std::string& n) { return p.first < n; });
      if (it != properties_.end() && it->first == name) {
        matched = true;
        apply(*it->second, [&] {
          return fmt::format(
              "Failed to validate against schema associated with property name '{}'.", name);
        });
      }
      for (const PatternProperty& p : patterns_) {
        if (!valid && results == nullptr) return false;
        std::string why;
        const Match m = Search(*p.regex, name, &why);
        if (m == Match::kNo) continue;
        matched = true;
        if (m == Match::kGaveUp) {
          throw ValidationAborted(context, "patternProperties",
                                  fmt::format("Could not match the 'patternProperties' regex '{}' "
                                              "against property name '{}': {}",
                                              p.source, name, why));
        }
        apply(*p.schema, [&] {
          return fmt::format("Failed to validate against schema associated with pattern '{}'.",
                             p.source);
        });
      }
      if (!matched) {
        if (additional_ == nullptr) {
          valid = false;
          if (results != nullptr) {
            results->pushError(
                context,
                fmt::format(
                    "Object contains a property that could not be validated using 'properties' or "
                    "'additionalProperties' constraints: '{}'.",
                    name));
          }
        } else {
          apply(*additional_, [] {
            return std::string("Failed to validate against additional properties schema");
          });
        }
      }
      if (!valid && results == nullptr) return false;
    }
    return valid;
  }

 private:
  valijson::constraints::Constraint* cloneInto(void* p) const override {
    return new (p) PatternPropertiesConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(*this); }

  std::vector<std::pair<std::string, const valijson::Subschema*>> properties_;  // by name
  std::vector<PatternProperty> patterns_;
  const valijson::Subschema* additional_;
};

class CostConstraint : public valijson::constraints::PolyConstraint {
 public:
  explicit CostConstraint(int64_t cost) : cost_(cost) {}

  bool validate(const Adapter&, const Context& context, ValidationResults*) const override {
    if (t_budget != nullptr && (t_budget->work -= cost_) < 0) {
      t_budget->work = 0;
      throw ValidationAborted(context, "schema",
                              "Validating this value against this schema takes more work than one "
                              "write may (chronoconf's limit is proportional to the value's size)");
    }
    return true;
  }

 private:
  valijson::constraints::Constraint* cloneInto(void* p) const override {
    return new (p) CostConstraint(*this);
  }
  size_t sizeOf() const override { return sizeof(*this); }

  int64_t cost_;
};

// Reads `n` digits of `s` at `pos` as a number.
bool Digits(std::string_view s, size_t pos, size_t n, int* value) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *value = v;
  return true;
}

// HH:MM:SS[.fraction], with its length in *used.
bool IsPartialTime(std::string_view s, size_t* used) {
  int h = 0, m = 0, sec = 0;
  if (!Digits(s, 0, 2, &h) || s.size() < 8 || s[2] != ':' || !Digits(s, 3, 2, &m) || s[5] != ':' ||
      !Digits(s, 6, 2, &sec)) {
    return false;
  }
  if (h > 23 || m > 59 || sec > 60) return false;  // 60: a leap second
  size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    const size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  *used = i;
  return true;
}

}  // namespace

ValidationBudget::ValidationBudget(size_t value_bytes)
    : regex_steps(kRegexStepsPerPass + kRegexStepsPerValueByte * static_cast<int64_t>(value_bytes)),
      work(kWorkPerPass + kWorkPerValueByte * static_cast<int64_t>(value_bytes)),
      outer_(t_budget) {
  t_budget = this;
}

ValidationBudget::~ValidationBudget() { t_budget = outer_; }

Result<Regex> CompilePattern(std::string_view pattern) {
  try {
    auto compiled = std::make_shared<CompiledPattern>();
    compiled->regex.assign(
        pattern.data(), pattern.data() + pattern.size(),
        boost::regex::ECMAScript | boost::regex::no_mod_m | boost::regex::no_mod_s);
    return Regex(std::move(compiled));
  } catch (const std::exception& e) {
    return Status::InvalidRequest(e.what());
  }
}

Match Search(const CompiledPattern& regex, std::string_view text, std::string* why) {
  int64_t own = kRegexStepsPerPass;
  int64_t* steps = t_budget != nullptr ? &t_budget->regex_steps : &own;
  try {
    const bool found =
        boost::regex_search(CountingIterator(text.data(), steps),
                            CountingIterator(text.data() + text.size(), steps), regex.regex);
    return found ? Match::kYes : Match::kNo;
  } catch (const OutOfSteps&) {
    *steps = 0;
    *why = "matching gave up: the patterns of one validation may read only so many characters";
  } catch (const std::exception& e) {
    // Boost's own limits: the complexity of the match, or its memory.
    *why = fmt::format("matching gave up: {}", e.what());
  }
  return Match::kGaveUp;
}

Constraint MakeCostConstraint(int64_t cost) { return std::make_unique<CostConstraint>(cost); }

Constraint MakePatternConstraint(Regex regex, std::string source) {
  return std::make_unique<PatternConstraint>(std::move(regex), std::move(source));
}

Constraint MakeFormatConstraint(std::string_view format) {
  if (format == "date") return std::make_unique<FormatConstraint>(Format::kDate);
  if (format == "time") return std::make_unique<FormatConstraint>(Format::kTime);
  if (format == "date-time") return std::make_unique<FormatConstraint>(Format::kDateTime);
  return nullptr;
}

Constraint MakeUniqueItemsConstraint() { return std::make_unique<UniqueItemsConstraint>(); }

Constraint MakeBoundConstraint(const rapidjson::Value& limit, bool is_max, bool exclusive) {
  const std::string message =
      fmt::format("Expected number {} than {}{}", is_max ? "less" : "greater",
                  exclusive ? "" : "or equal to ", NumberText(limit));
  return std::make_unique<BoundConstraint>(NumberOf(limit), is_max, exclusive, message);
}

Constraint MakeMultipleOfConstraint(const rapidjson::Value& divisor) {
  return std::make_unique<MultipleOfConstraint>(
      NumberOf(divisor), fmt::format("Value should be a multiple of {}", NumberText(divisor)));
}

Constraint MakeTypeConstraint(std::vector<JsonType> types, bool draft4) {
  return std::make_unique<JsonTypeConstraint>(std::move(types), draft4);
}

Constraint MakeEnumConstraint(const rapidjson::Value& values) {
  return std::make_unique<EqualsConstraint>(values, true);
}

Constraint MakeConstConstraint(const rapidjson::Value& value) {
  return std::make_unique<EqualsConstraint>(value, false);
}

Constraint MakePatternPropertiesConstraint(
    std::vector<std::pair<std::string, const valijson::Subschema*>> properties,
    std::vector<PatternProperty> patterns, const valijson::Subschema* additional) {
  return std::make_unique<PatternPropertiesConstraint>(std::move(properties), std::move(patterns),
                                                       additional);
}

bool IsDate(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &m) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool IsTime(std::string_view s) {
  size_t i = 0;
  if (!IsPartialTime(s, &i)) return false;
  if (i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z')) return true;
  int h = 0, m = 0;
  return i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && Digits(s, i + 1, 2, &h) &&
         s[i + 3] == ':' && Digits(s, i + 4, 2, &m) && h <= 23 && m <= 59;
}

bool IsDateTime(std::string_view s) {
  return s.size() > 11 && IsDate(s.substr(0, 10)) && (s[10] == 'T' || s[10] == 't') &&
         IsTime(s.substr(11));
}

}  // namespace chronoconf::json
