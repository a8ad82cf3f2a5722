// libFuzzer harness for HTTP request handling without a socket: the bytes a
// client sends go through what a connection does with them (the header
// block check, Beast's parser, the framing rules, the target, the route
// table) and then Api::Handle on a memory store, writes included.
// Invariants: no crash or sanitizer report; every answer has a status from
// 200 to 599, and a JSON answer is valid JSON.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/command_service.h"
#include "http/api.h"
#include "http/framing.h"
#include "http/request_parsing.h"
#include "json/json_value.h"
#include "store/memory_event_store.h"

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using namespace chronoconf;

namespace {

struct Env {
  MemoryEventStore store;
  Projection projection;
  CommandService commands{&store, &projection};
  http::Metrics metrics;
  http::Api api{&projection, &commands, &metrics, http::ApiOptions{}};
  Env() { api.SetReady(true); }
};

net::awaitable<void> Serve(Env* env, http::Request* req, http::RouteMatch* match,
                           net::executor_work_guard<net::io_context::executor_type>* guard) {
  http::Response r = co_await env->api.Handle(*req, *match);
  if (r.status < 200 || r.status > 599) std::abort();
  if (r.content_type == "application/json" && r.status != 304 && !json::Parse(r.Body())) {
    std::abort();
  }
  guard->reset();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env* env = new Env;  // one store for the whole run, as one server
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A client may wait for a revision for minutes: not what this explores.
  if (text.find("min_revision") != std::string_view::npos) return 0;
  size_t end = text.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  if (!http::CheckHeaderBlock(text.substr(0, end + 2)).ok()) return 0;

  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(net::buffer(text.data(), text.size()), ec);
  if (ec || !parser.is_done()) return 0;
  if (!http::CheckFraming(parser.get().base()).ok()) return 0;

  auto& msg = parser.get();
  http::Request req;
  req.method = std::string(msg.method_string());
  if (!http::ParseTarget(msg.target(), &req).ok()) return 0;
  for (const auto& field : msg) {
    req.headers.emplace(http::Lower(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(msg.body());
  http::RouteMatch match = http::MatchRoute(req.method, req.path);
  if (match.route && match.route->id == http::RouteId::kWatch) return 0;  // a stream

  net::io_context ioc;
  auto guard = net::make_work_guard(ioc);
  net::co_spawn(ioc, Serve(env, &req, &match, &guard), net::detached);
  ioc.run();
  return 0;
}
