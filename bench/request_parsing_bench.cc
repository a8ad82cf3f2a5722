// Turning a PUT's bytes into a command, without the socket: the target split
// and percent-decoded, the body parsed as JSON (json::Parse, which keeps the
// source spans), its members checked and the value minified, as
// Api::PutKey does. Run: build-release/bench/request_parsing_bench
#include <benchmark/benchmark.h>

#include <string>

#include "domain/key.h"
#include "http/request_parsing.h"
#include "json/json_value.h"

namespace chronoconf {
namespace {

// The PUT body of bench/lua/cc-put.lua: a 99-byte config-like object.
const std::string kPutBody =
    R"({"value":{"service":"checkout","feature":"new-pricing","enabled":true,"rollout":25,"owner":"team-payments"}})";
// The same with whitespace and a reason, as a person would send it.
const std::string kPrettyBody = R"({
  "value": {
    "service": "checkout", "feature": "new-pricing", "enabled": true,
    "rollout": 25, "limits": [1, 2.50, 12345678901234567890], "owner": "team-payments"
  },
  "expected_version": 7,
  "reason": "raise the rollout for the holiday peak"
})";

void BM_ParseTarget(benchmark::State& state) {
  const std::string target = "/v1/kv/config/checkout/new-pricing%2Fv2?at_revision=12345";
  for (auto _ : state) {
    http::Request req;
    Status s = http::ParseTarget(target, &req);
    benchmark::DoNotOptimize(req.path.data());
    if (!s.ok()) state.SkipWithError("ParseTarget failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseTarget);

void BM_ValidateKey(benchmark::State& state) {
  const std::string key = "config/checkout/new-pricing/v2";
  for (auto _ : state) {
    Status s = ValidateKey(key);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateKey);

void BM_JsonParse(benchmark::State& state, const std::string& body) {
  for (auto _ : state) {
    auto v = json::Parse(body);
    benchmark::DoNotOptimize(v);
    if (!v) state.SkipWithError("parse failed");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK_CAPTURE(BM_JsonParse, put_body, kPutBody);
BENCHMARK_CAPTURE(BM_JsonParse, pretty_body, kPrettyBody);

// The same with nodes for the envelope only (build depth 1): what a PUT
// body gets, its value kept as text.
void BM_JsonParseEnvelope(benchmark::State& state, const std::string& body) {
  for (auto _ : state) {
    auto v = json::Parse(body, json::kMaxReadDepth, 1);
    benchmark::DoNotOptimize(v);
    if (!v) state.SkipWithError("parse failed");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK_CAPTURE(BM_JsonParseEnvelope, put_body, kPutBody);
BENCHMARK_CAPTURE(BM_JsonParseEnvelope, pretty_body, kPrettyBody);

// Everything PutKey does with the body before it builds the command.
void BM_PutBody(benchmark::State& state, const std::string& body) {
  http::Request req;
  req.method = "PUT";
  req.body = body;
  for (auto _ : state) {
    auto obj = http::JsonObjectBody(req, 1);  // nodes for the envelope only, as PutKey
    if (!obj) {
      state.SkipWithError("not an object");
      break;
    }
    Status members = http::CheckMembers(*obj, {"value", "expected_version", "reason"}, "the body");
    auto text = http::StorableValue(*obj->Find("value"), 256 * 1024, "the value");
    auto expected = http::OptionalVersionMember(*obj, "expected_version");
    auto reason = http::OptionalStringMember(*obj, "reason");
    if (!members.ok() || !text || !expected || !reason) state.SkipWithError("rejected");
    benchmark::DoNotOptimize(text);
    benchmark::DoNotOptimize(reason);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK_CAPTURE(BM_PutBody, put_body, kPutBody);
BENCHMARK_CAPTURE(BM_PutBody, pretty_body, kPrettyBody);

void BM_Minify(benchmark::State& state) {
  for (auto _ : state) {
    std::string m = json::Minify(kPrettyBody);
    benchmark::DoNotOptimize(m.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPrettyBody.size()));
}
BENCHMARK(BM_Minify);

}  // namespace
}  // namespace chronoconf

BENCHMARK_MAIN();
