// Declares the client subcommands and their options (CLI11) and runs the
// chosen one (client_internal.h) with a ClientSession.
#include "cli/client_commands.h"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "cli/client_internal.h"
#include "cli/friendly_time.h"

namespace chronoconf::cli {
namespace {

struct State {
  int* exit_code = nullptr;
  GlobalOptions global;
  GetArgs get;
  SetArgs set;
  DeleteArgs del;
  LsArgs ls;
  HistoryArgs history;
  LogArgs log;
  DiffArgs diff;
  RevertArgs revert;
  ImportArgs import;
  ExportArgs exp;
  WatchArgs watch;
  ImportEtcdArgs import_etcd;
  SchemaSetArgs schema_set;
  SchemaGetArgs schema_get;
  SchemaRmArgs schema_rm;
  ChangeProposeArgs change_propose;
  ChangeListArgs change_list;
  ChangeArgs change;  // show, approve, reject, apply (one runs)
  PolicySetArgs policy_set;
  PolicyGetArgs policy_get;
  PolicyRmArgs policy_rm;
};

// Runs `run` with a session when `sub` was chosen, and stores its exit code.
void OnRun(CLI::App* sub, const std::shared_ptr<State>& st,
           std::function<int(ClientSession&)> run) {
  sub->callback([st, run = std::move(run)] {
    int rc = kExitError;
    SetJsonErrors(st->global.json);
    try {
      ClientSession session(st->global);
      rc = session.Validate();
      if (rc == kExitOk) rc = run(session);
    } catch (const std::exception& e) {
      ReportError("internal", e.what());
      rc = kExitError;
    }
    std::fflush(stdout);
    *st->exit_code = rc;
  });
}

CLI::App* AddClient(CLI::App& app, const std::shared_ptr<State>& st, const std::string& name,
                    const std::string& description, bool writes) {
  CLI::App* sub = app.add_subcommand(name, description);
  sub->add_option("--server", st->global.server,
                  "server URL (default: $CHRONOCONF_SERVER, else http://127.0.0.1:7700)");
  sub->add_flag("--json", st->global.json, "print the server's JSON response as is");
  if (writes) {
    sub->add_option("--actor", st->global.actor,
                    "who makes the change (sent as X-Actor; with auth on, the token decides)");
    sub->add_flag("--dry-run", st->global.dry_run,
                  "print what would be committed (or why it would be refused); write nothing");
  }
  return sub;
}

// Turns a friendly time ("2h ago", "2026-11-30") into RFC 3339 while the
// command line is parsed, so that a bad one is a usage error (exit 2) that
// names the option, before anything is sent.
CLI::Validator FriendlyTime(bool revisions_too) {
  return CLI::Validator(
      [revisions_too](std::string& text) -> std::string {
        if (revisions_too && IsDigits(text)) return "";
        auto t = ToRfc3339Now(text);
        if (!t) return t.status().message();
        text = *t;
        return "";
      },
      "TIME");
}

// A whole number from `min` to INT64_MAX, checked as text: CLI11's own
// checks print their range as a 300-digit double, and its conversion clamps
// a number too large for the option silently.
CLI::Validator WholeNumber(int64_t min = 0) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        int64_t v = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || p != text.data() + text.size() || v < min) {
          return fmt::format("must be a whole number from {} to {}, not '{}'", min, INT64_MAX,
                             text);
        }
        return "";
      },
      "NUMBER");
}

void AddAtOptions(CLI::App* sub, int64_t* at, std::string* at_time) {
  CLI::Option* rev = sub->add_option("--at", *at, "as at this revision")->check(WholeNumber());
  CLI::Option* time =
      sub->add_option("--at-time", *at_time,
                      "as at this time: RFC 3339 (2026-11-26T14:00:00Z), a date (2026-11-26, "
                      "midnight UTC) or a time ago (90s ago, 2h ago, 3d ago)")
          ->transform(FriendlyTime(false));
  rev->excludes(time);
}

// schema set|get|rm (SPEC §8): a parent command whose subcommands are the
// client commands, so they take --server, --json and --actor like the others.
void AddSchemaCommands(CLI::App& app, const std::shared_ptr<State>& st) {
  State& s = *st;
  CLI::App* schema =
      app.add_subcommand("schema", "the JSON Schemas values under a prefix must satisfy");
  schema->require_subcommand(1);

  CLI::App* set = AddClient(*schema, st, "set", "set (or replace) the schema of a prefix", true);
  set->add_option("PREFIX", s.schema_set.prefix, "the keys it covers start with this")->required();
  set->add_option("FILE", s.schema_set.file, "the JSON Schema file, or - for stdin")->required();
  set->add_option("--reason", s.schema_set.reason, "why (kept in the audit log)");
  set->add_flag("--force", s.schema_set.force, "set it even though current values break it");
  OnRun(set, st, [st](ClientSession& c) { return RunSchemaSet(c, st->schema_set); });

  CLI::App* get =
      AddClient(*schema, st, "get", "print a prefix's schema, or list every schema", false);
  get->add_option("PREFIX", s.schema_get.prefix, "the prefix (default: list them all)");
  CLI::Option* rev = get->add_option("--at-revision,--at", s.schema_get.at, "as at this revision")
                         ->check(WholeNumber());
  CLI::Option* time = get->add_option("--at-time", s.schema_get.at_time,
                                      "as at this time (RFC 3339, a date, or '2h ago')")
                          ->transform(FriendlyTime(false));
  rev->excludes(time);
  OnRun(get, st, [st](ClientSession& c) { return RunSchemaGet(c, st->schema_get); });

  CLI::App* rm = AddClient(*schema, st, "rm", "delete the schema of a prefix", true);
  rm->alias("delete");
  rm->add_option("PREFIX", s.schema_rm.prefix, "the prefix")->required();
  rm->add_option("--reason", s.schema_rm.reason, "why (kept in the audit log)");
  OnRun(rm, st, [st](ClientSession& c) { return RunSchemaRm(c, st->schema_rm); });
}

// change propose|list|show|approve|reject|apply (SPEC §8): writes under a
// prefix with a review policy, proposed, reviewed by others, then applied.
void AddChangeCommands(CLI::App& app, const std::shared_ptr<State>& st) {
  State& s = *st;
  CLI::App* change = app.add_subcommand(
      "change", "review changes: propose a write under a reviewed prefix, approve, apply");
  change->require_subcommand(1);

  CLI::App* propose = AddClient(
      *change, st, "propose",
      "propose a change: KEY=JSON sets, --delete KEY, and/or --file with a txn body", true);
  propose
      ->add_option("KEY=JSON", s.change_propose.sets,
                   "set KEY to a JSON value (a string needs quotes: 'mode=\"on\"')");
  propose->add_option("--delete", s.change_propose.deletes, "delete this key (repeatable)")
      ->allow_extra_args(false);
  propose->add_option("--file,-f", s.change_propose.file,
                      R"(a txn body {"ops":[{"op":"set","key":K,"value":V},...],"reason":R} )"
                      "or its ops array; - for stdin");
  propose->add_option("--reason", s.change_propose.reason,
                      "why (kept in the audit log; default: the file's reason)");
  OnRun(propose, st, [st](ClientSession& c) { return RunChangePropose(c, st->change_propose); });

  CLI::App* list = AddClient(*change, st, "list",
                             "list changes (ID STATE PROPOSER APPROVALS KEYS REASON)", false);
  list->alias("ls");
  list->add_option("--state", s.change_list.state, "open (default), applied, rejected or all")
      ->check(CLI::IsMember({"open", "applied", "rejected", "all"}));
  OnRun(list, st, [st](ClientSession& c) { return RunChangeList(c, st->change_list); });

  CLI::App* show = AddClient(*change, st, "show",
                             "a change: its diff (before -> after per key) and its reviews", false);
  show->add_option("ID", s.change.id, "the change id")->required()->check(WholeNumber(1));
  OnRun(show, st, [st](ClientSession& c) { return RunChangeShow(c, st->change); });

  const std::pair<const char*, const char*> actions[] = {
      {"approve", "approve a change (not your own; only inside your token's prefixes)"},
      {"reject", "reject a change: it is closed and can no longer be applied"},
      {"apply", "apply an approved change as one commit naming it and its approvers"},
  };
  for (const auto& [name, description] : actions) {
    CLI::App* sub = AddClient(*change, st, name, description, true);
    sub->add_option("ID", s.change.id, "the change id")->required()->check(WholeNumber(1));
    sub->add_option("--reason", s.change.reason, "why (kept in the audit log)");
    OnRun(sub, st, [st, action = std::string(name)](ClientSession& c) {
      return RunChangeAction(c, action, st->change);
    });
  }
}

// policy set|get|rm (SPEC §8): how many approvals a change under a prefix
// needs; an admin sets them.
void AddPolicyCommands(CLI::App& app, const std::shared_ptr<State>& st) {
  State& s = *st;
  CLI::App* policy = app.add_subcommand(
      "policy", "review policies: how many approvals a change under a prefix needs");
  policy->require_subcommand(1);

  CLI::App* set = AddClient(*policy, st, "set",
                            "set (or replace) the review policy of a prefix (admin)", true);
  set->add_option("PREFIX", s.policy_set.prefix, "the keys it covers start with this")->required();
  set->add_option("--approvals", s.policy_set.approvals,
                  "approvals a change needs, from tokens other than the proposer's (0 lifts it)")
      ->required()
      ->check(WholeNumber());
  set->add_option("--reason", s.policy_set.reason, "why (kept in the audit log)");
  OnRun(set, st, [st](ClientSession& c) { return RunPolicySet(c, st->policy_set); });

  CLI::App* get =
      AddClient(*policy, st, "get", "a prefix's review policy, or list every policy", false);
  get->add_option("PREFIX", s.policy_get.prefix, "the prefix (default: list them all)");
  OnRun(get, st, [st](ClientSession& c) { return RunPolicyGet(c, st->policy_get); });

  CLI::App* rm = AddClient(*policy, st, "rm", "delete the review policy of a prefix (admin)", true);
  rm->alias("delete");
  rm->add_option("PREFIX", s.policy_rm.prefix, "the prefix")->required();
  rm->add_option("--reason", s.policy_rm.reason, "why (kept in the audit log)");
  OnRun(rm, st, [st](ClientSession& c) { return RunPolicyRm(c, st->policy_rm); });
}

}  // namespace

void AddClientCommands(CLI::App& app, int* exit_code) {
  auto st = std::make_shared<State>();
  st->exit_code = exit_code;
  State& s = *st;

  // --server and --json are accepted before the subcommand too.
  if (app.get_option_no_throw("--server") == nullptr) {
    app.add_option("--server", s.global.server,
                   "server URL for the client commands (default: $CHRONOCONF_SERVER, else "
                   "http://127.0.0.1:7700)");
  }
  if (app.get_option_no_throw("--json") == nullptr) {
    app.add_flag("--json", s.global.json, "client commands: print the server's JSON as is");
  }

  CLI::App* get = AddClient(app, st, "get", "print a key's value", false);
  get->add_option("KEY", s.get.key, "the key")->required();
  AddAtOptions(get, &s.get.at, &s.get.at_time);
  get->add_flag("--raw", s.get.raw, "print a string value's text without JSON quotes");
  OnRun(get, st, [st](ClientSession& c) { return RunGet(c, st->get); });

  CLI::App* set = AddClient(app, st, "set", "set a key to a JSON value", true);
  set->add_option("KEY", s.set.key, "the key")->required();
  CLI::Option* value_opt = set->add_option(
      "JSON", s.set.value, "the value as JSON text (a string needs quotes: '\"on\"')");
  CLI::Option* string_opt =
      set->add_option("--string,-s", s.set.string_value, "set this text as a JSON string value");
  string_opt->excludes(value_opt);
  set->add_option("--expect", s.set.expect, "fail with a conflict unless the key has this version")
      ->check(WholeNumber());
  set->add_flag("--absent", s.set.absent, "fail with a conflict if the key exists");
  set->add_option("--reason", s.set.reason, "why (kept in the audit log)");
  OnRun(set, st, [st, value_opt, string_opt](ClientSession& c) {
    st->set.has_value = value_opt->count() > 0;
    st->set.has_string = string_opt->count() > 0;
    return RunSet(c, st->set);
  });

  CLI::App* del = AddClient(app, st, "delete", "delete a key", true);
  del->alias("rm");
  del->add_option("KEY", s.del.key, "the key")->required();
  del->add_option("--expect", s.del.expect, "fail with a conflict unless the key has this version")
      ->check(WholeNumber());
  del->add_option("--reason", s.del.reason, "why (kept in the audit log)");
  OnRun(del, st, [st](ClientSession& c) { return RunDelete(c, st->del); });

  CLI::App* ls = AddClient(app, st, "ls", "list keys (KEY VERSION MODIFIED VALUE)", false);
  ls->add_option("PREFIX", s.ls.prefix, "only keys starting with this");
  AddAtOptions(ls, &s.ls.at, &s.ls.at_time);
  OnRun(ls, st, [st](ClientSession& c) { return RunLs(c, st->ls); });

  CLI::App* history = AddClient(app, st, "history", "a key's changes, newest first", false);
  history->add_option("KEY", s.history.key, "the key")->required();
  OnRun(history, st, [st](ClientSession& c) { return RunHistory(c, st->history); });

  CLI::App* log = AddClient(app, st, "log", "the audit log of every change, oldest first", false);
  log->add_option("--from", s.log.from, "only commits after this revision")
      ->check(WholeNumber());
  log->add_option("--actor", s.log.actor, "only commits by this actor");
  log->add_option("--prefix", s.log.prefix, "only keys starting with this");
  log->add_option("--since", s.log.since,
                  "only commits at or after this time (RFC 3339, a date, or '2h ago')")
      ->transform(FriendlyTime(false));
  log->add_option("--until", s.log.until,
                  "only commits before this time (RFC 3339, a date, or '2h ago')")
      ->transform(FriendlyTime(false));
  OnRun(log, st, [st](ClientSession& c) { return RunLog(c, st->log); });

  CLI::App* diff = AddClient(app, st, "diff", "what changed between two revisions", false);
  diff->add_option("REV1", s.diff.from, "from this revision (or a time: RFC 3339, a date, '2h ago')")
      ->required()
      ->transform(FriendlyTime(true));
  diff->add_option("REV2", s.diff.to, "to this revision (or time; default: the head)")
      ->transform(FriendlyTime(true));
  diff->add_option("--prefix", s.diff.prefix, "only keys starting with this");
  OnRun(diff, st, [st](ClientSession& c) { return RunDiff(c, st->diff); });

  CLI::App* revert =
      AddClient(app, st, "revert", "make the config equal to its state at REV again", true);
  revert->add_option("REV", s.revert.revision, "the revision to go back to")
      ->required()
      ->check(WholeNumber());
  revert->add_option("--prefix", s.revert.prefix, "only keys starting with this");
  revert->add_option("--reason", s.revert.reason, "why (kept in the audit log)");
  OnRun(revert, st, [st](ClientSession& c) { return RunRevert(c, st->revert); });

  CLI::App* watch =
      AddClient(app, st, "watch", "print changes as they happen, until interrupted", false);
  watch->add_option("PREFIX", s.watch.prefix, "only keys starting with this");
  watch
      ->add_option("--from", s.watch.from,
                   "first replay the commits after this revision (0: all of them)")
      ->check(WholeNumber());
  watch->add_option("--count", s.watch.count, "exit after this many events")
      ->check(WholeNumber(1));
  OnRun(watch, st, [st](ClientSession& c) { return RunWatch(c, st->watch); });

  CLI::App* import = AddClient(
      app, st, "import", R"(set many keys in one commit from a JSON object {"key": value})", true);
  import->add_option("FILE", s.import.file, "the JSON file, or - for stdin")->required();
  import->add_flag("--replace", s.import.replace,
                   "also delete the keys (under --prefix) that the file does not name");
  import->add_option("--prefix", s.import.prefix, "every key must start with this");
  import->add_option("--reason", s.import.reason, "why (kept in the audit log)");
  OnRun(import, st, [st](ClientSession& c) { return RunImport(c, st->import); });

  CLI::App* import_etcd = AddClient(
      app, st, "import-etcd",
      "copy a live etcd's keys (or its history from --rev on) into the server", true);
  import_etcd
      ->add_option("--endpoints", s.import_etcd.endpoints,
                   "etcd's client URL (http://host:port, as etcdctl's --endpoints)")
      ->required();
  import_etcd
      ->add_option("--rev", s.import_etcd.rev,
                   "copy etcd's history from this revision on, one commit per etcd revision "
                   "(default: only the keys as they are now)")
      ->check(WholeNumber(1));
  import_etcd->add_option("--prefix", s.import_etcd.prefix, "only keys starting with this");
  OnRun(import_etcd, st, [st](ClientSession& c) { return RunImportEtcd(c, st->import_etcd); });

  CLI::App* exp = AddClient(app, st, "export", "print the config as a file", false);
  AddAtOptions(exp, &s.exp.at, &s.exp.at_time);
  exp->add_option("--format", s.exp.format, "json (default), env or yaml")
      ->check(CLI::IsMember({"json", "env", "yaml"}));
  exp->add_option("--prefix", s.exp.prefix, "only keys starting with this");
  OnRun(exp, st, [st](ClientSession& c) { return RunExport(c, st->exp); });

  CLI::App* status = AddClient(app, st, "status", "the server's revision, size and store", false);
  OnRun(status, st, [](ClientSession& c) { return RunStatus(c); });

  AddSchemaCommands(app, st);
  AddChangeCommands(app, st);
  AddPolicyCommands(app, st);
}

}  // namespace chronoconf::cli