// The seam between the HTTP server and etcd's JSON gateway (SPEC §7:
// `POST /v3/...`, `/v3beta/...`, `/v3alpha/...` and `GET /version` on the
// main HTTP port). The gateway itself lives in src/etcd (gateway.cc), since
// it calls the etcd methods; the HTTP server knows only this interface, and
// keeps what every route shares: admission (Host, origin, readiness), body
// limits, the access log and the request metrics.
//
// Thread safety: every method may run on many threads at once.
#ifndef CHRONOCONF_HTTP_ETCD_GATEWAY_H_
#define CHRONOCONF_HTTP_ETCD_GATEWAY_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "http/http_types.h"

namespace chronoconf::http {

// One streaming call (POST /v3/watch): JSON lines made at the reader's pace,
// nothing queued. Used by one coroutine at a time.
class GatewayStream {
 public:
  virtual ~GatewayStream() = default;

  enum class Next {
    kLines,    // lines were appended
    kNothing,  // nothing until the read model moves
    kMore,     // nothing yet, but more to read now: call again after others ran
    kEnd,      // the stream ends after what was appended (its last line)
  };
  // Appends the next lines ("{...}\n" each) to *out until it holds about
  // `max_bytes` (at least one line when there is one).
  virtual Next Read(std::string* out, size_t max_bytes) = 0;
  // The last line when the server shuts down.
  virtual std::string StoppedLine() = 0;
};

class EtcdGateway {
 public:
  virtual ~EtcdGateway() = default;

  enum class Kind { kUnknown, kUnary, kStream };
  // What `method` (the path after "/v3/", "/v3beta/" or "/v3alpha/", like
  // "kv/range") is.
  virtual Kind KindOf(std::string_view method) const = 0;
  // The label `method` is counted and logged under: "/v3/kv/range" for all
  // three prefixes; "" for an unknown method.
  virtual std::string_view Label(std::string_view method) const = 0;

  // Answers a unary call (KindOf kUnary) from its body. `done` is called
  // once, on any thread, possibly before Call returns.
  virtual void Call(const Request& req, std::string_view method,
                    std::function<void(Response)> done) = 0;
  // Opens a stream (KindOf kStream) from its body; null with *refusal set
  // when the body is refused before the stream begins.
  virtual std::unique_ptr<GatewayStream> Open(const Request& req, std::string_view method,
                                              Response* refusal) = 0;
  // GET /version.
  virtual Response Version() const = 0;
  // A refusal of the HTTP layer (a Host, an origin, a body over the limit,
  // the read model catching up) in the gateway's error shape.
  virtual Response Error(const Status& status) const = 0;
};

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_ETCD_GATEWAY_H_
