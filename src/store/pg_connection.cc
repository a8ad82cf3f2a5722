#include "store/pg_connection.h"

#include <libpq-fe.h>

#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace chronoconf::pg {

Status StatusFromSqlState(std::string_view sqlstate, std::string message) {
  if (sqlstate == "23505" || sqlstate == "40001" || sqlstate == "40P01") {
    return Status(Code::kConflict, std::move(message));
  }
  if (sqlstate.starts_with("22")) return Status::InvalidRequest(std::move(message));
  return Status::Unavailable(std::move(message));
}

PgResult::~PgResult() { PQclear(r_); }

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

int PgResult::rows() const { return r_ ? PQntuples(r_) : 0; }

bool PgResult::IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }

std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}

std::optional<std::string> PgResult::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

int64_t PgResult::Int(int row, int col) const {
  const char* p = PQgetvalue(r_, row, col);
  int64_t v = 0;
  std::from_chars(p, p + PQgetlength(r_, row, col), v);
  return v;
}

std::string_view PgResult::CommandStatus() const { return r_ ? PQcmdStatus(r_) : ""; }

std::string TextArray(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    if (!items[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string IntArray(const std::vector<int64_t>& items) {
  return fmt::format("{{{}}}", fmt::join(items, ","));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::broken() const {
  return conn_ == nullptr || broken_ || PQstatus(conn_) != CONNECTION_OK;
}

Status Connection::Ensure() {
  if (!broken()) {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) RollbackQuietly();
    return Status::OK();
  }
  if (conn_ == nullptr) {
    // Our defaults come first so that the URL's own settings win.
    const char* keys[] = {"connect_timeout", "client_encoding", "application_name", "dbname",
                          nullptr};
    const char* values[] = {"5", "UTF8", "chronoconf", url_.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  } else {
    PQreset(conn_);
  }
  prepared_.clear();
  broken_ = false;
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Status::Unavailable(fmt::format("postgres: cannot connect: {}", why));
  }
  // Notices ("relation already exists, skipping") are not errors: keep them
  // off stderr, which belongs to the program's own log.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  // Durable on COMMIT whatever the server's default (SPEC §6).
  auto r = Exec("set synchronous_commit", "SET synchronous_commit = on");
  return r ? Status::OK() : r.status();
}

Result<PgResult> Connection::Check(std::string_view what, pg_result* raw) {
  PgResult r(raw);
  ExecStatusType st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
  const char* state = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = raw ? PQresultErrorMessage(raw) : PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::string_view sqlstate = state ? state : "";
  // No SQLSTATE: libpq lost the server; 08/57P: the server dropped us.
  if (sqlstate.empty() || sqlstate.starts_with("08") || sqlstate.starts_with("57P") ||
      PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
  }
  return StatusFromSqlState(sqlstate, fmt::format("postgres: {}: {}", what, msg));
}

Result<PgResult> Connection::Exec(std::string_view what, const char* sql) {
  return Check(what, PQexec(conn_, sql));
}

Result<PgResult> Connection::Run(std::string_view what, const Statement& stmt,
                                 const Params& params) {
  if (!prepared_.contains(stmt.name)) {
    auto p = Check(what, PQprepare(conn_, stmt.name, stmt.sql, 0, nullptr));
    if (!p) return p.status();
    prepared_.insert(stmt.name);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Check(what, PQexecPrepared(conn_, stmt.name, static_cast<int>(values.size()),
                                    values.data(), nullptr, nullptr, /*resultFormat=*/0));
}

void Connection::RollbackQuietly() {
  if (conn_ == nullptr) return;
  PQclear(PQexec(conn_, "ROLLBACK"));
}

int Connection::Socket() const { return conn_ ? PQsocket(conn_) : -1; }

bool Connection::ConsumeInput() {
  if (conn_ == nullptr || PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    return false;
  }
  return true;
}

std::vector<std::string> Connection::TakeNotifications() {
  std::vector<std::string> out;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.emplace_back(n->extra ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

}  // namespace chronoconf::pg
