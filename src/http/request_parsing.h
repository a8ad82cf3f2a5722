// Small helpers that turn HTTP inputs into typed values or a 400.
#ifndef CHRONOCONF_HTTP_REQUEST_PARSING_H_
#define CHRONOCONF_HTTP_REQUEST_PARSING_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/http_types.h"
#include "json/json_value.h"

namespace chronoconf::http {

// Decodes %XX (and '+' as a space when `plus_is_space`). Errors: kInvalidRequest.
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space);

// Splits "/path?a=1&b=2" into `req->path` and `req->query`.
Status ParseTarget(std::string_view target, Request* req);

// A non-negative integer written in decimal, nothing else ("7", not "+7" or
// "7x"). Errors: kInvalidRequest naming `what`.
Result<int64_t> ParseCount(std::string_view text, std::string_view what);

// An integer query parameter in [min, max]; nullopt when absent.
// Errors: kInvalidRequest naming the parameter.
Result<std::optional<int64_t>> IntParam(const Request& req, const std::string& name, int64_t min,
                                        int64_t max);

// A time query parameter (RFC 3339) as Unix microseconds; nullopt when absent.
Result<std::optional<int64_t>> TimeParam(const Request& req, const std::string& name);

// The request body as one JSON object, with nodes down to `value_level`:
// the level of the values it carries (PUT {"value":…}: 1, import
// {"values":{"k":…}}: 2, txn {"ops":[{"value":…}]}: 3), which are checked
// but get no nodes inside. Errors: kInvalidJson, kInvalidRequest (not an
// object).
Result<json::Value> JsonObjectBody(const Request& req, size_t value_level);

// Every member of the object `obj` is one of `allowed`, and none is given
// twice: a typo such as "expected_verison" must never write unconditionally.
// `where` names the object in the error. Errors: kInvalidRequest.
Status CheckMembers(const json::Value& obj, std::initializer_list<std::string_view> allowed,
                    std::string_view where);

// A value to be stored: its minified text, or kTooLarge over `max_bytes`,
// kInvalidRequest nested deeper than json::kMaxValueDepth. `what` names it.
Result<std::string> StorableValue(const json::Value& value, size_t max_bytes,
                                  std::string_view what);

// An optional string member; errors when present with another type.
Result<std::optional<std::string>> OptionalStringMember(const json::Value& obj,
                                                        std::string_view name);
// An optional non-negative integer member.
Result<std::optional<int64_t>> OptionalVersionMember(const json::Value& obj,
                                                     std::string_view name);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_REQUEST_PARSING_H_
