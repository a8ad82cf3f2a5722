#include "store/pg_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
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
  if (!broken() && PQtransactionStatus(conn_) != PQTRANS_IDLE) RollbackQuietly();
  if (!broken()) return Status::OK();  // (the rollback may have given up on it)
  if (conn_ == nullptr) {
    // Our defaults come first so that the URL's own settings win.
    static const std::string kConnect = std::to_string(kConnectTimeout.count());
    static const std::string kOptions =
        fmt::format("-c lock_timeout={} -c idle_in_transaction_session_timeout={}",
                    kLockTimeout.count(), 4 * kResponseTimeout.count());
    static const std::string kUserTimeout = std::to_string(kResponseTimeout.count());
    const char* keys[] = {"connect_timeout",    "client_encoding",   "application_name",
                          "keepalives",         "keepalives_idle",   "keepalives_interval",
                          "keepalives_count",   "tcp_user_timeout",  "options",
                          "dbname",             nullptr};
    const char* values[] = {kConnect.c_str(), "UTF8", "chronoconf", "1", "10", "5", "3",
                            kUserTimeout.c_str(), kOptions.c_str(), url_.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  } else {
    PQreset(conn_);
  }
  prepared_.clear();
  broken_ = false;
  gave_up_ = false;
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return Status::Unavailable(fmt::format("postgres: cannot connect: {}", why));
  }
  // Notices ("relation already exists, skipping") are not errors: keep them
  // off stderr, which belongs to the program's own log.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  // Queries are sent and awaited with a deadline (Await), never blocking.
  if (PQsetnonblocking(conn_, 1) != 0) {
    broken_ = true;
    return Status::Unavailable("postgres: cannot make the connection non-blocking");
  }
  // Durable on COMMIT whatever the server's default (SPEC §6); read-only
  // whatever the URL's options say.
  auto r = Exec("set session", read_only_ ? "SET synchronous_commit = on;"
                                            " SET default_transaction_read_only = on"
                                          : "SET synchronous_commit = on");
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

bool Connection::WaitSocket(short events, std::chrono::steady_clock::time_point deadline,
                            short* revents) {
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fd{PQsocket(conn_), events, 0};
    const int n = poll(&fd, 1, static_cast<int>(left.count()));
    if (n > 0) {
      *revents = fd.revents;
      return true;
    }
    if (n < 0 && errno != EINTR) {
      *revents = POLLERR;  // PQconsumeInput will say what is wrong
      return true;
    }
  }
}

Status Connection::GiveUp(std::string_view what) {
  // Closing is the only sure way out: a cancel request would need the same
  // unresponsive server (and PQcancel's connect has no timeout). The
  // server ends the backend's transaction when it sees the socket closed.
  PQfinish(conn_);
  conn_ = nullptr;
  broken_ = true;
  gave_up_ = true;
  prepared_.clear();
  return Status::Unavailable(fmt::format(
      "postgres: {}: the server sent nothing for {} ms; the connection was closed", what,
      kResponseTimeout.count()));
}

Result<PgResult> Connection::Await(std::string_view what, bool sent) {
  if (!sent) return Check(what, nullptr);
  using Steady = std::chrono::steady_clock;
  // The deadline moves on whenever the server sends something: a long
  // answer that keeps coming (verify reading a big history) is no outage.
  auto deadline = Steady::now() + kResponseTimeout;
  short revents = 0;
  int flushed;
  while ((flushed = PQflush(conn_)) == 1) {
    if (!WaitSocket(POLLOUT | POLLIN, deadline, &revents)) return GiveUp(what);
    if ((revents & POLLIN) != 0 && PQconsumeInput(conn_) == 0) return Check(what, nullptr);
    deadline = Steady::now() + kResponseTimeout;
  }
  if (flushed < 0) return Check(what, nullptr);
  pg_result* kept = nullptr;
  while (true) {
    while (PQisBusy(conn_) != 0) {
      if (!WaitSocket(POLLIN, deadline, &revents)) {
        PQclear(kept);
        return GiveUp(what);
      }
      if (PQconsumeInput(conn_) == 0) {
        PQclear(kept);
        return Check(what, nullptr);
      }
      deadline = Steady::now() + kResponseTimeout;
    }
    pg_result* r = PQgetResult(conn_);
    if (r == nullptr) break;
    // As PQexec: the last result, but an error is never replaced.
    const bool kept_error = kept != nullptr && PQresultStatus(kept) != PGRES_COMMAND_OK &&
                            PQresultStatus(kept) != PGRES_TUPLES_OK;
    if (kept_error) {
      PQclear(r);
    } else {
      PQclear(kept);
      kept = r;
    }
  }
  return Check(what, kept);
}

Result<PgResult> Connection::Exec(std::string_view what, const char* sql) {
  return Await(what, PQsendQuery(conn_, sql) == 1);
}

Result<PgResult> Connection::Run(std::string_view what, const Statement& stmt,
                                 const Params& params) {
  if (!prepared_.contains(stmt.name)) {
    auto p = Await(what, PQsendPrepare(conn_, stmt.name, stmt.sql, 0, nullptr) == 1);
    if (!p) return p.status();
    prepared_.insert(stmt.name);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Await(what, PQsendQueryPrepared(conn_, stmt.name, static_cast<int>(values.size()),
                                         values.data(), nullptr, nullptr,
                                         /*resultFormat=*/0) == 1);
}

void Connection::RollbackQuietly() {
  if (conn_ == nullptr) return;
  Exec("rollback", "ROLLBACK").status().IgnoreError();
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
