#include "etcd/member_announcer.h"

#include <spdlog/spdlog.h>

namespace chronoconf::etcd {

MemberAnnouncer::MemberAnnouncer(EventStore* store, MemberRecord me,
                                 std::chrono::milliseconds interval)
    : store_(store), me_(std::move(me)), interval_(interval) {
  thread_ = std::thread([this] { Run(); });
}

MemberAnnouncer::~MemberAnnouncer() { Stop(); }

void MemberAnnouncer::Stop() {
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.SignalAll();
  thread_.join();
  // Best effort: a node that cannot say goodbye drops out after the ttl.
  store_->Leave(me_.name).IgnoreError();
}

void MemberAnnouncer::Run() {
  bool failing = false;  // warn once per outage, not every second
  while (true) {
    Status s = store_->Announce(me_);
    if (!s.ok() && !failing) {
      spdlog::warn("cannot announce this node to the store (etcd MemberList): {}", s.ToString());
    }
    failing = !s.ok();
    MutexLock lock(&mu_);
    const auto deadline = std::chrono::steady_clock::now() + interval_;
    while (!stopping_) {
      if (!cv_.WaitUntil(&mu_, deadline)) break;
    }
    if (stopping_) return;
  }
}

}  // namespace chronoconf::etcd
