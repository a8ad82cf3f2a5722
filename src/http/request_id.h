// Request ids (SPEC §2.1): every response carries X-Request-Id, the
// client's when it sent a valid one, else one made here; a write records it
// in its commit.
#ifndef CHRONOCONF_HTTP_REQUEST_ID_H_
#define CHRONOCONF_HTTP_REQUEST_ID_H_

#include <string>

namespace chronoconf::http {

// 32 random lowercase hex digits (128 bits): unique in practice, not secret.
std::string NewRequestId();

}  // namespace chronoconf::http

#endif  // CHRONOCONF_HTTP_REQUEST_ID_H_
