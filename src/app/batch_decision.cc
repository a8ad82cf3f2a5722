#include "app/batch_decision.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "app/review_decision.h"
#include "domain/etcd_txn.h"
#include "domain/etcd_value.h"
#include "domain/system_stream.h"
#include "json/json_schema.h"
#include "json/json_writer.h"

namespace chronoconf {
namespace {

// Revert: the ops that make the config under `prefix` equal to its state at R.
Result<Transaction> RevertOps(const RevertTo& cmd, const Projection& projection, int64_t now) {
  auto at = projection.Resolve(cmd.revision, std::nullopt);
  if (!at) return at.status();
  std::map<std::string, std::string> target;
  for (const KeyVersion& v : projection.Snapshot(cmd.prefix, *at)) {
    target.emplace(v.key, std::string(v.value()));
  }
  Transaction txn{{}, cmd.meta};
  std::map<std::string, Op> ops;
  for (const KeyVersion& v : projection.Snapshot(cmd.prefix, now)) {
    const std::string key(v.key);
    if (!target.contains(key)) ops.emplace(key, DeleteKey{key, std::nullopt});
  }
  for (auto& [key, value] : target) ops.emplace(key, SetKey{key, value, std::nullopt, false});
  for (auto& [key, op] : ops) txn.ops.push_back(std::move(op));
  return txn;
}

// Import: a set per value; with replace, a delete per other key under prefix.
Transaction ImportOps(const Import& cmd, const Projection& projection, int64_t at) {
  Transaction txn{{}, cmd.meta};
  std::set<std::string> named;
  for (const auto& [key, value] : cmd.values) {
    txn.ops.push_back(SetKey{key, value, std::nullopt, false});
    named.insert(key);
  }
  if (cmd.replace) {
    for (const KeyVersion& v : projection.Snapshot(cmd.prefix, at)) {
      const std::string key(v.key);
      if (!named.contains(key)) txn.ops.push_back(DeleteKey{key, std::nullopt});
    }
  }
  return txn;
}

// DeleteKeyRange: a delete per key that exists in [start, end) now.
Transaction RangeDeleteOps(const DeleteKeyRange& cmd, const Projection& projection, int64_t at) {
  Transaction txn{{}, cmd.meta};
  for (const KeyVersion& v : projection.Range(cmd.start, cmd.end, at, SIZE_MAX, nullptr)) {
    txn.ops.push_back(DeleteKey{std::string(v.key), std::nullopt});
  }
  return txn;
}

// The keys in [start, end) (or `start` alone) as an etcd Txn reads them, at
// revision `at`.
std::vector<EtcdKeyRead> EtcdRead(const Projection& projection, const std::string& start,
                                  const std::string& end, bool single, int64_t at) {
  std::vector<KeyVersion> found;
  if (single) {
    if (auto v = projection.Get(start, at)) found.push_back(std::move(*v));
  } else {
    found = projection.Range(start, end, at, SIZE_MAX, nullptr);
  }
  std::vector<EtcdKeyRead> out;
  for (const KeyVersion& v : found) {
    // Member by member: GCC 12 at -O3 takes the nested braced temporary's
    // strings for uninitialized (-Wmaybe-uninitialized).
    EtcdKeyRead& read = out.emplace_back();
    read.key = v.key;
    read.view.version = v.version - v.created_version + 1;
    read.view.create_revision = v.created_revision;
    read.view.mod_revision = v.revision;
    read.view.value = EtcdValueFromStored(v.value());
    read.view.lease = v.lease;
    read.stored_value = v.value();
  }
  return out;
}

// EtcdTxn: DecideEtcdTxn's writes and, when there are any, a check of every
// compared key they do not write, so that the store refuses the commit (and
// the batch is decided again) if another node moved one.
Transaction EtcdTxnOps(const EtcdTxn& cmd, const Projection& projection, int64_t at,
                       EtcdTxnDecision* decided) {
  *decided = DecideEtcdTxn(cmd.body, [&](const std::string& start, const std::string& end,
                                         bool single) {
    return EtcdRead(projection, start, end, single, at);
  }, at);
  Transaction txn{{}, cmd.meta};
  std::set<std::string> named;
  for (size_t i = 0; i < decided->writes.size(); ++i) {
    auto& [key, value] = decided->writes[i];
    named.insert(key);
    if (value) {
      SetKey set{key, std::move(*value), std::nullopt, false};
      set.commit_unchanged = true;
      if (decided->write_leases[i] != 0) set.lease = decided->write_leases[i];
      txn.ops.push_back(std::move(set));
    } else {
      txn.ops.push_back(DeleteKey{key, std::nullopt});
    }
  }
  if (txn.ops.empty()) return txn;
  for (const std::string& key : decided->compared) {
    if (named.insert(key).second) txn.ops.push_back(CheckKey{key, projection.State(key, at).version});
  }
  return txn;
}

// Does the command state what it expects to find (a version, absence, a
// check)? Only such a command can fail with a conflict: a blind write has
// nothing to conflict with, it is decided again.
bool HasExpectation(const Transaction& txn) {
  for (const Op& op : txn.ops) {
    if (const auto* set = std::get_if<SetKey>(&op)) {
      if (set->expected_version || set->must_be_absent) return true;
    } else if (const auto* del = std::get_if<DeleteKey>(&op)) {
      if (del->expected_version) return true;
    } else {
      return true;  // CheckKey
    }
  }
  return false;
}

// A lease's grant, revoke or expiry: one commit in the lease's stream
// (domain/system_stream.h), which for an end also deletes every key that
// still holds the lease. The lease table names the candidates; each key's
// own state at the pin decides (it records the lease of its last set).
// A non-admin's write of a key under a prefix whose policy requires
// reviews: refused, naming the key and the prefix (SPEC §8).
Status ReviewRequired(const std::vector<Event>& events, const Projection& projection, int64_t at) {
  for (const Event& e : events) {
    if (IsSystemStream(e.key)) continue;
    for (const auto& p : projection.PoliciesCovering(e.key, at)) {
      if (p->approvals < 1) continue;
      return Status::ReviewRequired(fmt::format(
          "key '{}' is under prefix '{}', whose changes need {} approval(s): propose this "
          "change with POST /v1/changes (chronoconf change propose) instead",
          e.key, p->prefix, p->approvals));
    }
  }
  return Status::OK();
}

BatchDecision DecideLease(const LeaseChange& cmd, const Projection& projection, int64_t at,
                          const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                          std::vector<CommitData>* commits) {
  BatchDecision d;
  const std::string stream = LeaseStream(cmd.id);
  const KeyState lease = lookup(stream);
  CommitData commit;
  if (cmd.kind == LeaseChange::Kind::kGrant) {
    if (lease.exists) {
      d.status = Status::InvalidRequest("lease already exists");
      return d;
    }
    json::Writer w;
    w.BeginObject().Field("id", cmd.id).Field("ttl", cmd.ttl).EndObject();
    commit.meta = cmd.meta;
    commit.events.push_back(
        Event{EventType::kLeaseGranted, stream, lease.version + 1, w.Take(), std::nullopt});
  } else {
    if (!lease.exists) {
      d.status = Status::NotFound("requested lease not found");
      return d;
    }
    const bool expire = cmd.kind == LeaseChange::Kind::kExpire;
    // A keep-alive may have come since the keeper asked: it wins.
    if (expire && cmd.still_expired && !cmd.still_expired()) return d;
    std::optional<LeaseInfo> info = projection.Lease(cmd.id);
    commit.meta.actor = info ? info->grantor : cmd.meta.actor;
    commit.meta.reason =
        expire ? fmt::format("lease {} expired: not kept alive for its TTL of {} s", cmd.id,
                             info ? info->ttl : 0)
               : fmt::format("lease {} revoked by {}", cmd.id, cmd.meta.actor);
    commit.meta.request_id = cmd.meta.request_id;
    commit.events.push_back(Event{expire ? EventType::kLeaseExpired : EventType::kLeaseRevoked,
                                  stream, lease.version + 1, lease.value, lease.value});
    for (const std::string& key : info ? info->keys : std::vector<std::string>{}) {
      const KeyState k = lookup(key);
      if (!k.exists || k.lease != cmd.id) continue;
      commit.events.push_back(
          Event{EventType::kConfigDeleted, key, k.version + 1, std::nullopt, k.value});
    }
    // Decided on every key the lease holds: appended only right after the
    // revision it was decided at, so a put with this lease that another
    // node committed in between makes it decide again (and delete that key
    // too) instead of leaving it on a dead lease.
    commit.expected_head = at;
    // A revoke deletes keys as a write does: a non-admin may not delete
    // keys under a reviewed prefix that way either (SPEC §8). An expiry has
    // no one to ask; it is the TTL the grantor chose.
    if (!expire && cmd.meta.needs_review) {
      if (Status s = ReviewRequired(commit.events, projection, at); !s.ok()) {
        d.status = std::move(s);
        return d;
      }
      commit.reads.push_back(
          {std::string(kPoliciesStream), lookup(std::string(kPoliciesStream)).version});
    }
  }
  for (const Event& e : commit.events) KeyAggregate::Apply((*overlay)[e.key], e);
  d.commit_index = static_cast<int>(commits->size());
  commits->push_back(std::move(commit));
  return d;
}

// The failures of the values `events` set, against the schemas in force at
// `at` (SPEC §8). A schema that does not compile here refuses every value.
std::vector<ValueFailure> SchemaFailures(const std::vector<Event>& events,
                                         const Projection& projection, int64_t at) {
  std::vector<ValueFailure> out;
  for (const Event& e : events) {
    if (e.type != EventType::kConfigSet || !e.value || IsSystemStream(e.key)) continue;
    for (const auto& schema : projection.SchemasCovering(e.key, at)) {
      if (!schema->compiled) {
        out.push_back({e.key, schema->prefix, "", "schema",
                       "the schema of this prefix does not compile: " + schema->compile_error});
        continue;
      }
      for (json::SchemaFailure& f : schema->compiled->Validate(*e.value)) {
        out.push_back({e.key, schema->prefix, std::move(f.pointer), std::move(f.rule),
                       std::move(f.message)});
      }
    }
  }
  return out;
}

// The first of `total` failures (`failures` may list fewer) in words.
std::string FailureSummary(const std::vector<ValueFailure>& failures, size_t total) {
  const ValueFailure& f = failures.front();
  std::string where = f.pointer.empty() ? "the value" : "'" + f.pointer + "'";
  std::string more = total > 1 ? fmt::format(" (and {} more)", total - 1) : "";
  return fmt::format("key '{}': {} breaks the schema of prefix '{}' ({}: {}){}", f.key, where,
                     f.prefix, f.rule, f.message, more);
}

// A schema's set or delete: one event in the schemas stream. A set is
// checked against the values under its prefix at the pin first.
BatchDecision DecideSchema(const SchemaChange& cmd, const Projection& projection, int64_t at,
                           const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                           std::vector<CommitData>* commits) {
  BatchDecision d;
  std::shared_ptr<const SchemaInForce> current;
  for (auto& s : projection.Schemas(at)) {
    if (s->prefix == cmd.prefix) current = s;
  }
  const std::string stream(kSchemasStream);
  const KeyState state = lookup(stream);
  json::Writer w;
  w.BeginObject().Field("prefix", cmd.prefix);
  if (cmd.schema && current && current->schema == *cmd.schema) {
    d.changed = {false};  // the schema in force already: a no-op (SPEC §1)
    return d;
  }
  if (cmd.schema) {
    auto compiled = json::CompiledSchema::Compile(*cmd.schema);
    if (!compiled) {
      d.status = compiled.status();
      return d;
    }
    // The answer lists the first kMaxListedFailures; the message counts all.
    constexpr size_t kMaxListedFailures = 100;
    std::vector<ValueFailure> failures;
    size_t total = 0;
    for (const KeyVersion& v : projection.Snapshot(cmd.prefix, at)) {
      for (json::SchemaFailure& f : (*compiled)->Validate(v.value())) {
        if (++total > kMaxListedFailures) continue;
        failures.push_back({std::string(v.key), cmd.prefix, std::move(f.pointer),
                            std::move(f.rule), std::move(f.message)});
      }
    }
    if (!failures.empty() && !cmd.force) {
      std::string message = fmt::format(  // before `failures` moves
          "current values under '{}' break this schema: {}; fix them first, or set it with "
          "\"force\":true",
          cmd.prefix, FailureSummary(failures, total));
      d.status = Status::SchemaConflict(std::move(message), std::move(failures));
      return d;
    }
    w.Key("schema").Raw(*cmd.schema);
    d.created = !current;
  } else if (!current) {
    d.status = Status::NotFound(fmt::format("prefix '{}' has no schema", cmd.prefix));
    return d;
  }
  w.EndObject();
  CommitData commit{cmd.meta, {}, {}};
  commit.events.push_back(Event{cmd.schema ? EventType::kSchemaSet : EventType::kSchemaDeleted,
                                stream, state.version + 1, w.Take(),
                                state.exists ? std::optional<std::string>(state.value)
                                             : std::nullopt});
  // Decided on every value under the prefix: the store checks that no other
  // node wrote since (a commit in between makes it decide again).
  commit.expected_head = at;
  for (const Event& e : commit.events) KeyAggregate::Apply((*overlay)[e.key], e);
  d.changed = {true};
  d.commit_index = static_cast<int>(commits->size());
  commits->push_back(std::move(commit));
  return d;
}


}  // namespace

void PrecheckSchemas(const Projection& projection, Transaction* txn) {
  // One revision for the version and the schemas, so that the version
  // recorded is never newer than the schemas the values passed.
  const int64_t at = projection.head();
  const int64_t version = projection.State(std::string(kSchemasStream), at).version;
  if (version > 0) {  // 0: no schema was ever set
    for (const Op& op : txn->ops) {
      const auto* set = std::get_if<SetKey>(&op);
      if (set == nullptr) continue;
      for (const auto& schema : projection.SchemasCovering(set->key, at)) {
        if (!schema->compiled || !schema->compiled->Validate(set->value).empty()) return;
      }
    }
  }
  txn->schemas_checked = version;
}

BatchDecision DecideWrite(Transaction txn, const Projection& projection, int64_t at,
                          const Lookup& lookup, std::unordered_map<std::string, KeyState>* overlay,
                          std::vector<CommitData>* commits, std::vector<Event> extra,
                          std::vector<ReadCheck> extra_reads) {
  BatchDecision d;
  d.txn = std::move(txn);
  auto decided = DecideTransaction(d.txn, lookup);
  if (!decided) {
    d.status = decided.status();
    return d;
  }
  d.changed = decided->changed;
  if (decided->events.empty()) return d;
  // Every value it sets against every schema over its key (SPEC §8),
  // unless the submitting thread found them valid against these schemas.
  const std::string schemas(kSchemasStream);
  const int64_t schemas_version = lookup(schemas).version;
  if (d.txn.schemas_checked != schemas_version) {
    auto failures = SchemaFailures(decided->events, projection, at);
    if (!failures.empty()) {
      std::string summary = FailureSummary(failures, failures.size());  // before it moves
      d.status = Status::SchemaViolation(std::move(summary), std::move(failures));
      d.changed.clear();
      return d;
    }
  }
  // A non-admin's write under a prefix that requires reviews (SPEC §8).
  if (d.txn.meta.needs_review) {
    if (Status s = ReviewRequired(decided->events, projection, at); !s.ok()) {
      d.status = std::move(s);
      d.changed.clear();
      return d;
    }
  }
  // The keys the transaction only read (checks, ops that changed nothing):
  // the store checks their versions when it appends, so that a check that
  // held here still holds at commit time, whatever another node wrote in
  // between. (A transaction that writes nothing appends nothing: it was
  // decided at the store's head, see ProcessBatch.)
  std::set<std::string> written;
  for (const Event& e : decided->events) written.insert(e.key);
  std::vector<ReadCheck> reads = std::move(extra_reads);
  for (const Op& op : d.txn.ops) {
    const std::string& key = OpKey(op);
    if (!written.contains(key)) reads.push_back({key, lookup(key).version});
  }
  // A put with a lease needs the lease alive; the store checks its stream
  // at commit time, so a revoke or expiry on another node cannot slip in.
  std::set<int64_t> leases;
  for (const Event& e : decided->events) {
    if (e.lease) leases.insert(*e.lease);
  }
  // Decided against the schemas (and, for a non-admin, the review policies)
  // at the pin: the store checks that none changed since (on another node)
  // before it appends.
  const bool sets_values = std::any_of(decided->events.begin(), decided->events.end(),
                                       [](const Event& e) { return e.type == EventType::kConfigSet; });
  if (sets_values) reads.push_back({schemas, schemas_version});
  if (d.txn.meta.needs_review) {
    reads.push_back({std::string(kPoliciesStream), lookup(std::string(kPoliciesStream)).version});
  }
  for (int64_t id : leases) {
    const KeyState lease = lookup(LeaseStream(id));
    if (!lease.exists) {
      d.status = Status::NotFound("requested lease not found");
      d.changed.clear();
      return d;
    }
    reads.push_back({LeaseStream(id), lease.version});
  }
  for (const Event& e : decided->events) {
    if (e.type == EventType::kConfigSet && !lookup(e.key).exists) d.created = true;
  }
  for (Event& e : extra) decided->events.push_back(std::move(e));
  for (const Event& e : decided->events) KeyAggregate::Apply((*overlay)[e.key], e);
  d.commit_index = static_cast<int>(commits->size());
  commits->push_back({d.txn.meta, std::move(decided->events), std::move(reads)});
  return d;
}

BatchDecision Decide(const Command& command, const Projection& projection, int64_t at,
                     const Lookup& committed, std::unordered_map<std::string, KeyState>* overlay,
                     std::vector<CommitData>* commits) {
  BatchDecision d;
  Lookup lookup = [&](const std::string& key) {
    auto it = overlay->find(key);
    return it != overlay->end() ? it->second : committed(key);
  };
  if (auto* lease = std::get_if<LeaseChange>(&command)) {
    return DecideLease(*lease, projection, at, lookup, overlay, commits);
  }
  if (auto* schema = std::get_if<SchemaChange>(&command)) {
    return DecideSchema(*schema, projection, at, lookup, overlay, commits);
  }
  if (auto* policy = std::get_if<PolicyChange>(&command)) {
    return DecidePolicy(*policy, projection, at, lookup, overlay, commits);
  }
  if (auto* propose = std::get_if<ProposeChange>(&command)) {
    return DecideProposal(*propose, projection, at, lookup, overlay, commits);
  }
  if (auto* review = std::get_if<ReviewChange>(&command)) {
    return DecideReview(*review, projection, lookup, overlay, commits);
  }
  if (auto* apply = std::get_if<ApplyChange>(&command)) {
    return DecideApply(*apply, projection, at, lookup, overlay, commits);
  }
  if (auto* txn = std::get_if<Transaction>(&command)) {
    d.txn = *txn;
  } else if (auto* revert = std::get_if<RevertTo>(&command)) {
    auto ops = RevertOps(*revert, projection, at);
    if (!ops) {
      d.status = ops.status();
      return d;
    }
    d.txn = std::move(*ops);
  } else if (auto* import = std::get_if<Import>(&command)) {
    d.txn = ImportOps(*import, projection, at);
  } else if (auto* etcd = std::get_if<EtcdTxn>(&command)) {
    EtcdTxnDecision decided;
    d.txn = EtcdTxnOps(*etcd, projection, at, &decided);
    d.succeeded = decided.path.front();
    d.txn_path = std::move(decided.path);
    if (!decided.status.ok()) {
      d.status = std::move(decided.status);
      return d;
    }
  } else {
    d.txn = RangeDeleteOps(std::get<DeleteKeyRange>(command), projection, at);
  }
  if (d.txn.ops.empty()) return d;  // a revert, import or range delete with nothing to do
  BatchDecision decided = DecideWrite(std::move(d.txn), projection, at, lookup, overlay, commits);
  decided.succeeded = d.succeeded;
  decided.txn_path = std::move(d.txn_path);
  return decided;
}

bool DropMovedKeys(const std::vector<CommitData>& commits, const Projection& projection,
                   std::vector<BatchDecision>* decisions, std::vector<bool>* dropped,
                   bool blind_too, std::chrono::seconds deadline) {
  // The version each key had when the batch was decided: at its first read
  // check, or its first event's version - 1.
  std::unordered_map<std::string, int64_t> base;
  for (const CommitData& c : commits) {
    for (const ReadCheck& r : c.reads) base.emplace(r.key, r.version);
    for (const Event& e : c.events) base.emplace(e.key, e.version - 1);
  }
  bool any = false;
  for (size_t i = 0; i < decisions->size(); ++i) {
    BatchDecision& d = (*decisions)[i];
    if (d.commit_index < 0) continue;
    const bool expects = HasExpectation(d.txn);
    if (!expects && !blind_too) continue;
    const CommitData& commit = commits[static_cast<size_t>(d.commit_index)];
    std::vector<std::string> keys;
    for (const ReadCheck& r : commit.reads) keys.push_back(r.key);
    for (const Event& e : commit.events) keys.push_back(e.key);
    for (const std::string& key : keys) {
      const int64_t current = projection.State(key).version;
      if (current == base[key]) continue;
      if (expects) {
        Status conflict = Status::Conflict({key, base[key], current});
        conflict.WithMessage(fmt::format(
            "key '{}' kept changing on other nodes while this write was retried; retry it",
            key));
        d.status = std::move(conflict);
      } else {
        d.status = Status::Unavailable(fmt::format(
            "other nodes kept writing key '{}' for {} s, so this write could not commit; "
            "nothing was written: retry it",
            key, deadline.count()));
      }
      d.commit_index = -1;
      (*dropped)[i] = true;
      any = true;
      break;
    }
  }
  return any;
}

}  // namespace chronoconf
