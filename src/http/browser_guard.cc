#include "http/browser_guard.h"

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>

#include "http/framing.h"

namespace chronoconf::http {

namespace {

// The authority's port, or "" when it has none.
std::string_view PortOf(std::string_view authority) {
  if (authority.starts_with('[')) {  // [::1]:7700
    size_t end = authority.find(']');
    if (end == std::string_view::npos || end + 1 >= authority.size() || authority[end + 1] != ':') {
      return {};
    }
    return authority.substr(end + 2);
  }
  size_t colon = authority.find(':');
  if (colon == std::string_view::npos || authority.find(':', colon + 1) != std::string_view::npos) {
    return {};  // no port, or a bare IPv6 literal
  }
  return authority.substr(colon + 1);
}

bool IsLoopbackLiteral(const std::string& host, bool* is_literal) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  *is_literal = !ec;
  return !ec && address.is_loopback();
}

Status Refuse(std::string message) { return Status(Code::kForbidden, std::move(message)); }

}  // namespace

std::string HostOnly(std::string_view authority) {
  std::string_view host = authority;
  if (host.starts_with('[')) {
    size_t end = host.find(']');
    host = host.substr(1, end == std::string_view::npos ? host.size() - 1 : end - 1);
  } else if (host.find(':') == host.rfind(':')) {  // not a bare IPv6 literal
    host = host.substr(0, host.find(':'));
  }
  std::string out = Lower(host);
  if (out.ends_with('.')) out.pop_back();  // "localhost." is localhost
  return out;
}

BrowserGuard::BrowserGuard(std::vector<std::string> listen_hosts) {
  for (const std::string& h : listen_hosts) {
    std::string host = HostOnly(h);
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(host, ec);
    if (!ec && address.is_unspecified()) any_ip_literal_ = true;
    listen_hosts_.push_back(std::move(host));
  }
}

Status BrowserGuard::CheckHost(const Request& req) const {
  const std::string* header = req.Header("host");
  if (!header) return Status::OK();  // HTTP/1.0 without Host: no browser sends that
  const std::string host = HostOnly(*header);
  bool literal = false;
  if (host == "localhost" || host.ends_with(".localhost") || IsLoopbackLiteral(host, &literal)) {
    return Status::OK();
  }
  if (literal && any_ip_literal_) return Status::OK();
  // A rebinding needs a name the attacker can point at this machine: one in
  // public DNS, which has a dot. A single-label name ("x", "myhost") comes
  // from the hosts file or the search domain, which a web page cannot set.
  if (!literal && !host.empty() && host.find('.') == std::string::npos) return Status::OK();
  for (const std::string& h : listen_hosts_) {
    if (host == h) return Status::OK();
  }
  return Refuse(fmt::format(
      "the Host '{}' is not this server's address: with auth off only localhost, a loopback "
      "address or the --listen address are served (a guard against DNS rebinding); use one of "
      "those, or turn auth on (--auth-file)",
      *header));
}

Status BrowserGuard::CheckSameOrigin(const Request& req) {
  if (const std::string* site = req.Header("sec-fetch-site")) {
    if (*site != "same-origin" && *site != "none") {
      return Refuse(fmt::format(
          "a write from another site (Sec-Fetch-Site: {}) is refused: the console is served "
          "from this server, and scripts and the CLI send no such header",
          *site));
    }
  }
  const std::string* origin = req.Header("origin");
  if (!origin) return Status::OK();
  const std::string* host = req.Header("host");
  std::string_view o(*origin);
  bool same = false;
  if (host && o.starts_with("http://")) {
    std::string_view authority = o.substr(7);
    // http://localhost and localhost:80 are one origin.
    std::string_view origin_port = PortOf(authority);
    std::string_view host_port = PortOf(*host);
    if (origin_port.empty()) origin_port = "80";
    if (host_port.empty()) host_port = "80";
    same = HostOnly(authority) == HostOnly(*host) && origin_port == host_port;
  }
  if (!same) {
    return Refuse(fmt::format(
        "a write from the origin '{}' is refused: only pages this server serves may write "
        "(cross-site request)",
        *origin));
  }
  return Status::OK();
}

}  // namespace chronoconf::http
