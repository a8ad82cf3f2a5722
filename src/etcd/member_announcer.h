// MemberAnnouncer: keeps this node in the store's list of live nodes
// (etcd's MemberList, SPEC §7 "several nodes"): it announces the node every
// `interval` on a thread of its own, and leaves the list when stopped, so a
// node that stops cleanly drops out at once and one that dies drops out
// once its last announcement is older than the list's ttl. On stores only
// one node serves, announcing is a no-op (EventStore::Announce).
//
// Thread safety: Stop may be called from any thread.
#ifndef CHRONOCONF_ETCD_MEMBER_ANNOUNCER_H_
#define CHRONOCONF_ETCD_MEMBER_ANNOUNCER_H_

#include <chrono>
#include <thread>

#include "common/mutex.h"
#include "store/event_store.h"

namespace chronoconf::etcd {

// How long a node stays listed after its last announcement.
constexpr std::chrono::milliseconds kMemberTtl{5000};

class MemberAnnouncer {
 public:
  MemberAnnouncer(EventStore* store, MemberRecord me,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
  ~MemberAnnouncer();  // Stop()
  MemberAnnouncer(const MemberAnnouncer&) = delete;
  MemberAnnouncer& operator=(const MemberAnnouncer&) = delete;

  // Stops announcing and leaves the list. Idempotent.
  void Stop();

 private:
  void Run();

  EventStore* store_;
  const MemberRecord me_;
  const std::chrono::milliseconds interval_;
  Mutex mu_;
  CondVar cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace chronoconf::etcd

#endif  // CHRONOCONF_ETCD_MEMBER_ANNOUNCER_H_
