#include "support/real_etcd.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "support/http_test_util.h"

namespace chronoconf::test {

namespace {
constexpr char kEtcd[] = "/usr/bin/etcd";
}  // namespace

std::string RealEtcd::MissingReason() {
  if (access(kEtcd, X_OK) == 0) return "";
  return "etcd-server is not installed (apt-get install etcd-server)";
}

bool RealEtcd::Start() {
  client_port_ = PickFreePort();
  const int peer_port = PickFreePort();
  const std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
  const std::string data = dir_.File("data");
  const std::string log = dir_.File("etcd.log");
  const std::string cluster = "default=" + peer;
  pid_ = fork();
  if (pid_ == 0) {
    if (!freopen(log.c_str(), "w", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
    execl(kEtcd, "etcd", "--data-dir", data.c_str(), "--listen-client-urls", client.c_str(),
          "--advertise-client-urls", client.c_str(), "--listen-peer-urls", peer.c_str(),
          "--initial-advertise-peer-urls", peer.c_str(), "--initial-cluster", cluster.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ < 0) return false;
  Api api(url(), std::chrono::seconds(1));
  for (int i = 0; i < 200; ++i) {
    if (api.Post("/v3/maintenance/status", "{}").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

RealEtcd::~RealEtcd() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string RealEtcd::url() const { return "http://127.0.0.1:" + std::to_string(client_port_); }

}  // namespace chronoconf::test
