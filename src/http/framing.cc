#include "http/framing.h"

#include <vector>

namespace chronoconf::http {

namespace bhttp = boost::beast::http;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status CheckFraming(const bhttp::request_header<>& h) {
  std::vector<std::string> codings;
  auto [first, last] = h.equal_range(bhttp::field::transfer_encoding);
  for (auto f = first; f != last; ++f) {
    std::string_view v = f->value();
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view token = v.substr(0, comma);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
      if (!token.empty()) codings.push_back(Lower(token));
    }
  }
  bool has_te = h.count(bhttp::field::transfer_encoding) > 0;
  if (has_te) {
    if (h.version() < 11) {
      return Status::InvalidRequest("Transfer-Encoding is not allowed in an HTTP/1.0 request");
    }
    if (codings.size() != 1 || codings[0] != "chunked") {
      return Status::InvalidRequest(
          "unsupported Transfer-Encoding: only 'chunked', alone, is accepted");
    }
    if (h.count(bhttp::field::content_length) > 0) {
      return Status::InvalidRequest("a request may not carry both Transfer-Encoding and Content-Length");
    }
  }
  if (h.version() >= 11) {
    size_t hosts = h.count(bhttp::field::host);
    if (hosts == 0) return Status::InvalidRequest("an HTTP/1.1 request needs a Host header");
    if (hosts > 1) return Status::InvalidRequest("a request may carry only one Host header");
  }
  return Status::OK();
}

Status CheckHeaderBlock(std::string_view block) {
  size_t line_end = block.find("\r\n");
  while (line_end != std::string_view::npos && line_end + 2 < block.size()) {
    char next = block[line_end + 2];
    if (next == ' ' || next == '\t') {
      return Status::InvalidRequest("obsolete line folding is not accepted (RFC 9112 §5.2)");
    }
    line_end = block.find("\r\n", line_end + 2);
  }
  return Status::OK();
}


}  // namespace chronoconf::http
