// Builds the validator of a walked schema (schema_walk.h): one valijson
// Subschema per schema the root reaches, each with its keywords as
// valijson's constraints, or chronoconf's own where valijson's are unsafe
// (schema_keywords.h).
//
// valijson's SchemaParser is not used. It follows each $ref by recursion (a
// chain of 5,000 $refs overflows the stack while the schema is set) and
// caches subschemas under path strings that two different schemas can share
// (one is then applied in place of the other, which can close a cycle the
// document does not have). Here each schema is built once, from its node,
// by iteration.
//
// Thread safety: none needed; a build fills one valijson::Schema.
#ifndef CHRONOCONF_JSON_SCHEMA_BUILD_H_
#define CHRONOCONF_JSON_SCHEMA_BUILD_H_

#include "common/result.h"
#include "json/schema_walk.h"

namespace valijson {
class Schema;
class Subschema;
}  // namespace valijson

namespace chronoconf::json {

// Adds the constraints of every schema `graph` reaches to `schema` (which
// owns them) and returns the root's subschema. `draft4` reads draft 4's
// rules (exclusiveMaximum as a boolean, no boolean schemas, no if/then/else
// or propertyNames); otherwise draft 7's. Errors: kInvalidRequest naming
// the keyword that is wrong and where ("#/properties/a/maxLength: ...").
Result<const valijson::Subschema*> BuildSchema(const SchemaGraph& graph, bool draft4,
                                               valijson::Schema* schema);

}  // namespace chronoconf::json

#endif  // CHRONOCONF_JSON_SCHEMA_BUILD_H_
