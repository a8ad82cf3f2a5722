// BrowserGuard: the checks that keep a web page from turning the user's own
// browser against a local chronoconf (SPEC §6, docs/SECURITY.md).
//
//   - DNS rebinding: a page on evil.example whose name is re-pointed at
//     127.0.0.1 is same-origin with it in the browser's eyes, but its
//     requests still say `Host: evil.example`. With auth off, a Host that is
//     not the listen address, localhost or a loopback address is refused;
//     a single-label name ("myhost") is also served: an attacker on the web
//     cannot point one at this machine (it needs a name in public DNS).
//   - Cross-site writes: a POST with a "simple" body (no preflight) from any
//     page reaches a loopback server. A write whose Origin is not this
//     server, or whose Sec-Fetch-Site is neither same-origin nor none (typed
//     or scripted by the user), is refused: the console is same-origin, and
//     the CLI and curl send neither header.
//
// Thread safety: immutable after construction.
#ifndef CHRONOCONF_HTTP_BROWSER_GUARD_H_
#define CHRONOCONF_HTTP_BROWSER_GUARD_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/http_types.h"

namespace chronoconf::http {

class BrowserGuard {
 public:
  // `listen_hosts`: the names and addresses --listen was given as and
  // resolved to. Listening on an unspecified address (0.0.0.0, ::), which
  // needs --insecure without auth, any IP literal is also taken: a rebinding
  // needs a host name.
  explicit BrowserGuard(std::vector<std::string> listen_hosts = {"127.0.0.1"});

  // kForbidden unless the Host header names this server. Call with auth
  // off only (a token is what protects a server with auth on).
  Status CheckHost(const Request& req) const;
  // kForbidden for a write a browser sent on behalf of another site.
  static Status CheckSameOrigin(const Request& req);

 private:
  std::vector<std::string> listen_hosts_;  // lower-case
  bool any_ip_literal_ = false;
};

// The host of a Host header value or an origin's authority, lower-cased,
// without the port and without the brackets of an IPv6 literal.
std::string HostOnly(std::string_view authority);

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_BROWSER_GUARD_H_
