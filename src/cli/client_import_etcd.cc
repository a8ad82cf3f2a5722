// import-etcd: copies a live etcd's keys, or its history from a revision on,
// into the server (import_etcd_plan.h says how each commit is written).
// Everything is read from etcd and checked first; only then is anything
// written, so a key or value chronoconf cannot hold stops the import before
// its first commit.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "cli/client_internal.h"
#include "cli/etcd_source.h"
#include "cli/import_etcd_plan.h"
#include "cli/progress_bar.h"
#include "domain/key.h"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "json/json_writer.h"

namespace chronoconf::cli {

namespace {

// The problems printed before "… and N more".
constexpr size_t kProblemsShown = 50;

// What was read from etcd.
struct Source {
  int64_t head = 0;
  int64_t base_revision = 0;  // the revision `base` is as at; 0: no base
  std::vector<EtcdKeyValue> base;
  std::vector<EtcdRevision> revisions;
};

// One commit made (or, in a dry run, that would be made).
struct Made {
  int64_t etcd_revision = 0;
  bool base = false;  // the keys as at etcd_revision, not that revision's changes
  int64_t revision = 0;
  int64_t events = 0;
  bool changed = false;
};

int EtcdError(const Status& s) {
  ReportError(s.code() == Code::kUnavailable ? "etcd_unreachable" : "etcd", s.message());
  return kExitError;
}

// Reads what the import copies: the keys as at etcd's head (no --rev), or as
// at the revision before --rev plus every revision from --rev on.
int ReadSource(EtcdSource& etcd, const ImportEtcdArgs& a, Source* out) {
  auto head = etcd.Head();
  if (!head) return EtcdError(head.status());
  out->head = *head;
  if (a.rev > out->head) {
    ReportError("future_revision", fmt::format("etcd at {} is at revision {}; --rev {} is after it",
                                               etcd.endpoint(), out->head, a.rev));
    return kExitError;
  }
  out->base_revision = a.rev < 0 ? out->head : a.rev - 1;
  if (out->base_revision >= 1) {
    auto keys = etcd.KeysAt(out->base_revision, a.prefix);
    if (!keys) {
      if (a.rev >= 0 && keys.status().code() == Code::kInvalidRequest) {
        auto compact = etcd.CompactRevision();
        const std::string oldest =
            compact ? fmt::format("--rev {} or later", *compact + 1) : std::string("a later --rev");
        ReportError("compacted",
                    fmt::format("{}; import-etcd --rev {} starts from the keys as at revision {}: "
                                "give {} (or no --rev: the keys as they are now)",
                                keys.status().message(), a.rev, out->base_revision, oldest));
        return kExitError;
      }
      return EtcdError(keys.status());
    }
    out->base = std::move(*keys);
  }
  // etcd's revision 1 is its empty start: changes begin at 2.
  const int64_t from = std::max<int64_t>(a.rev, 2);
  if (a.rev >= 0 && from <= out->head) {
    auto revisions = etcd.ChangesBetween(from, out->head, a.prefix);
    if (!revisions) return EtcdError(revisions.status());
    out->revisions = std::move(*revisions);
    for (EtcdRevision& r : out->revisions) KeepLastChangePerKey(&r);
  }
  return kExitOk;
}

int ReportUnimportable(const std::vector<std::string>& problems) {
  ReportError("unimportable",
              fmt::format("{} {} chronoconf cannot hold (a key is UTF-8 text of 1–1024 bytes "
                          "without control characters, a value UTF-8 text); nothing was "
                          "written. Import a --prefix that leaves them out, or fix them in etcd "
                          "first",
                          problems.size(), problems.size() == 1 ? "key or value" : "keys or values"));
  std::string lines;
  for (size_t i = 0; i < problems.size() && i < kProblemsShown; ++i) {
    lines += fmt::format("  {}\n", problems[i]);
  }
  if (problems.size() > kProblemsShown) {
    lines += fmt::format("  … and {} more\n", problems.size() - kProblemsShown);
  }
  std::fwrite(lines.data(), 1, lines.size(), stderr);
  return kExitError;
}

// The error of a non-2xx answer of the etcd gateway, whose body is
// grpc-gateway's {"error":M,"message":M,"code":N}.
int ReportGatewayError(const client::HttpResponse& res) {
  std::string message;
  if (auto body = json::Parse(res.body); body && body->is_object()) {
    message = FieldText(*body, "message");
  }
  if (message.empty()) message = ErrorFromResponse(res.status, res.body).message;
  ReportError(fmt::format("http_{}", res.status), message);
  return ExitCodeForHttpStatus(res.status);
}

// "1 key", "3 keys"
std::string Keys(size_t n) { return fmt::format("{} key{}", n, n == 1 ? "" : "s"); }

// "put a/b, delete c"
std::string Summary(const std::vector<EtcdChange>& changes) {
  std::string out;
  for (const EtcdChange& c : changes) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", c.deleted ? "delete" : "put", SanitizeCell(c.key));
  }
  return out;
}

class Importer {
 public:
  Importer(ClientSession& s, const ImportEtcdArgs& a, const std::string& endpoint)
      : s_(s), a_(a), endpoint_(endpoint), progress_(!s.dry_run() && isatty(STDERR_FILENO) == 1) {}

  // The keys as at `etcd_revision`, through POST /v1/import.
  int Base(const std::vector<EtcdKeyValue>& keys, int64_t etcd_revision, bool head) {
    const std::string reason =
        head ? fmt::format("import-etcd from {}: etcd revision {}", endpoint_, etcd_revision)
             : fmt::format("import-etcd from {}: the keys as at etcd revision {}", endpoint_,
                           etcd_revision);
    auto parts = SplitKeys(keys);
    for (size_t i = 0; i < parts.size(); ++i) {
      Query q;
      client::HttpResponse res;
      const std::string body = ImportBody(parts[i], a_.prefix, PartReason(reason, i + 1, parts.size()));
      if (int rc = s_.Call("POST", "/v1/import" + DryRunQuery(s_, q).str(), body, &res)) {
        return rc;
      }
      if (s_.dry_run()) {
        s_.Print(fmt::format("{} as at etcd revision {}{}:\n", Keys(parts[i].size()), etcd_revision,
                             parts.size() > 1 ? fmt::format(" (part {} of {})", i + 1, parts.size())
                                              : std::string()));
        if (int rc = PrintDryRun(s_, res)) return rc;
        continue;
      }
      json::Value reply;
      if (int rc = s_.ParseBody(res, &reply)) return rc;
      const json::Value* changed = reply.Find("changed");
      Note({etcd_revision, true, FieldInt(reply, "revision"), FieldInt(reply, "events"),
            changed != nullptr && changed->as_bool()});
    }
    return kExitOk;
  }

  // One etcd revision, through POST /v3/kv/txn. A dry run prints it: the
  // server cannot decide it against a state the commits before it have not
  // made yet.
  int Revision(const EtcdRevision& r) {
    const std::string reason = fmt::format("import-etcd from {}: etcd revision {}", endpoint_,
                                           r.revision);
    auto parts = SplitChanges(r.changes);
    for (size_t i = 0; i < parts.size(); ++i) {
      if (s_.dry_run()) {
        s_.Print(fmt::format("etcd revision {}{}: would commit {}\n", r.revision,
                             parts.size() > 1 ? fmt::format(" (part {} of {})", i + 1, parts.size())
                                              : std::string(),
                             Summary(parts[i])));
        continue;
      }
      client::Headers headers = s_.BaseHeaders();
      headers["X-Reason"] = client::UrlEncode(PartReason(reason, i + 1, parts.size()));
      auto res = s_.http().Request("POST", "/v3/kv/txn", TxnBody(parts[i]), headers);
      if (!res) {
        ReportError("unreachable", res.status().message());
        return kExitError;
      }
      if (res->status != 200) return ReportGatewayError(*res);
      etcdserverpb::TxnResponse txn;
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = true;
      if (!google::protobuf::util::JsonStringToMessage(res->body, &txn, options).ok()) {
        ReportError("invalid_response", "the server's /v3/kv/txn answer is not a TxnResponse");
        return kExitError;
      }
      // Every put commits (as etcd's); a delete of a key the server does not
      // hold does not (deleted 0), so a revision of only such deletes makes
      // no commit.
      int64_t events = 0;
      for (const auto& op : txn.responses()) {
        events += op.has_response_put() ? 1 : op.response_delete_range().deleted();
      }
      Note({r.revision, false, txn.header().revision(), events, events > 0});
    }
    return kExitOk;
  }

  void Progress(int64_t done, int64_t total) {
    if (progress_) std::fputs(ProgressBar(done, total, "etcd revisions").c_str(), stderr);
  }

  // Where an import that failed stopped, and how to go on: `rerun` is the
  // command line's tail that continues it (the keys as at a revision are
  // imported by merging, so importing them again changes nothing).
  void ReportStop(std::string_view where, std::string_view rerun) const {
    const int64_t first = FirstCommitted();
    std::string done = first < 0 ? std::string("nothing was imported")
                                 : fmt::format("what came before it is imported (revision{} {})",
                                               first == last_revision_ ? "" : "s",
                                               first == last_revision_
                                                   ? fmt::format("{}", first)
                                                   : fmt::format("{}–{}", first, last_revision_));
    std::string line = fmt::format("stopped at {}: {}; run again{} to go on\n", where, done, rerun);
    std::fwrite(line.data(), 1, line.size(), stderr);
  }

  void SetStartRevision(int64_t head) { last_revision_ = head; }

  int Finish(const Source& src) {
    if (progress_ && !src.revisions.empty()) std::fputs("\n", stderr);
    if (s_.dry_run()) return kExitOk;
    if (s_.json()) {
      json::Writer w;
      w.BeginObject().Field("source", endpoint_).Field("etcd_revision", src.head);
      w.Key("commits").BeginArray();
      for (const Made& m : made_) {
        w.BeginObject().Field("etcd_revision", m.etcd_revision);
        if (m.base) w.Field("keys_as_at", true);
        w.Field("revision", m.revision).Field("changed", m.changed).Field("events", m.events);
        w.EndObject();
      }
      w.EndArray().EndObject();
      s_.PrintBody(w.Take());
      return kExitOk;
    }
    int64_t commits = 0, events = 0;
    for (const Made& m : made_) {
      commits += m.changed ? 1 : 0;
      events += m.events;
    }
    std::string what = src.revisions.empty()
                           ? fmt::format("{} as at etcd revision {}", Keys(src.base.size()),
                                         src.base_revision)
                           : fmt::format("{} as at etcd revision {} and {} etcd revisions "
                                         "({}–{})",
                                         Keys(src.base.size()), src.base_revision,
                                         src.revisions.size(), src.revisions.front().revision,
                                         src.revisions.back().revision);
    if (commits == 0) {
      s_.Print(fmt::format("imported {} from {}: nothing to change (revision {})\n", what,
                           endpoint_, last_revision_));
      return kExitOk;
    }
    const int64_t first = FirstCommitted();
    s_.Print(fmt::format("imported {} from {}: {} in {} {} (revision{} {})\n", what, endpoint_,
                         Changes(events), commits, commits == 1 ? "commit" : "commits",
                         commits == 1 ? "" : "s",
                         commits == 1 ? fmt::format("{}", first)
                                      : fmt::format("{}–{}", first, last_revision_)));
    return kExitOk;
  }

 private:
  void Note(const Made& m) {
    made_.push_back(m);
    if (m.changed) last_revision_ = std::max(last_revision_, m.revision);
  }

  int64_t FirstCommitted() const {
    for (const Made& m : made_) {
      if (m.changed) return m.revision;
    }
    return -1;
  }

  ClientSession& s_;
  const ImportEtcdArgs& a_;
  std::string endpoint_;
  bool progress_;
  std::vector<Made> made_;
  int64_t last_revision_ = 0;
};

// The server's head before the import, so that the first revision commit's
// answer can tell whether it committed.
int ServerHead(ClientSession& s, int64_t* head) {
  client::HttpResponse res;
  if (int rc = s.Call("GET", "/v1/status", {}, &res)) return rc;
  json::Value status;
  if (int rc = s.ParseBody(res, &status)) return rc;
  *head = FieldInt(status, "revision", 0);
  return kExitOk;
}

}  // namespace

int RunImportEtcd(ClientSession& s, const ImportEtcdArgs& a) {
  if (Status p = ValidatePrefix(a.prefix); !p.ok()) {
    return UsageError(fmt::format("--prefix: {}", p.message()));
  }
  auto etcd = EtcdSource::Open(a.endpoints);
  if (!etcd) return UsageError(etcd.status().message());
  // The server first: a wrong --server or token is named before etcd is read.
  int64_t head = 0;
  if (int rc = ServerHead(s, &head)) return rc;

  Source src;
  if (int rc = ReadSource(**etcd, a, &src)) return rc;
  if (auto problems = FindUnimportable(src.base, src.base_revision, src.revisions);
      !problems.empty()) {
    return ReportUnimportable(problems);
  }

  Importer importer(s, a, (*etcd)->endpoint());
  importer.SetStartRevision(head);
  if (!src.base.empty()) {
    if (int rc = importer.Base(src.base, src.base_revision, a.rev < 0)) {
      importer.ReportStop(fmt::format("the keys as at etcd revision {}", src.base_revision),
                          a.rev < 0 ? "" : fmt::format(" with --rev {}", a.rev));
      return rc;
    }
  }
  if (s.dry_run() && src.base.empty() && src.revisions.empty()) {
    s.Print(fmt::format("dry run: nothing to import (etcd revision {})\n", src.head));
  }
  for (size_t i = 0; i < src.revisions.size(); ++i) {
    if (int rc = importer.Revision(src.revisions[i])) {
      const int64_t r = src.revisions[i].revision;
      importer.ReportStop(fmt::format("etcd revision {}", r), fmt::format(" with --rev {}", r));
      return rc;
    }
    importer.Progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(src.revisions.size()));
  }
  return importer.Finish(src);
}

}  // namespace chronoconf::cli
