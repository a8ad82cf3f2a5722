#include "app/verify.h"

#include <map>
#include <set>

#include <fmt/format.h>

#include "domain/key_aggregate.h"
#include "domain/review_change.h"
#include "domain/system_stream.h"
#include "json/json_value.h"
#include "json/json_writer.h"
#include "projection/projection.h"
#include "store/commit_hash.h"

namespace chronoconf {

namespace {

// The review rules a commit's change events must keep (SPEC §8), against
// the read model of every commit before it: a change is reviewed and
// applied only while open, never approved by its proposer, and applied in
// the commit that makes its ops, with the approvers it had and as many as
// the policies over its keys required then. Empty when it keeps them.
std::string ReviewRuleBroken(const RecordedCommit& c, const Projection& before) {
  for (const Event& e : c.events) {
    const std::optional<int64_t> id = ChangeIdOf(e.key);
    if (!id) continue;
    if (e.type == EventType::kChangeProposed) {
      auto proposal = ParseChangeProposed(e.value.value_or(""));
      if (!proposal || proposal->id != *id) return fmt::format("change {}: a bad proposal", *id);
      continue;
    }
    auto change = before.Change(*id);
    if (!change || change->state != ChangeRecord::State::kOpen) {
      return fmt::format("change {}: a {} of a change that is not open", *id,
                         EventTypeName(e.type));
    }
    if (e.type == EventType::kChangeApproved && c.meta.actor == change->proposer) {
      return fmt::format("change {}: approved by its proposer", *id);
    }
    if (e.type != EventType::kChangeApplied) continue;
    const std::vector<std::string> approvers = change->Approvers();
    if (e.value != ChangeAppliedPayload(*id, approvers)) {
      return fmt::format("change {}: applied naming other approvers than it had", *id);
    }
    std::set<std::string> keys;
    for (const Op& op : change->proposal.ops) {
      keys.insert(OpKey(op));
      for (const auto& p : before.PoliciesCovering(OpKey(op), c.revision - 1)) {
        if (static_cast<int64_t>(approvers.size()) < p->approvals) {
          return fmt::format("change {}: applied with {} approval(s) where prefix '{}' required {}",
                             *id, approvers.size(), p->prefix, p->approvals);
        }
      }
    }
    for (const Event& other : c.events) {
      if (!IsSystemStream(other.key) && !keys.contains(other.key)) {
        return fmt::format("change {}: its commit writes key '{}', which it does not name", *id,
                           other.key);
      }
    }
  }
  return "";
}

// The snapshot's bytes and the revision in its header; nullopt when there is
// no file and none was `required`.
Result<std::optional<std::pair<std::string, int64_t>>> ReadSnapshot(const std::string& path,
                                                                   bool required) {
  std::optional<std::pair<std::string, int64_t>> none;
  if (path.empty()) return none;
  auto bytes = Projection::ReadSnapshotFile(path);
  if (!bytes) {
    if (bytes.status().code() == Code::kNotFound && !required) return none;
    return bytes.status();
  }
  std::optional<int64_t> revision = Projection::SnapshotRevision(*bytes);
  if (!revision) {
    return Status::Corruption(fmt::format(
        "the snapshot {} is truncated, or not a chronoconf snapshot of this build's format",
        path));
  }
  return std::optional(std::pair(std::move(*bytes), *revision));
}

}  // namespace

Status VerifyStore(EventStore& store, VerifyReport* report,
                   const std::function<void(int64_t)>& progress,
                   const std::string& snapshot_path, bool snapshot_required) {
  *report = VerifyReport{};
  auto snapshot = ReadSnapshot(snapshot_path, snapshot_required);
  if (!snapshot) return snapshot.status();
  std::string snapshot_key;
  if (*snapshot) {
    auto k = store.SnapshotKey();
    if (!k) return k.status();
    snapshot_key = std::move(*k);
  }
  // Equal bytes, MAC included: the snapshot is what this store's read model
  // gives, and it was written with this store's key.
  auto check_snapshot = [&](const Projection& rebuilt) {
    if (rebuilt.SerializeSnapshot(snapshot_key) != (*snapshot)->first) {
      return Status::Corruption(fmt::format(
          "the snapshot {} (revision {}) differs from the read model rebuilt from the events",
          snapshot_path, (*snapshot)->second));
    }
    report->snapshot_revision = (*snapshot)->second;
    return Status::OK();
  };
  std::map<std::string, KeyState> keys;
  Projection rebuilt;
  std::string prev_hash = kZeroHash;
  int64_t prev_time = 0;
  int64_t expected_revision = 1;
  auto corrupt = [](int64_t rev, std::string what) {
    return Status::Corruption(fmt::format("revision {}: {}", rev, what));
  };
  for (;;) {
    auto page = store.ReadForward(expected_revision - 1, 1000);
    if (!page) return page.status();
    if (page->empty()) break;
    for (const RecordedCommit& c : *page) {
      if (c.revision != expected_revision) {
        return corrupt(expected_revision, fmt::format("missing; the next is {}", c.revision));
      }
      if (c.prev_hash != prev_hash) return corrupt(c.revision, "prev_hash does not link");
      if (ComputeCommitHash(c) != c.hash) {
        return corrupt(c.revision, "the hash does not recompute: the commit was altered");
      }
      // A strict JSON reader must accept every text of the log (SPEC §2.1).
      for (const auto& [what, text] :
           {std::pair<const char*, const std::optional<std::string>*>{"actor", nullptr},
            {"reason", &c.meta.reason},
            {"request_id", &c.meta.request_id}}) {
        const std::string* t = text ? (*text ? &**text : nullptr) : &c.meta.actor;
        if (t && !json::IsValidUtf8(*t)) {
          return corrupt(c.revision, fmt::format("the {} is not valid UTF-8", what));
        }
      }
      for (const Event& e : c.events) {
        for (const auto* v : {&e.value, &e.previous_value}) {
          if (*v && !json::Parse(**v)) {
            return corrupt(c.revision,
                           fmt::format("key '{}' version {}: a stored value is not valid JSON",
                                       e.key, e.version));
          }
        }
      }
      if (c.timestamp_us < prev_time) return corrupt(c.revision, "commit time goes back");
      if (c.events.empty()) return corrupt(c.revision, "a commit without events");
      for (const Event& e : c.events) {
        KeyState& k = keys[e.key];
        if (e.version != k.version + 1) {
          return corrupt(c.revision, fmt::format("key '{}' jumps from version {} to {}", e.key,
                                                 k.version, e.version));
        }
        std::optional<std::string> had;
        if (k.exists) had = k.value;
        if (e.previous_value != had) {
          return corrupt(c.revision,
                         fmt::format("key '{}' version {}: previous_value is not the value the key had",
                                     e.key, e.version));
        }
        if (e.type == EventType::kConfigDeleted && (!k.exists || e.value)) {
          return corrupt(c.revision, fmt::format("key '{}': a bad delete", e.key));
        }
        if (e.type == EventType::kConfigSet && !e.value) {
          return corrupt(c.revision, fmt::format("key '{}': a set without a value", e.key));
        }
        // Lease events live in lease streams, config events in config keys
        // (domain/system_stream.h); only a config set names a lease.
        const bool lease_event = e.type == EventType::kLeaseGranted ||
                                 e.type == EventType::kLeaseRevoked ||
                                 e.type == EventType::kLeaseExpired;
        // Schema events live in the schemas stream, and only they do.
        const bool schema_event =
            e.type == EventType::kSchemaSet || e.type == EventType::kSchemaDeleted;
        if (schema_event != (e.key == kSchemasStream) || (schema_event && !e.value)) {
          return corrupt(c.revision,
                         fmt::format("stream '{}': a {} event does not belong there", e.key,
                                     EventTypeName(e.type)));
        }
        // Policy events live in the policies stream, change events in a
        // change's stream, which a ChangeProposed opens.
        const bool policy_event =
            e.type == EventType::kPolicySet || e.type == EventType::kPolicyDeleted;
        const bool change_event =
            e.type == EventType::kChangeProposed || e.type == EventType::kChangeApproved ||
            e.type == EventType::kChangeRejected || e.type == EventType::kChangeApplied;
        if (policy_event != (e.key == kPoliciesStream) ||
            change_event != ChangeIdOf(e.key).has_value() ||
            ((policy_event || change_event) && !e.value) ||
            (change_event && (e.type == EventType::kChangeProposed) == k.exists)) {
          return corrupt(c.revision,
                         fmt::format("stream '{}': a {} event does not belong there", e.key,
                                     EventTypeName(e.type)));
        }
        if (lease_event != LeaseIdOf(e.key).has_value() ||
            (!lease_event && !schema_event && !policy_event && !change_event &&
             IsSystemStream(e.key)) ||
            (e.lease && e.type != EventType::kConfigSet) ||
            (lease_event && (!e.value || (e.type == EventType::kLeaseGranted) == k.exists))) {
          return corrupt(c.revision,
                         fmt::format("stream '{}': a {} event does not belong there", e.key,
                                     EventTypeName(e.type)));
        }
        KeyAggregate::Apply(k, e);
      }
      if (std::string broken = ReviewRuleBroken(c, rebuilt); !broken.empty()) {
        return corrupt(c.revision, broken);
      }
      if (Status s = rebuilt.Apply(c); !s.ok()) return corrupt(c.revision, s.message());
      if (*snapshot && (*snapshot)->second == c.revision) {
        if (Status s = check_snapshot(rebuilt); !s.ok()) return s;
      }
      prev_hash = c.hash;
      prev_time = c.timestamp_us;
      ++expected_revision;
      report->events += static_cast<int64_t>(c.events.size());
    }
    report->commits = expected_revision - 1;
    if (progress) progress(report->commits);
  }
  if (*snapshot && (*snapshot)->second == 0) {
    if (Status s = check_snapshot(Projection()); !s.ok()) return s;
  }
  if (*snapshot && report->snapshot_revision < 0) {
    return Status::Corruption(fmt::format("the snapshot {} is at revision {}, above the head {}",
                                          snapshot_path, (*snapshot)->second, report->commits));
  }
  // The read model rebuilt from the log must agree with every key's stream.
  for (const auto& [key, state] : keys) {
    auto stream = store.ReadStream(key);
    if (!stream) return stream.status();
    KeyState from_stream;
    for (const StreamEvent& se : *stream) KeyAggregate::Apply(from_stream, se.event);
    KeyState from_log = rebuilt.State(key);
    if (from_stream.version != from_log.version || from_stream.exists != from_log.exists ||
        from_stream.value != from_log.value || from_log.version != state.version) {
      return Status::Corruption(
          fmt::format("key '{}': the read model rebuilt from the log differs from its stream", key));
    }
    if (state.exists && !IsSystemStream(key)) ++report->keys;
  }
  report->head_hash = prev_hash;
  auto head = store.ReadHead();
  if (!head) return head.status();
  if (head->revision != report->commits || head->hash != prev_hash) {
    return Status::Corruption("the store's head is not the last commit of its log");
  }
  return Status::OK();
}

}  // namespace chronoconf
