// A thin RAII layer over libpq for the PostgreSQL store: a connection that
// reconnects when it dropped, results that clear themselves, statements
// prepared once per connection, and the one mapping of SQLSTATEs to Status.
//
// Thread safety: none; each Connection is guarded by its owner's mutex.
#ifndef CHRONOCONF_STORE_PG_CONNECTION_H_
#define CHRONOCONF_STORE_PG_CONNECTION_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct pg_conn;
struct pg_result;

namespace chronoconf::pg {

// Maps a server error to a Status (SPEC §2.1): unique_violation (23505) and
// serialization failure / deadlock (40001, 40P01) are conflicts, another
// writer got there first and a retry may succeed; a data exception (22xxx) is
// a refused request; everything else, connection loss (08xxx, no SQLSTATE at
// all) and shutdowns (57Pxx) included, is kUnavailable.
Status StatusFromSqlState(std::string_view sqlstate, std::string message);

// One query's result; clears itself.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r) : r_(r) {}
  ~PgResult();
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;

  int rows() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;
  std::optional<std::string> OptText(int row, int col) const;
  // A BIGINT/INTEGER column (the server's text for it always parses).
  int64_t Int(int row, int col) const;
  // The command tag ("COMMIT", "ROLLBACK", "INSERT 0 3").
  std::string_view CommandStatus() const;

 private:
  pg_result* r_ = nullptr;
};

// A statement prepared under `name` the first time a connection runs it.
struct Statement {
  const char* name;
  const char* sql;
};

// Text parameters; nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

// A PostgreSQL array literal ('{"a","b",NULL}') for a text[] parameter.
std::string TextArray(const std::vector<std::optional<std::string>>& items);
std::string IntArray(const std::vector<int64_t>& items);

// Bounded waits (SPEC §6 "Every wait has a deadline"), on every connection:
//  - kConnectTimeout: connecting (connect_timeout), also on a reconnect;
//  - kLockTimeout: the server gives up waiting for a lock (lock_timeout,
//    SQLSTATE 55P03): the statement fails cleanly and nothing is written
//    (a LOCK TABLE or a DDL by another session, another node stuck holding
//    the append lock);
//  - kResponseTimeout: the client gives up on a server that sends nothing
//    for this long while it owes an answer (a stopped backend, a network
//    partition): the connection is closed and counts as lost, so a COMMIT
//    cut so has an unknown outcome;
//  - TCP keepalives and tcp_user_timeout find a dead peer on an idle
//    connection (LISTEN) and on unacknowledged sends;
//  - idle_in_transaction_session_timeout lets the server end a transaction
//    whose client vanished, so its locks do not block the other nodes.
// The server-side ones go in the `options` connection parameter, so a URL
// with its own `options` (or keepalive parameters) overrides them.
inline constexpr std::chrono::seconds kConnectTimeout{5};
inline constexpr std::chrono::milliseconds kLockTimeout{3000};
inline constexpr std::chrono::milliseconds kResponseTimeout{8000};

class Connection {
 public:
  // `url`: a postgres:// URL or a "key=value" string; nothing connects yet.
  // `read_only`: every transaction is read-only (default_transaction_read_only),
  // whatever the URL says.
  explicit Connection(std::string url, bool read_only = false)
      : url_(std::move(url)), read_only_(read_only) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, or reconnects when the connection dropped, and rolls back a
  // transaction a failed call left open. kUnavailable when unreachable.
  Status Ensure();
  // Whether Ensure() will have to reconnect: also after a call that lost the
  // connection (or gave up on it), which tells a failed COMMIT whose outcome
  // is unknown from one the server refused.
  bool broken() const;
  // True when the last call closed the connection because the server sent
  // nothing in time (a hung server: reconnecting at once only adds the
  // connect timeout to the wait).
  bool gave_up() const { return gave_up_; }

  // Runs `sql` (may hold several statements, no parameters).
  Result<PgResult> Exec(std::string_view what, const char* sql);
  // Runs `stmt` with `params`, preparing it first on this connection.
  Result<PgResult> Run(std::string_view what, const Statement& stmt, const Params& params);
  // ROLLBACK, when a call fails inside a transaction. Its own failure needs no
  // handling: a broken connection is reset (and so rolled back) by Ensure().
  void RollbackQuietly();

  // For LISTEN: the socket to poll, reading what arrived, and the channels'
  // payloads received so far. ConsumeInput() false: the connection dropped.
  int Socket() const;
  bool ConsumeInput();
  std::vector<std::string> TakeNotifications();

 private:
  Result<PgResult> Check(std::string_view what, pg_result* r);
  // After a PQsend* call (`sent`: its result): flushes the query and waits
  // for every result, giving up after kResponseTimeout of silence. The last
  // result, or the first error.
  Result<PgResult> Await(std::string_view what, bool sent);
  // Waits for `events` on the socket until `deadline`; false on timeout.
  bool WaitSocket(short events, std::chrono::steady_clock::time_point deadline, short* revents);
  // Closes a connection that stopped answering; Ensure() opens a new one.
  Status GiveUp(std::string_view what);

  std::string url_;
  bool read_only_;
  pg_conn* conn_ = nullptr;
  bool broken_ = false;           // a call saw the connection fail
  bool gave_up_ = false;          // ... because the server stopped answering
  std::set<std::string> prepared_;  // statement names prepared on conn_
};

}  // namespace chronoconf::pg

#endif  // CHRONOCONF_STORE_PG_CONNECTION_H_
