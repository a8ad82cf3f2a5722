// Helpers for the black-box HTTP tests (tests/integration/http_*_test.cc):
// a JSON-aware wrapper around client::HttpClient (Api), a test fixture that
// shares one server per suite (ServerTest), a raw-text JSON reader that keeps
// number text and member order as the server sent them (RawAt), the commit
// hash of SPEC §1.1 (CommitBytes, Sha256Hex), a Server-Sent Events reader
// (WatchStream), time and Prometheus-text helpers.
//
// Thread safety: none, except that distinct Api objects may be used from
// distinct threads.
#ifndef CHRONOCONF_TESTS_SUPPORT_HTTP_TEST_UTIL_H_
#define CHRONOCONF_TESTS_SUPPORT_HTTP_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "client/http_client.h"
#include "support/test_server.h"

namespace chronoconf::test {

using json = nlohmann::json;
using client::Headers;

// ---------------------------------------------------------------- HTTP

struct ApiResponse {
  int status = 0;  // 0 when the request failed on the wire (see body)
  std::string body;
  std::map<std::string, std::string> headers;  // names in lowercase
  nlohmann::json json;  // the parsed body; is_discarded() when the body is not JSON

  std::string Header(const std::string& lowercase_name) const;
  // error.code of an error body, "" otherwise.
  std::string ErrorCode() const;
  // X-Chronoconf-Revision as a number, -1 when absent or not a number.
  int64_t RevisionHeader() const;
};

// "<status> <body (first 2000 bytes)>", for assertion messages.
std::ostream& operator<<(std::ostream& os, const ApiResponse& r);

class Api {
 public:
  explicit Api(std::string base_url,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

  ApiResponse Request(std::string_view method, std::string_view target,
                      std::string_view body = {}, const Headers& headers = {});
  ApiResponse Get(std::string_view target, const Headers& headers = {}) {
    return Request("GET", target, {}, headers);
  }
  ApiResponse Put(std::string_view target, std::string_view body, const Headers& headers = {}) {
    return Request("PUT", target, body, headers);
  }
  ApiResponse Post(std::string_view target, std::string_view body, const Headers& headers = {}) {
    return Request("POST", target, body, headers);
  }
  ApiResponse Delete(std::string_view target, const Headers& headers = {}) {
    return Request("DELETE", target, {}, headers);
  }

  // PUT /v1/kv/<key> with body {"value":<value_text>}.
  ApiResponse Set(const std::string& key, std::string_view value_text,
                  const Headers& headers = {});
  // GET /v1/kv/<key>[?query]
  ApiResponse GetKey(const std::string& key, std::string_view query = {});
  // The head revision (GET /v1/status); -1 on failure.
  int64_t Head();
  // Pages through GET /v1/events from `from_revision` (exclusive) to the end;
  // `query` adds filters ("prefix=a%2F&actor=x"), `limit` the page size.
  std::vector<json> Events(int64_t from_revision, std::string_view query = {},
                           int limit = 1000);

  const std::string& base_url() const { return http_.base_url(); }

 private:
  client::HttpClient http_;
};

// Percent-encodes a query value.
std::string Q(std::string_view s);

// ---------------------------------------------------------------- fixture

// One server per test suite, started in SetUpTestSuite. A suite picks its
// store and flags by hiding SetUpTestSuite:
//
//   class HttpFooTest : public ServerTest {
//    public:
//     static void SetUpTestSuite() { StartSharedServer("sqlite", {"--max-value-bytes", "64"}); }
//   };
//
// Each test gets its own key prefix (K("a") == "<Suite>__<Test>/a"), so tests
// of one suite do not see each other's keys.
class ServerTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() { StartSharedServer("memory:"); }
  static void TearDownTestSuite() { StopSharedServer(); }

 protected:
  // `store` is a --store URL, or "sqlite" for a store in a fresh temp dir.
  static void StartSharedServer(const std::string& store, std::vector<std::string> args = {});
  static void StopSharedServer();
  static ServerProcess* server() { return server_.get(); }

  void SetUp() override;

  Api& api() { return *api_; }
  const std::string& prefix() const { return prefix_; }
  std::string K(std::string_view name) const { return prefix_ + std::string(name); }
  int64_t Head() { return api_->Head(); }

 private:
  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<ServerProcess> server_;
  static std::string start_error_;
  std::unique_ptr<Api> api_;
  std::string prefix_;
};

// ---------------------------------------------------------------- raw JSON

// The exact text of the value at `path` inside the JSON text `text`, as the
// server sent it (number text, escapes and member order untouched).
// `path` is dot-separated; a number indexes an array: "entry.value",
// "events.2.previous_value". "" is the whole document. std::nullopt when the
// path does not exist or the text is not JSON.
std::optional<std::string> RawAt(std::string_view text, std::string_view path);
// The text of member `name` of the object `object_text`.
std::optional<std::string> RawMember(std::string_view object_text, std::string_view name);
// The member names of an object, in the order sent.
std::vector<std::string> RawMemberNames(std::string_view object_text);
// The elements' texts of the array `array_text`.
std::vector<std::string> RawElements(std::string_view array_text);

// ---------------------------------------------------------------- hashes

std::string Sha256Hex(std::string_view data);
bool IsLowerHex64(const std::string& s);
// JSON string escaping as SPEC §1.1 defines it, with the quotes.
std::string JsonQuoteMinimal(std::string_view s);
// The commit_bytes of SPEC §1.1 for the commit in a GET /v1/revisions/R body.
std::string CommitBytes(const std::string& revision_body);
// SHA-256(prev_hash bytes || commit_bytes) in lowercase hex.
std::string ChainHash(const std::string& prev_hash_hex, std::string_view commit_bytes);

// ---------------------------------------------------------------- time

// RFC 3339, UTC, exactly six fractional digits, 'Z'.
bool IsTimestamp(const std::string& s);
// Microseconds since the epoch of such a timestamp (-1 when malformed).
int64_t TimeMicros(const std::string& s);
std::string FormatMicros(int64_t micros);

// ---------------------------------------------------------------- metrics

struct MetricSample {
  std::string name;
  std::string labels;  // the text between { and }, "" when none
  double value = 0;
};
std::vector<MetricSample> ParseMetrics(const std::string& text);

// ---------------------------------------------------------------- watch

struct SseEvent {
  std::string event;              // "event:" field
  std::string data;               // "data:" lines joined by '\n'
  std::optional<std::string> id;  // "id:" field when sent
  nlohmann::json json;                      // data parsed (discarded when not JSON)
};

// A GET /v1/watch stream read from a raw socket, so that the test decides
// when to read and can close it at any time. Reading happens inside the
// Wait* calls.
class WatchStream {
 public:
  // Sends the request and reads the response head. False on failure.
  bool Open(int port, const std::string& target, const Headers& headers = {},
            std::chrono::milliseconds timeout = std::chrono::seconds(5));
  int status() const { return status_; }
  std::string Header(const std::string& lowercase_name) const;

  // Reads until at least `n` events have arrived in total, the stream ends
  // or `timeout` passes. True when there are at least `n`.
  bool WaitForEvents(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  const std::vector<SseEvent>& events() const { return events_; }
  std::vector<SseEvent>& events() { return events_; }
  // Number of comment lines (": keepalive") seen.
  int comments() const { return comments_; }
  bool closed() const { return closed_; }
  void Close() { conn_.Close(); }

 private:
  bool ReadMore(std::chrono::milliseconds timeout);
  void FeedBody(std::string_view bytes);
  void FeedSse(std::string_view bytes);

  RawConnection conn_;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  bool chunked_ = false;
  bool closed_ = false;
  std::string raw_;        // bytes not yet decoded (head, chunk framing)
  int chunk_state_ = 0;    // 0 size line, 1 data, 2 CRLF after data, 3 done
  size_t chunk_left_ = 0;  // bytes left in the current chunk
  std::string sse_;      // decoded body not yet parsed into lines
  SseEvent pending_;
  bool pending_has_data_ = false;
  std::vector<SseEvent> events_;
  int comments_ = 0;
};

}  // namespace chronoconf::test

#endif  // CHRONOCONF_TESTS_SUPPORT_HTTP_TEST_UTIL_H_
