// Debian's etcd-server 3.4 (/usr/bin/etcd) on loopback, in a temporary
// directory, for the differential tests: the same calls against the real
// etcd and against chronoconf.
//
//   CHRONOCONF_REQUIRE(RealEtcd::MissingReason());
//   RealEtcd etcd;
//   ASSERT_TRUE(etcd.Start());
//   ... etcd.url() ...  // killed by the destructor
//
// Thread safety: none.
#ifndef CHRONOCONF_TESTS_SUPPORT_REAL_ETCD_H_
#define CHRONOCONF_TESTS_SUPPORT_REAL_ETCD_H_

#include <sys/types.h>

#include <string>

#include "support/test_server.h"

namespace chronoconf::test {

class RealEtcd {
 public:
  // "" when /usr/bin/etcd is there, else why not.
  static std::string MissingReason();

  RealEtcd() = default;
  ~RealEtcd();  // SIGKILL and wait
  RealEtcd(const RealEtcd&) = delete;
  RealEtcd& operator=(const RealEtcd&) = delete;

  // Starts etcd on free loopback ports and waits (up to ~10 s) until its
  // gateway answers Status.
  bool Start();
  // "http://127.0.0.1:PORT": the client port (gRPC and the JSON gateway).
  std::string url() const;
  int port() const { return client_port_; }

 private:
  TempDir dir_{"chronoconf-real-etcd"};
  int client_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace chronoconf::test

#endif  // CHRONOCONF_TESTS_SUPPORT_REAL_ETCD_H_
