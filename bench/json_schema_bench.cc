// Validating one value against a typical schema (SPEC §8: an object with ten
// typed members), as every write under a schema's prefix does inside the
// committer: CompiledSchema::Validate for a valid value and for one that
// breaks two rules. Run: build-release/bench/json_schema_bench
#include <benchmark/benchmark.h>

#include "json/json_schema.h"

namespace chronoconf::json {
namespace {

constexpr const char* kSchema =
    R"({"type":"object","additionalProperties":false,"required":["service","feature","enabled","rollout","owner"],)"
    R"("properties":{"service":{"type":"string","maxLength":64},"feature":{"type":"string","pattern":"^[a-z-]+$"},)"
    R"("enabled":{"type":"boolean"},"rollout":{"type":"integer","minimum":0,"maximum":100},"owner":{"type":"string"},)"
    R"("region":{"type":"string"},"tier":{"enum":["free","pro"]},"limit":{"type":"number"},)"
    R"("tags":{"type":"array","items":{"type":"string"}},"note":{"type":["string","null"]}}})";
constexpr const char* kValid =
    R"({"service":"checkout","feature":"new-pricing","enabled":true,"rollout":25,"owner":"team-payments"})";
constexpr const char* kInvalid =
    R"({"service":"checkout","feature":"New Pricing","enabled":true,"rollout":250,"owner":"team-payments"})";

void BM_ValidateTypical(benchmark::State& state, const char* value) {
  auto schema = CompiledSchema::Compile(kSchema);
  if (!schema) {
    state.SkipWithError(schema.status().message().c_str());
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize((*schema)->Validate(value));
}
BENCHMARK_CAPTURE(BM_ValidateTypical, valid, kValid);
BENCHMARK_CAPTURE(BM_ValidateTypical, two_failures, kInvalid);

}  // namespace
}  // namespace chronoconf::json

BENCHMARK_MAIN();
