#include "json/json_schema.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "json/valijson_rapidjson.h"  // first: it sets RapidJSON's assertion
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <valijson/schema.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <fmt/format.h>

#include "json/schema_build.h"
#include "json/schema_keywords.h"
#include "json/schema_walk.h"

namespace chronoconf::json {
namespace {

// valijson says what failed in words; the keyword is the start of them.
struct RuleText {
  std::string_view prefix;
  std::string_view rule;
};
constexpr std::array<RuleText, 33> kRules = {{
    {"Value type not permitted", "type"},
    {"Missing required property", "required"},
    {"Expected number greater than or equal", "minimum"},
    {"Expected number greater than", "exclusiveMinimum"},
    {"Expected number less than or equal", "maximum"},
    {"Expected number less than", "exclusiveMaximum"},
    {"String should be no fewer than", "minLength"},
    {"String should be no more than", "maxLength"},
    {"String should be a valid", "format"},
    {"Failed to match regex", "pattern"},
    {"Failed to match against any enum", "enum"},
    {"Failed to match expected value set by 'const'", "const"},
    {"Array should contain no fewer than", "minItems"},
    {"Array should contain no more than", "maxItems"},
    {"Array contains more items than allowed", "additionalItems"},
    {"Elements at indexes", "uniqueItems"},
    {"Failed to any values against subschema in 'contains'", "contains"},
    {"Object should have no fewer than", "minProperties"},
    {"Object should have no more than", "maxProperties"},
    {"Object contains a property", "additionalProperties"},
    {"Failed to validate against additional properties", "additionalProperties"},
    {"Failed to validate against schema associated with property name", "properties"},
    {"Failed to validate against schema associated with pattern", "patternProperties"},
    {"Failed to validate against any schemas allowed by anyOf", "anyOf"},
    {"Failed to validate against exactly one", "oneOf"},
    {"Failed to validate against any", "oneOf"},
    {"Failed to validate against a conditional", "if"},
    {"Failed to validate against dependent", "dependencies"},
    {"Missing dependency", "dependencies"},
    {"Value should be a multiple", "multipleOf"},
    {"Value could not be converted", "multipleOf"},
    {"Failed to validate item", "items"},
    {"Cannot validate item", "items"},
}};

std::string RuleOf(std::string_view message) {
  for (const RuleText& r : kRules) {
    if (message.substr(0, r.prefix.size()) == r.prefix) return std::string(r.rule);
  }
  if (message.find("'not'") != std::string_view::npos ||
      message.find("not constraint") != std::string_view::npos) {
    return "not";
  }
  if (message.find("allOf") != std::string_view::npos) return "allOf";
  if (message.find("propertyNames") != std::string_view::npos) return "propertyNames";
  return "schema";
}

// valijson's context (["<root>", "[a]", "[0]"]) as an RFC 6901 pointer ("/a/0").
std::string PointerOf(const std::vector<std::string>& context) {
  std::string out;
  for (size_t i = 1; i < context.size(); ++i) {
    std::string_view step = context[i];
    if (step.size() >= 2 && step.front() == '[' && step.back() == ']') {
      step = step.substr(1, step.size() - 2);
    }
    out += '/';
    out += PointerToken(step);
  }
  return out;
}

// The failures valijson adds around a failure found deeper in the value.
bool IsWrapper(std::string_view message) {
  for (std::string_view w : {"Failed to validate against schema associated with property name",
                             "Failed to validate against schema associated with pattern",
                             "Failed to validate against additional properties",
                             "Failed to validate item", "Cannot validate item"}) {
    if (message.substr(0, w.size()) == w) return true;
  }
  return false;
}

bool IsStrictPrefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// The draft's name, and whether it is draft 4 (else 7, or 6 read as 7).
Result<std::pair<bool, std::string>> DraftOf(const rapidjson::Document& schema) {
  if (!schema.IsObject()) return std::pair{false, std::string("draft-07")};  // true/false
  auto it = schema.FindMember("$schema");
  if (it == schema.MemberEnd()) return std::pair{false, std::string("draft-07")};
  if (!it->value.IsString()) return Status::InvalidRequest("the schema's \"$schema\" must be a string");
  std::string_view uri(it->value.GetString(), it->value.GetStringLength());
  // "http://json-schema.org/draft-07/schema#", with or without "#" or "https".
  if (uri.find("json-schema.org/draft-07/schema") != std::string_view::npos) {
    return std::pair{false, std::string("draft-07")};
  }
  if (uri.find("json-schema.org/draft-06/schema") != std::string_view::npos) {
    return std::pair{false, std::string("draft-06")};
  }
  if (uri.find("json-schema.org/draft-04/schema") != std::string_view::npos) {
    return std::pair{true, std::string("draft-04")};
  }
  return Status::InvalidRequest(fmt::format(
      "the schema's \"$schema\" is {}; chronoconf validates JSON Schema drafts 7, 6 and 4 "
      "(http://json-schema.org/draft-07/schema#, draft-06, draft-04)",
      uri));
}

}  // namespace

struct CompiledSchema::Impl {
  valijson::Schema schema;  // owns every subschema
  const valijson::Subschema* root = nullptr;
};

CompiledSchema::CompiledSchema(std::unique_ptr<Impl> impl, std::string draft)
    : impl_(std::move(impl)), draft_(std::move(draft)) {}
CompiledSchema::~CompiledSchema() = default;

Result<std::shared_ptr<const CompiledSchema>> CompiledSchema::Compile(std::string_view text) {
  rapidjson::Document doc;
  // Iterative: however deep the text nests, parsing it takes no stack.
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                     text.size());
  if (doc.HasParseError()) {
    return Status::InvalidRequest(fmt::format("the schema is not JSON: {} (at byte {})",
                                              rapidjson::GetParseError_En(doc.GetParseError()),
                                              doc.GetErrorOffset()));
  }
  if (!doc.IsObject() && !doc.IsBool()) {
    return Status::InvalidRequest("a schema is a JSON object (or true or false)");
  }
  auto draft = DraftOf(doc);
  if (!draft) return draft.status();
  // Its shape first ($refs, cycles, the in-place limits), then valijson's
  // constraints for what the root reaches.
  auto impl = std::make_unique<Impl>();
  try {
    auto graph = WalkSchema(doc);
    if (!graph) return graph.status();
    auto root = BuildSchema(*graph, draft->first, &impl->schema);
    if (!root) {
      return Status::InvalidRequest(fmt::format("the schema is not a valid {} schema: {}",
                                                draft->second, root.status().message()));
    }
    impl->root = *root;
  } catch (const std::exception& e) {  // std::bad_alloc, or a check of valijson's
    return Status::InvalidRequest(fmt::format("the schema is not a valid {} schema: {}",
                                              draft->second, e.what()));
  }
  return std::shared_ptr<const CompiledSchema>(
      new CompiledSchema(std::move(impl), std::move(draft->second)));
}

std::vector<SchemaFailure> CompiledSchema::Validate(std::string_view value_json) const {
  // Every write under the prefix comes here, on the thread that submits it
  // (and on the committer when a schema moved meanwhile): the
  // document's nodes go to a buffer on the stack (no malloc for a typical
  // value), and a valid value (the usual case) is checked without
  // collecting results, which makes valijson stop early and build no
  // context paths; only a failing one is checked again to say why.
  char nodes[8192];
  char stack[2048];
  rapidjson::MemoryPoolAllocator<> node_alloc(nodes, sizeof nodes);
  rapidjson::MemoryPoolAllocator<> stack_alloc(stack, sizeof stack);
  rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                             rapidjson::MemoryPoolAllocator<>>
      doc(&node_alloc, sizeof stack, &stack_alloc);
  doc.Parse(value_json.data(), value_json.size());
  if (doc.HasParseError()) {
    return {{"", "json", "the value is not JSON"}};
  }
  // The schema holds no valijson "pattern" (chronoconf's own replaces it),
  // so the validator's regex cache stays empty and a validator per call
  // costs nothing: calls need no lock.
  // Each pass has its own ValidationBudget. A pass that cannot answer for
  // sure (a pattern gave up, the budget is spent) refuses the value.
  valijson::ValidationResults results;
  valijson::Validator validator;
  valijson::adapters::RapidJsonAdapter adapter(doc);
  std::optional<SchemaFailure> aborted;
  try {
    {
      ValidationBudget budget(value_json.size());
      if (validator.validate(*impl_->root, adapter, nullptr)) return {};
    }
    ValidationBudget budget(value_json.size());
    validator.validate(*impl_->root, adapter, &results);
  } catch (const ValidationAborted& e) {
    aborted = SchemaFailure{PointerOf(e.context()), e.rule(), e.what()};
  } catch (const std::exception& e) {
    return {{"", "schema", e.what()}};
  }
  // "Property 'a' failed" adds nothing to the failure found inside "a".
  std::vector<valijson::ValidationResults::Error> errors(results.begin(), results.end());
  std::vector<SchemaFailure> out;
  for (const auto& e : errors) {
    const bool has_deeper = std::any_of(errors.begin(), errors.end(), [&](const auto& other) {
      return IsStrictPrefix(e.context, other.context);
    });
    if (has_deeper && IsWrapper(e.description)) continue;
    SchemaFailure f{PointerOf(e.context), RuleOf(e.description), e.description};
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(std::move(f));
  }
  if (aborted) out.push_back(std::move(*aborted));
  if (out.empty()) out.push_back({"", "schema", "the value does not match the schema"});
  return out;
}

}  // namespace chronoconf::json
