// PostgreSQL for the black-box tests: a fresh database per test on the
// cluster named by CHRONOCONF_TEST_PG_URL (scripts/pg-test-cluster.sh start),
// and a private cluster for tests that stop and start the server itself.
//
//   PgTestDatabase db;
//   CHRONOCONF_REQUIRE_PG(db);   // skips locally, fails when $CI is set
//   ServerProcess node(db.url());
//
// Thread safety: none; one object per test.
#ifndef CHRONOCONF_TESTS_SUPPORT_PG_TEST_DB_H_
#define CHRONOCONF_TESTS_SUPPORT_PG_TEST_DB_H_

#include <gtest/gtest.h>

#include <string>

#include "support/require.h"
#include "support/test_server.h"

namespace chronoconf::test {

// `url` with its database name replaced by `db`.
std::string WithDatabase(const std::string& url, const std::string& db);

// Why PostgreSQL tests cannot run ("" when they can).
std::string PgUnavailableReason();

// A database of its own on the test cluster (or on `base_url`), dropped by
// the destructor.
class PgTestDatabase {
 public:
  explicit PgTestDatabase(std::string base_url = "");
  ~PgTestDatabase();
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;

  bool available() const { return why_.empty(); }
  const std::string& why() const { return why_; }
  const std::string& url() const { return url_; }
  // Runs `sql` on the maintenance database (as the cluster's superuser),
  // e.g. to terminate the nodes' connections.
  ::testing::AssertionResult AdminSql(const std::string& sql) const;
  const std::string& name() const { return name_; }

 private:
  std::string base_, name_, url_, why_;
};

// A throwaway cluster of the test's own (scripts/pg-test-cluster.sh with a
// private state folder), for tests that stop and start the server under
// running nodes without disturbing other tests' databases.
class PgPrivateCluster {
 public:
  PgPrivateCluster();
  ~PgPrivateCluster();  // stops it and removes its folder
  PgPrivateCluster(const PgPrivateCluster&) = delete;
  PgPrivateCluster& operator=(const PgPrivateCluster&) = delete;

  bool available() const { return why_.empty(); }
  const std::string& why() const { return why_; }
  const std::string& url() const { return url_; }
  // pg_ctl stop -m fast / start, on the same port and data.
  ::testing::AssertionResult StopServer();
  ::testing::AssertionResult StartServer();
  // SIGSTOP / SIGCONT to the server and its backends: it accepts nothing
  // and answers nothing until thawed (a hung host, a stalled disk).
  ::testing::AssertionResult FreezeServer();
  ::testing::AssertionResult ThawServer();

 private:
  ::testing::AssertionResult Script(const std::string& command, std::string* out = nullptr);
  TempDir state_{"chronoconf-pg-state"};
  std::string url_, why_;
};

}  // namespace chronoconf::test

// Skips the test when PostgreSQL is not available, and fails it instead when
// the environment variable CI is set (CI must run every test).
#define CHRONOCONF_REQUIRE_PG(db) CHRONOCONF_REQUIRE((db).why())

#endif  // CHRONOCONF_TESTS_SUPPORT_PG_TEST_DB_H_
