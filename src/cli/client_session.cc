#include "cli/client_session.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/output_format.h"
#include "json/json_writer.h"

namespace chronoconf::cli {

int ExitCodeForHttpStatus(int status) {
  if (status == 404) return kExitNotFound;
  if (status == 409) return kExitConflict;
  return kExitError;
}

ErrorInfo ErrorFromResponse(int status, std::string_view body) {
  if (auto parsed = json::Parse(body)) {
    if (const json::Value* error = parsed->Find("error"); error != nullptr && error->is_object()) {
      ErrorInfo info;
      const json::Value* code = error->Find("code");
      const json::Value* message = error->Find("message");
      info.code =
          code != nullptr && code->is_string() ? code->str() : fmt::format("http_{}", status);
      info.message = message != nullptr && message->is_string() ? message->str() : "";
      if (info.message.empty()) info.message = fmt::format("HTTP status {}", status);
      return info;
    }
  }
  std::string_view first_line = body.substr(0, body.find('\n'));
  if (first_line.size() > 200) first_line = first_line.substr(0, 200);
  return {fmt::format("http_{}", status),
          first_line.empty() ? fmt::format("HTTP status {}", status) : SanitizeCell(first_line)};
}

namespace {
// Written before any command runs, read by that one thread (CLI).
bool g_json_errors = false;
}  // namespace

void SetJsonErrors(bool on) { g_json_errors = on; }
bool JsonErrors() { return g_json_errors; }

void ReportError(std::string_view code, std::string_view message) {
  if (g_json_errors) {
    json::Writer w;
    w.BeginObject().Key("error").BeginObject();
    w.Field("code", code).Field("message", message).EndObject().EndObject();
    std::string line = w.Take();
    line += '\n';
    std::fflush(stdout);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
    return;
  }
  bool colour = ColourEnabled(STDERR_FILENO);
  std::string line = fmt::format("{} {}: {}\n", Paint("error:", Colour::kRed, colour),
                                 SanitizeCell(code), SanitizeCell(message));
  std::fflush(stdout);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void ReportFailures(std::string_view body) {
  auto parsed = json::Parse(body);
  if (!parsed) return;
  const json::Value* error = parsed->Find("error");
  const json::Value* failures = error != nullptr ? error->Find("failures") : nullptr;
  if (failures == nullptr || !failures->is_array()) return;
  auto text = [](const json::Value& f, std::string_view name) {
    const json::Value* v = f.Find(name);
    return v != nullptr && v->is_string() ? SanitizeCell(v->str()) : std::string();
  };
  std::string lines;
  for (const json::Value& f : failures->items()) {
    const std::string pointer = text(f, "pointer");
    lines += fmt::format("  {}: {}: {}: {} (schema of {})\n", text(f, "key"),
                         pointer.empty() ? "(the value)" : pointer, text(f, "rule"),
                         text(f, "message"), text(f, "prefix"));
  }
  std::fwrite(lines.data(), 1, lines.size(), stderr);
  std::fflush(stderr);
}

void ReportHint(std::string_view code) {
  if (code != "review_required") return;
  // The refusal names the prefix; say what to do instead.
  static constexpr std::string_view kHint =
      "hint: writes under this prefix are reviewed: propose it with `chronoconf change propose "
      "KEY=JSON... --reason R`, and another token approves it (`chronoconf change approve ID`)\n";
  std::fwrite(kHint.data(), 1, kHint.size(), stderr);
  std::fflush(stderr);
}

std::string ResolveServer(std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  const char* env = std::getenv("CHRONOCONF_SERVER");
  if (env != nullptr && *env != '\0') return env;
  return std::string(kDefaultServer);
}

std::string CheckServerUrl(std::string_view url) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    return "https is not supported by this client; put it behind a local proxy or use http://";
  }
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return "the URL must start with http://";
  }
  const bool has_scheme = rest.size() != url.size();
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return "the URL names no host";
  if (rest.find('/') != std::string_view::npos) {
    return "the URL must be http://host:port, without a path";
  }
  std::string_view host = rest, port;
  const bool bracketed = rest.front() == '[';
  if (bracketed) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return "an IPv6 address must end with ']'";
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty() && after.front() != ':') return "expected ':port' after the IPv6 address";
    if (!after.empty()) port = after.substr(1);
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != host.npos) {
      return "the IPv6 address is not valid";
    }
  } else if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return "the port is missing after ':'";
  }
  if (host.empty()) return "the URL names no host";
  for (char c : bracketed ? std::string_view() : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return "the host may hold only letters, digits, '-', '.' and '_'";
  }
  if (!port.empty() || rest.find(':') != std::string_view::npos) {
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
        std::stoi(std::string(port)) > 65535 || std::stoi(std::string(port)) == 0) {
      return "the port must be a number from 1 to 65535";
    }
  } else if (!has_scheme) {
    // "nonsense" or "localhost": a bare word is more likely a mistake than
    // a host on port 80.
    return "give http://host:port (like http://127.0.0.1:7700)";
  }
  return "";
}

Query& Query::Add(std::string_view name, std::string_view value) {
  text_.push_back(text_.empty() ? '?' : '&');
  text_ += client::UrlEncode(name);
  text_.push_back('=');
  text_ += client::UrlEncode(value);
  return *this;
}

Query& Query::Add(std::string_view name, int64_t value) {
  return Add(name, std::string_view(std::to_string(value)));
}

std::string KeyPath(std::string_view key) {
  return "/v1/kv/" + client::UrlEncode(key, /*keep_slash=*/true);
}

ClientSession::ClientSession(const GlobalOptions& options)
    : options_(options), server_(ResolveServer(options.server)) {
  if (const char* token = std::getenv("CHRONOCONF_TOKEN"); token != nullptr) token_ = token;
  colour_ = ColourEnabled(STDOUT_FILENO);
  terminal_ = isatty(STDOUT_FILENO) == 1;
  http_ = std::make_unique<client::HttpClient>(server_);
}

ClientSession::~ClientSession() = default;

int ClientSession::Validate() const {
  if (std::string why = CheckServerUrl(server_); !why.empty()) {
    ReportError("usage", fmt::format("invalid server URL '{}': {}", server_, why));
    return kExitUsage;
  }
  return kExitOk;
}

client::Headers ClientSession::BaseHeaders() const {
  client::Headers headers;
  if (!token_.empty()) headers["Authorization"] = "Bearer " + token_;
  if (!options_.actor.empty()) headers["X-Actor"] = options_.actor;
  return headers;
}

int ClientSession::Call(std::string_view method, const std::string& target, std::string_view body,
                        client::HttpResponse* out, const client::Headers& extra) {
  client::Headers headers = BaseHeaders();
  for (const auto& [name, value] : extra) headers[name] = value;
  auto res = http_->Request(method, target, body, headers);
  if (!res) {
    ReportError("unreachable", res.status().message());
    return kExitError;
  }
  if (res->status < 200 || res->status > 299) {
    ErrorInfo info = ErrorFromResponse(res->status, res->body);
    if (g_json_errors) {
      // The server's own error document, details included, when it is one.
      auto parsed = json::Parse(res->body);
      if (parsed && parsed->is_object() && parsed->Find("error") != nullptr) {
        std::fflush(stdout);
        std::string line = res->body;
        if (line.empty() || line.back() != '\n') line += '\n';
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
        return ExitCodeForHttpStatus(res->status);
      }
    }
    ReportError(info.code, info.message);
    ReportFailures(res->body);
    ReportHint(info.code);
    return ExitCodeForHttpStatus(res->status);
  }
  *out = std::move(*res);
  return kExitOk;
}

int ClientSession::ParseBody(const client::HttpResponse& res, json::Value* out) const {
  auto parsed = json::Parse(res.body);
  if (!parsed) {
    ReportError("invalid_response",
                fmt::format("the server's answer is not JSON: {}", parsed.status().message()));
    return kExitError;
  }
  *out = std::move(*parsed);
  return kExitOk;
}

void ClientSession::Print(std::string_view text) const {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void ClientSession::PrintBody(std::string_view body) const {
  Print(body);
  if (!body.empty() && body.back() != '\n') Print("\n");
}

}  // namespace chronoconf::cli
