// Before any RapidJSON header (schema_build.h includes one): it sets
// RapidJSON's assertion.
#include "json/valijson_rapidjson.h"

#include "json/schema_build.h"

#include <valijson/constraints/concrete_constraints.hpp>
#include <valijson/schema.hpp>

#include <fmt/format.h>

#include <cmath>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "json/schema_keywords.h"

namespace chronoconf::json {
namespace {

using rapidjson::Value;
using valijson::Subschema;
namespace vc = valijson::constraints;

std::string_view Text(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

class SchemaBuilder {
 public:
  SchemaBuilder(const SchemaGraph& graph, bool draft4, valijson::Schema* schema)
      : g_(graph), draft4_(draft4), schema_(schema) {}

  Result<const Subschema*> Build() {
    const std::vector<int>& reachable = g_.reachable();
    int largest = 0;
    for (int i : reachable) largest = std::max(largest, i);
    subs_.assign(static_cast<size_t>(largest) + 1, nullptr);
    // Every subschema exists before any constraint names one, so building
    // needs no recursion; a $ref is the subschema it names.
    for (int i : reachable) {
      const SchemaNode& n = g_.node(i);
      if (n.ref >= 0) continue;
      if (n.value->IsObject()) {
        subs_[static_cast<size_t>(i)] = schema_->createSubschema();
      } else if (n.value->GetBool()) {
        subs_[static_cast<size_t>(i)] = schema_->emptySubschema();
      } else {
        subs_[static_cast<size_t>(i)] = schema_->createSubschema();
        schema_->setAlwaysInvalid(subs_[static_cast<size_t>(i)], true);
      }
    }
    for (int i : reachable) {
      if (g_.node(i).ref >= 0) {
        subs_[static_cast<size_t>(i)] = subs_[static_cast<size_t>(g_.Resolve(i))];
      }
    }
    for (int i : reachable) {
      const SchemaNode& n = g_.node(i);
      if (n.ref >= 0 || !n.value->IsObject()) continue;
      try {
        if (Status s = BuildObject(*n.value, n.pointer, subs_[static_cast<size_t>(i)]); !s.ok()) {
          return s;
        }
      } catch (const std::exception& e) {  // valijson's own checks (a duplicate dependency...)
        return Invalid(n.pointer, e.what());
      }
    }
    return subs_[static_cast<size_t>(g_.Resolve(0))];
  }

 private:
  // The keywords of one schema object, in valijson's order (so failures
  // come out as they did).
  Status BuildObject(const Value& o, const std::string& at, const Subschema* to) {
    auto find = [&o](const char* k) -> const Value* {
      auto it = o.FindMember(k);
      return it == o.MemberEnd() ? nullptr : &it->value;
    };
    auto path = [&at](std::string_view k) { return fmt::format("{}/{}", at, k); };
    const Subschema* sub = nullptr;

    // First, what applying this schema costs (ValidationBudget): once, plus
    // once per element of its lists and maps (enum values, properties...),
    // which valijson walks each time.
    int64_t cost = 1;
    for (const auto& m : o.GetObject()) {
      if (m.value.IsArray()) cost += m.value.Size();
      if (m.value.IsObject()) cost += m.value.MemberCount();
    }
    schema_->addConstraintToSubschema(*MakeCostConstraint(cost), to);

    if (const Value* v = find("allOf")) {
      if (Status s = AddList<vc::AllOfConstraint>(*v, path("allOf"), to); !s.ok()) return s;
    }
    if (const Value* v = find("anyOf")) {
      if (Status s = AddList<vc::AnyOfConstraint>(*v, path("anyOf"), to); !s.ok()) return s;
    }
    if (const Value* v = find("const")) {
      schema_->addConstraintToSubschema(*MakeConstConstraint(*v), to);
    }
    if (const Value* v = find("contains")) {
      if (Status s = Sub(*v, path("contains"), &sub); !s.ok()) return s;
      vc::ContainsConstraint c;
      c.setSubschema(sub);
      schema_->addConstraintToSubschema(c, to);
    }
    if (const Value* v = find("dependencies")) {
      if (!v->IsObject()) return Invalid(path("dependencies"), "must be an object");
      vc::DependenciesConstraint c;
      for (const auto& m : v->GetObject()) {
        const std::string name(Text(m.name));
        const std::string where = fmt::format("{}/{}", path("dependencies"), PointerToken(name));
        if (m.value.IsArray()) {
          std::vector<std::string> names;
          for (const Value& e : m.value.GetArray()) {
            if (!e.IsString()) return Invalid(where, "must list property names (strings)");
            names.emplace_back(Text(e));
          }
          c.addPropertyDependencies(name, names);
        } else {
          if (Status s = Sub(m.value, where, &sub); !s.ok()) return s;
          c.addSchemaDependency(name, sub);
        }
      }
      schema_->addConstraintToSubschema(c, to);
    }
    for (const char* k : {"description", "title"}) {
      if (const Value* v = find(k); v != nullptr && !v->IsString()) {
        return Invalid(path(k), "must be a string");
      }
    }
    if (find("divisibleBy") != nullptr) {
      return Invalid(path("divisibleBy"), "is draft 3's; drafts 4-7 have \"multipleOf\"");
    }
    if (const Value* v = find("enum")) {
      if (!v->IsArray()) return Invalid(path("enum"), "must be an array");
      schema_->addConstraintToSubschema(*MakeEnumConstraint(*v), to);
    }
    if (const Value* v = find("format")) {
      if (!v->IsString() || v->GetStringLength() == 0) {
        return Invalid(path("format"), "must be a non-empty string");
      }
      if (Constraint c = MakeFormatConstraint(Text(*v))) schema_->addConstraintToSubschema(*c, to);
    }
    if (const Value* v = find("items")) {
      if (Status s = Items(o, *v, at, to); !s.ok()) return s;
    }
    if (const Value* v = find("if")) {
      if (draft4_) return Invalid(path("if"), "is not a draft-04 keyword");
      vc::ConditionalConstraint c;
      if (Status s = Sub(*v, path("if"), &sub); !s.ok()) return s;
      c.setIfSubschema(sub);
      if (const Value* then = find("then")) {
        if (Status s = Sub(*then, path("then"), &sub); !s.ok()) return s;
        c.setThenSubschema(sub);
      }
      if (const Value* otherwise = find("else")) {
        if (Status s = Sub(*otherwise, path("else"), &sub); !s.ok()) return s;
        c.setElseSubschema(sub);
      }
      schema_->addConstraintToSubschema(c, to);
    }
    if (Status s = Bound(o, at, to, "maximum", "exclusiveMaximum", true); !s.ok()) return s;
    for (const char* k : {"maxItems", "maxLength", "maxProperties"}) {
      if (Status s = Count(o, at, to, k); !s.ok()) return s;
    }
    if (Status s = Bound(o, at, to, "minimum", "exclusiveMinimum", false); !s.ok()) return s;
    for (const char* k : {"minItems", "minLength", "minProperties"}) {
      if (Status s = Count(o, at, to, k); !s.ok()) return s;
    }
    if (const Value* v = find("multipleOf")) {
      // 0 would be a division by zero on every write.
      if (!v->IsNumber() || !(v->GetDouble() > 0)) {
        return Invalid(path("multipleOf"), "must be a number greater than 0");
      }
      schema_->addConstraintToSubschema(*MakeMultipleOfConstraint(*v), to);
    }
    if (const Value* v = find("not")) {
      if (Status s = Sub(*v, path("not"), &sub); !s.ok()) return s;
      vc::NotConstraint c;
      c.setSubschema(sub);
      schema_->addConstraintToSubschema(c, to);
    }
    if (const Value* v = find("oneOf")) {
      if (Status s = AddList<vc::OneOfConstraint>(*v, path("oneOf"), to); !s.ok()) return s;
    }
    if (const Value* v = find("pattern")) {
      if (!v->IsString()) return Invalid(path("pattern"), "must be a string");
      Regex regex;
      if (Status s = Compile(Text(*v), path("pattern"), &regex); !s.ok()) return s;
      schema_->addConstraintToSubschema(
          *MakePatternConstraint(std::move(regex), std::string(Text(*v))), to);
    }
    if (Status s = Properties(o, at, to); !s.ok()) return s;
    if (const Value* v = find("propertyNames")) {
      if (draft4_) return Invalid(path("propertyNames"), "is not a draft-04 keyword");
      if (Status s = Sub(*v, path("propertyNames"), &sub); !s.ok()) return s;
      vc::PropertyNamesConstraint c;
      c.setSubschema(sub);
      schema_->addConstraintToSubschema(c, to);
    }
    if (const Value* v = find("required")) {
      if (!v->IsArray()) return Invalid(path("required"), "must be an array of property names");
      vc::RequiredConstraint c;
      for (const Value& e : v->GetArray()) {
        if (!e.IsString()) return Invalid(path("required"), "must be an array of property names");
        c.addRequiredProperty(std::string(Text(e)));
      }
      schema_->addConstraintToSubschema(c, to);
    }
    if (const Value* v = find("type")) {
      if (Status s = Type(*v, path("type"), to); !s.ok()) return s;
    }
    if (const Value* v = find("uniqueItems")) {
      if (!v->IsBool()) return Invalid(path("uniqueItems"), "must be true or false");
      if (v->GetBool()) schema_->addConstraintToSubschema(*MakeUniqueItemsConstraint(), to);
    }
    return Status::OK();
  }

  // "items" (one schema, or one per position with "additionalItems").
  Status Items(const Value& o, const Value& items, const std::string& at, const Subschema* to) {
    const std::string where = at + "/items";
    const Subschema* sub = nullptr;
    if (!items.IsArray()) {
      if (Status s = Sub(items, where, &sub); !s.ok()) return s;
      vc::SingularItemsConstraint c;
      c.setItemsSubschema(sub);
      schema_->addConstraintToSubschema(c, to);
      return Status::OK();
    }
    vc::LinearItemsConstraint c;
    for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
      if (Status s = Sub(items[i], fmt::format("{}/{}", where, i), &sub); !s.ok()) return s;
      c.addItemSubschema(sub);
    }
    auto additional = o.FindMember("additionalItems");
    if (additional == o.MemberEnd()) {
      c.setAdditionalItemsSubschema(schema_->emptySubschema());
    } else if (Status s = Additional(additional->value, at + "/additionalItems", &sub); !s.ok()) {
      return s;
    } else if (sub != nullptr) {
      c.setAdditionalItemsSubschema(sub);
    }
    schema_->addConstraintToSubschema(c, to);
    return Status::OK();
  }

  // "properties", "patternProperties" and "additionalProperties".
  Status Properties(const Value& o, const std::string& at, const Subschema* to) {
    auto properties = o.FindMember("properties");
    auto patterns = o.FindMember("patternProperties");
    auto additional = o.FindMember("additionalProperties");
    const auto end = o.MemberEnd();
    if (properties == end && patterns == end && additional == end) return Status::OK();
    const Subschema* other = schema_->emptySubschema();
    if (additional != end) {
      if (Status s = Additional(additional->value, at + "/additionalProperties", &other); !s.ok()) {
        return s;
      }
    }
    std::vector<std::pair<std::string, const Subschema*>> named;
    if (properties != end) {
      if (!properties->value.IsObject()) return Invalid(at + "/properties", "must be an object");
      for (const auto& m : properties->value.GetObject()) {
        const Subschema* sub = nullptr;
        const std::string name(Text(m.name));
        if (Status s = Sub(m.value, fmt::format("{}/properties/{}", at, PointerToken(name)), &sub);
            !s.ok()) {
          return s;
        }
        named.emplace_back(name, sub);
      }
    }
    if (patterns == end) {
      // No regular expression: valijson's own constraint is safe.
      vc::PropertiesConstraint c;
      for (const auto& [name, sub] : named) c.addPropertySubschema(name, sub);
      if (other != nullptr) c.setAdditionalPropertiesSubschema(other);
      schema_->addConstraintToSubschema(c, to);
      return Status::OK();
    }
    if (!patterns->value.IsObject()) return Invalid(at + "/patternProperties", "must be an object");
    std::vector<PatternProperty> matched;
    for (const auto& m : patterns->value.GetObject()) {
      const std::string where =
          fmt::format("{}/patternProperties/{}", at, PointerToken(Text(m.name)));
      PatternProperty p{std::string(Text(m.name)), nullptr, nullptr};
      if (Status s = Compile(p.source, where, &p.regex); !s.ok()) return s;
      if (Status s = Sub(m.value, where, &p.schema); !s.ok()) return s;
      matched.push_back(std::move(p));
    }
    schema_->addConstraintToSubschema(
        *MakePatternPropertiesConstraint(std::move(named), std::move(matched), other), to);
    return Status::OK();
  }

  // additionalItems / additionalProperties: true or absent allows anything,
  // false nothing (*sub = nullptr), an object is a schema (both drafts).
  Status Additional(const Value& v, const std::string& where, const Subschema** sub) {
    if (v.IsBool()) {
      *sub = v.GetBool() ? schema_->emptySubschema() : nullptr;
      return Status::OK();
    }
    if (!v.IsObject()) return Invalid(where, "must be a schema or a boolean");
    return Sub(v, where, sub);
  }

  // maximum/exclusiveMaximum or minimum/exclusiveMinimum.
  Status Bound(const Value& o, const std::string& at, const Subschema* to, const char* bound,
               const char* exclusive, bool is_max) {
    auto b = o.FindMember(bound);
    auto x = o.FindMember(exclusive);
    auto add = [&](const Value& limit, bool is_exclusive) {
      schema_->addConstraintToSubschema(*MakeBoundConstraint(limit, is_max, is_exclusive), to);
    };
    if (!draft4_) {  // draft 6+: each is a number of its own
      if (x != o.MemberEnd()) {
        if (!x->value.IsNumber())
          return Invalid(fmt::format("{}/{}", at, exclusive), "must be a number");
        add(x->value, true);
      }
      if (b != o.MemberEnd()) {
        if (!b->value.IsNumber())
          return Invalid(fmt::format("{}/{}", at, bound), "must be a number");
        add(b->value, false);
      }
      return Status::OK();
    }
    if (b == o.MemberEnd()) {
      if (x != o.MemberEnd()) {
        return Invalid(fmt::format("{}/{}", at, exclusive),
                       fmt::format("needs \"{}\" beside it in draft 4", bound));
      }
      return Status::OK();
    }
    if (!b->value.IsNumber()) return Invalid(fmt::format("{}/{}", at, bound), "must be a number");
    if (x != o.MemberEnd() && !x->value.IsBool()) {
      return Invalid(fmt::format("{}/{}", at, exclusive), "must be true or false in draft 4");
    }
    add(b->value, x != o.MemberEnd() && x->value.GetBool());
    return Status::OK();
  }

  // maxItems, maxLength, maxProperties and their min: a count.
  Status Count(const Value& o, const std::string& at, const Subschema* to, const char* k) {
    auto it = o.FindMember(k);
    if (it == o.MemberEnd()) return Status::OK();
    const Value& v = it->value;
    uint64_t n = 0;
    if (v.IsUint64()) {
      n = v.GetUint64();
    } else if (v.IsDouble() && v.GetDouble() >= 0 && v.GetDouble() < 1.8e19 &&
               std::trunc(v.GetDouble()) == v.GetDouble()) {
      n = static_cast<uint64_t>(v.GetDouble());  // 5.0 is an integer too
    } else {
      return Invalid(fmt::format("{}/{}", at, k), "must be a non-negative integer");
    }
    const std::string_view key(k);
    if (key == "maxItems") {
      vc::MaxItemsConstraint c;
      c.setMaxItems(n);
      schema_->addConstraintToSubschema(c, to);
    } else if (key == "maxLength") {
      vc::MaxLengthConstraint c;
      c.setMaxLength(n);
      schema_->addConstraintToSubschema(c, to);
    } else if (key == "maxProperties") {
      vc::MaxPropertiesConstraint c;
      c.setMaxProperties(n);
      schema_->addConstraintToSubschema(c, to);
    } else if (key == "minItems") {
      vc::MinItemsConstraint c;
      c.setMinItems(n);
      schema_->addConstraintToSubschema(c, to);
    } else if (key == "minLength") {
      vc::MinLengthConstraint c;
      c.setMinLength(n);
      schema_->addConstraintToSubschema(c, to);
    } else {
      vc::MinPropertiesConstraint c;
      c.setMinProperties(n);
      schema_->addConstraintToSubschema(c, to);
    }
    return Status::OK();
  }

  Status Type(const Value& v, const std::string& where, const Subschema* to) {
    std::vector<JsonType> types;
    auto add = [&](const Value& name) -> Status {
      if (!name.IsString()) return Invalid(where, "must be a type name or an array of them");
      const std::string text(Text(name));
      if (text == "any" && draft4_) return Invalid(where, "\"any\" is not a draft-04 type");
      try {
        types.push_back(vc::TypeConstraint::jsonTypeFromString(text));
      } catch (const std::exception&) {
        return Invalid(where, fmt::format("\"{}\" is not a JSON Schema type", text));
      }
      return Status::OK();
    };
    if (v.IsArray()) {
      for (const Value& e : v.GetArray()) {
        if (Status s = add(e); !s.ok()) return s;
      }
    } else if (Status s = add(v); !s.ok()) {
      return s;
    }
    schema_->addConstraintToSubschema(*MakeTypeConstraint(std::move(types), draft4_), to);
    return Status::OK();
  }

  // allOf, anyOf or oneOf: an array of schemas.
  template <typename C>
  Status AddList(const Value& v, const std::string& where, const Subschema* to) {
    if (!v.IsArray()) return Invalid(where, "must be an array of schemas");
    C c;
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      const Subschema* sub = nullptr;
      if (Status s = Sub(v[i], fmt::format("{}/{}", where, i), &sub); !s.ok()) return s;
      c.addSubschema(sub);
    }
    schema_->addConstraintToSubschema(c, to);
    return Status::OK();
  }

  // The subschema built for `v`, which a keyword holds where a schema belongs.
  Status Sub(const Value& v, const std::string& where, const Subschema** out) {
    const int i = g_.Find(v);
    // A reachable keyword's schemas were all reached: the bounds check is
    // for a disagreement between walker and builder, refused, not followed.
    if (i < 0 || static_cast<size_t>(i) >= subs_.size() ||
        subs_[static_cast<size_t>(i)] == nullptr || (draft4_ && v.IsBool())) {
      return Invalid(where, draft4_ ? "must be a schema (an object, in draft 4)"
                                    : "must be a schema (an object, true or false)");
    }
    *out = subs_[static_cast<size_t>(i)];
    return Status::OK();
  }

  // One compile per distinct pattern text.
  Status Compile(std::string_view text, const std::string& where, Regex* out) {
    auto it = regexes_.find(std::string(text));
    if (it == regexes_.end()) {
      auto compiled = CompilePattern(text);
      if (!compiled) {
        return Invalid(where, fmt::format("is not a regular expression chronoconf can use: {}",
                                          compiled.status().message()));
      }
      it = regexes_.emplace(std::string(text), std::move(*compiled)).first;
    }
    *out = it->second;
    return Status::OK();
  }

  static Status Invalid(const std::string& where, std::string_view what) {
    return Status::InvalidRequest(fmt::format("{}: {}", RefText(where), what));
  }

  const SchemaGraph& g_;
  bool draft4_;
  valijson::Schema* schema_;
  std::vector<const Subschema*> subs_;  // per node, once reachable
  std::unordered_map<std::string, Regex> regexes_;
};

}  // namespace

Result<const Subschema*> BuildSchema(const SchemaGraph& graph, bool draft4,
                                     valijson::Schema* schema) {
  return SchemaBuilder(graph, draft4, schema).Build();
}

}  // namespace chronoconf::json
