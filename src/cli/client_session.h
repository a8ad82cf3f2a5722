// ClientSession: what every client command shares. It resolves the server
// URL (--server, else $CHRONOCONF_SERVER, else http://127.0.0.1:7700), adds
// the token from $CHRONOCONF_TOKEN (Authorization: Bearer) and --actor
// (X-Actor) to each request, and turns transport failures and HTTP errors into
// an `error: <code>: <message>` line on stderr plus the exit code of SPEC §4.
//
// Thread safety: none; a command runs on one thread.
#ifndef CHRONOCONF_CLI_CLIENT_SESSION_H_
#define CHRONOCONF_CLI_CLIENT_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "client/http_client.h"
#include "json/json_value.h"

namespace chronoconf::cli {

// Exit codes (SPEC §4).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;     // unreachable server, other 4xx/5xx
inline constexpr int kExitUsage = 2;     // bad arguments, invalid JSON given locally
inline constexpr int kExitNotFound = 3;  // 404
inline constexpr int kExitConflict = 4;  // 409

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:7700";

// The options every client command takes.
struct GlobalOptions {
  std::string server;  // "" = $CHRONOCONF_SERVER or kDefaultServer
  bool json = false;   // print the server's JSON as is
  std::string actor;   // sent as X-Actor when not empty
  bool dry_run = false;  // write commands: send ?dry_run=true, print the would-be commit
};

// The exit code for a non-2xx HTTP status: 3 for 404, 4 for 409, else 1.
int ExitCodeForHttpStatus(int status);

// The code and message of an error response. A body of the SPEC shape
// {"error":{"code","message"}} gives those; anything else gives
// "http_<status>" and the start of the body.
struct ErrorInfo {
  std::string code;
  std::string message;
};
ErrorInfo ErrorFromResponse(int status, std::string_view body);

// Writes "error: <code>: <message>" to stderr ("error:" red on a terminal),
// or with JSON errors on, {"error":{"code":…,"message":…}} (one line).
void ReportError(std::string_view code, std::string_view message);

// After ReportError: one line per schema failure of an error body (422
// schema_violation, 409 schema_conflict), "  key: pointer: rule: message
// (schema of prefix)", to stderr. Nothing for any other body.
void ReportFailures(std::string_view body);

// After ReportError: a "hint: …" line on stderr saying what to do instead,
// for the error codes that have one (review_required: propose a change).
void ReportHint(std::string_view code);

// Makes ReportError write JSON (--json). Set once, before a command runs.
void SetJsonErrors(bool on);
bool JsonErrors();

// The base URL to use: `flag` when not empty, else $CHRONOCONF_SERVER when
// set and not empty, else kDefaultServer.
std::string ResolveServer(std::string_view flag);

// "" when `url` is something HttpClient can talk to ("http://host[:port]"
// or "host:port", an optional trailing '/'), else why not. The host must
// look like a host name or an IP address, so that a typo is named at once
// instead of being looked up in DNS.
std::string CheckServerUrl(std::string_view url);

// Builds a query string: "" or "?a=1&b=x%2Fy". Values are URL-encoded.
class Query {
 public:
  Query& Add(std::string_view name, std::string_view value);
  Query& Add(std::string_view name, int64_t value);
  std::string str() const { return text_; }

 private:
  std::string text_;
};

// "/v1/kv/<key>" with the key URL-encoded, its '/' kept.
std::string KeyPath(std::string_view key);

class ClientSession {
 public:
  explicit ClientSession(const GlobalOptions& options);
  ~ClientSession();

  // Checks the server URL. Returns kExitOk, or reports and returns kExitUsage.
  int Validate() const;

  // Sends one request with the session's headers plus `extra`. On a 2xx
  // answer stores it in *out and returns kExitOk; otherwise reports the error
  // and returns its exit code (kExitError when the server cannot be reached).
  int Call(std::string_view method, const std::string& target, std::string_view body,
           client::HttpResponse* out, const client::Headers& extra = {});

  // Parses a 2xx body. Returns kExitOk, or reports invalid_response and
  // returns kExitError.
  int ParseBody(const client::HttpResponse& res, json::Value* out) const;

  // Writes `text` to stdout (no newline added).
  void Print(std::string_view text) const;
  // Writes `body` to stdout, adding a final newline when it has none.
  void PrintBody(std::string_view body) const;

  // The headers every request carries (Authorization, X-Actor).
  client::Headers BaseHeaders() const;

  client::HttpClient& http() { return *http_; }
  const std::string& server() const { return server_; }
  bool json() const { return options_.json; }
  bool dry_run() const { return options_.dry_run; }
  // Whether stdout gets colour (a terminal, NO_COLOR unset).
  bool colour() const { return colour_; }
  // Whether stdout is a terminal (long table cells are cut there).
  bool terminal() const { return terminal_; }

 private:
  GlobalOptions options_;
  std::string server_;
  std::string token_;
  bool colour_ = false;
  bool terminal_ = false;
  std::unique_ptr<client::HttpClient> http_;
};

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_CLIENT_SESSION_H_
