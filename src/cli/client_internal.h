// Internal to src/cli: the arguments and the Run* functions of the client
// subcommands (client_commands.cc declares their options and calls these),
// and small helpers for reading server responses.
//
// A Run* function returns the exit code (client_session.h) and has already
// reported any error on stderr. With --json it prints the server's body as
// is; a listing that took several pages is printed as one document of the
// same shape holding every page.
//
// Thread safety: none; a command runs on one thread.
#ifndef CHRONOCONF_CLI_CLIENT_INTERNAL_H_
#define CHRONOCONF_CLI_CLIENT_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/client_session.h"
#include "cli/output_format.h"
#include "json/json_value.h"

namespace chronoconf::cli {

// ---------------------------------------------------------------------------
// Arguments, as parsed by CLI11. -1 means "not given" for revisions and
// versions.

struct GetArgs {
  std::string key;
  int64_t at = -1;
  std::string at_time;
  bool raw = false;
};

struct SetArgs {
  std::string key;
  bool has_value = false;   // JSON was given
  std::string value;        // JSON text
  bool has_string = false;  // --string was given
  std::string string_value;
  int64_t expect = -1;
  bool absent = false;
  std::string reason;
};

struct DeleteArgs {
  std::string key;
  int64_t expect = -1;
  std::string reason;
};

struct LsArgs {
  std::string prefix;
  int64_t at = -1;
  std::string at_time;
};

struct HistoryArgs {
  std::string key;
};

struct LogArgs {
  int64_t from = 0;  // exclusive
  std::string actor;
  std::string prefix;
  std::string since;  // RFC 3339 times, passed through
  std::string until;
};

struct DiffArgs {
  std::string from;  // a revision, or else an RFC 3339 time
  std::string to;    // likewise; "" = the head
  std::string prefix;
};

struct RevertArgs {
  int64_t revision = 0;
  std::string prefix;
  std::string reason;
};

struct ImportArgs {
  std::string file;
  bool replace = false;
  std::string prefix;
  std::string reason;
};

struct ExportArgs {
  int64_t at = -1;
  std::string at_time;
  std::string format;  // json, env or yaml; "" = the server's default (json)
  std::string prefix;
};

struct SchemaSetArgs {
  std::string prefix;
  std::string file;  // the JSON Schema, or - for stdin
  std::string reason;
  bool force = false;  // set it even though current values break it
};

struct SchemaGetArgs {
  std::string prefix;  // "" = list every schema
  int64_t at = -1;
  std::string at_time;
};

struct SchemaRmArgs {
  std::string prefix;
  std::string reason;
};

// change propose: the ops are KEY=JSON sets, --delete KEYs and/or a file
// holding a txn body ({"ops":[…],"reason":…}, or the ops array alone).
struct ChangeProposeArgs {
  std::vector<std::string> sets;     // "KEY=JSON", split at the first '='
  std::vector<std::string> deletes;  // keys
  std::string file;                  // "" = none; "-" = stdin
  std::string reason;                // "" = the file's reason, if any
};

struct ChangeListArgs {
  std::string state = "open";  // open, applied, rejected or all
};

// change show, approve, reject and apply.
struct ChangeArgs {
  int64_t id = 0;
  std::string reason;  // approve, reject, apply: kept with the review
};

struct PolicySetArgs {
  std::string prefix;
  int64_t approvals = -1;
  std::string reason;
};

struct PolicyGetArgs {
  std::string prefix;  // "" = list every policy
};

struct PolicyRmArgs {
  std::string prefix;
  std::string reason;
};

struct ImportEtcdArgs {
  std::string endpoints;  // etcd's client URL
  int64_t rev = -1;       // -1: the keys at etcd's head; else the history from here on
  std::string prefix;     // only etcd keys starting with this
};

struct WatchArgs {
  std::string prefix;
  int64_t from = -1;
  int64_t count = 0;  // stop after this many events; 0 = never
};

// ---------------------------------------------------------------------------
// The commands.

int RunGet(ClientSession& s, const GetArgs& a);  // client_kv.cc
int RunSet(ClientSession& s, const SetArgs& a);
int RunDelete(ClientSession& s, const DeleteArgs& a);
int RunLs(ClientSession& s, const LsArgs& a);  // client_list.cc
int RunHistory(ClientSession& s, const HistoryArgs& a);
int RunLog(ClientSession& s, const LogArgs& a);
int RunDiff(ClientSession& s, const DiffArgs& a);
int RunRevert(ClientSession& s, const RevertArgs& a);  // client_bulk.cc
int RunImport(ClientSession& s, const ImportArgs& a);
int RunExport(ClientSession& s, const ExportArgs& a);
int RunImportEtcd(ClientSession& s, const ImportEtcdArgs& a);  // client_import_etcd.cc
int RunStatus(ClientSession& s);
int RunWatch(ClientSession& s, const WatchArgs& a);  // client_watch.cc
int RunSchemaSet(ClientSession& s, const SchemaSetArgs& a);  // client_schema.cc
int RunSchemaGet(ClientSession& s, const SchemaGetArgs& a);
int RunSchemaRm(ClientSession& s, const SchemaRmArgs& a);
int RunChangePropose(ClientSession& s, const ChangeProposeArgs& a);  // client_change.cc
int RunChangeList(ClientSession& s, const ChangeListArgs& a);
int RunChangeShow(ClientSession& s, const ChangeArgs& a);
// `action` is approve, reject or apply.
int RunChangeAction(ClientSession& s, std::string_view action, const ChangeArgs& a);
int RunPolicySet(ClientSession& s, const PolicySetArgs& a);  // client_policy.cc
int RunPolicyGet(ClientSession& s, const PolicyGetArgs& a);
int RunPolicyRm(ClientSession& s, const PolicyRmArgs& a);

// ---------------------------------------------------------------------------
// Helpers (client_fields.cc).

// --dry-run: appends dry_run=true to `q` when the session asks for it.
inline Query& DryRunQuery(const ClientSession& s, Query& q) {
  return s.dry_run() ? q.Add("dry_run", "true") : q;
}
// Prints a 200 dry-run answer: the server's document with --json, else the
// would-be revision and one line per event (client_dry_run.cc).
int PrintDryRun(ClientSession& s, const client::HttpResponse& res);

// The answer to a write command that is left for the command to print:
// none when `done` (a dry run's or --json's answer was printed already, or
// the call failed with exit code `rc`).
struct WriteAnswer {
  int rc = kExitOk;
  bool done = false;
  int status = 0;      // the HTTP status (201: created)
  json::Value reply;   // the parsed body, unless done
};
// Sends a write (PUT, POST, DELETE) of `body` to `path` with `q`, plus
// dry_run=true under --dry-run (client_dry_run.cc).
WriteAnswer CallWrite(ClientSession& s, std::string_view method, const std::string& path,
                      Query q, std::string_view body = {}, const client::Headers& extra = {});
// How a set went: "created" (201), "kept" (a no-op, "changed":false) or
// `otherwise`.
inline const char* SetVerb(const WriteAnswer& w, const char* otherwise) {
  const json::Value* changed = w.reply.Find("changed");
  if (changed != nullptr && changed->is_bool() && !changed->as_bool()) return "kept";
  return w.status == 201 ? "created" : otherwise;
}

// Reads FILE, or stdin for "-" (client_bulk.cc). Returns false with *error
// set on failure.
bool ReadInput(const std::string& file, std::string* out, std::string* error);

// Cells longer than this are cut on a terminal (never when piped).
inline constexpr size_t kValueWidth = 60;
inline constexpr size_t kReasonWidth = 40;

// A string member decoded, any other member as its JSON text; `absent` when
// the member is missing or null.
std::string FieldText(const json::Value& obj, std::string_view name, std::string_view absent = "");
// A member's JSON text (a config value: `null` stays `null`), `absent` when
// the member is missing.
std::string FieldJson(const json::Value& obj, std::string_view name, std::string_view absent = "-");
// An integer member, `absent` when missing or not an integer.
int64_t FieldInt(const json::Value& obj, std::string_view name, int64_t absent = -1);
// The items of an array member (empty when missing).
const std::vector<json::Value>& FieldItems(const json::Value& obj, std::string_view name);

// True for a non-empty string of ASCII digits.
bool IsDigits(std::string_view s);
// "1 change", "3 changes".
std::string Changes(int64_t n);
// Green for ConfigSet, red for ConfigDeleted.
Colour TypeColour(std::string_view type);
// Reports a usage error found after parsing; returns kExitUsage.
int UsageError(std::string_view message);
// kExitOk, or reports and returns kExitUsage for an empty KEY.
int NotEmptyKey(std::string_view key);
// {<raw_members…>, "<list_name>": [items…]} with each item minified.
std::string MergedListing(const std::vector<std::pair<std::string, std::string>>& raw_members,
                          std::string_view list_name, const std::vector<json::Value>& items);

}  // namespace chronoconf::cli

#endif  // CHRONOCONF_CLI_CLIENT_INTERNAL_H_
