#include "support/pg_test_db.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include <fmt/format.h>

#include "store/pg_connection.h"
#include "support/run_command.h"

#ifndef CHRONOCONF_SOURCE_DIR
#error "CHRONOCONF_SOURCE_DIR must be defined (the repository's root)"
#endif

namespace chronoconf::test {
namespace {

Status RunSql(const std::string& url, const std::string& sql) {
  pg::Connection conn(url);
  if (Status s = conn.Ensure(); !s.ok()) return s;
  auto r = conn.Exec("test sql", sql.c_str());
  return r ? Status::OK() : r.status();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string WithDatabase(const std::string& url, const std::string& db) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return url + "/" + db;
  size_t query = url.find('?', slash);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

std::string PgUnavailableReason() {
  const char* base = std::getenv("CHRONOCONF_TEST_PG_URL");
  if (base == nullptr || *base == '\0') {
    return "CHRONOCONF_TEST_PG_URL is not set; run `scripts/pg-test-cluster.sh start` and "
           "export the URL it prints (scripts/test.sh does both)";
  }
  return "";
}

PgTestDatabase::PgTestDatabase(std::string base_url) : base_(std::move(base_url)) {
  if (base_.empty()) {
    why_ = PgUnavailableReason();
    if (!why_.empty()) return;
    base_ = std::getenv("CHRONOCONF_TEST_PG_URL");
  }
  static std::atomic<int> counter{0};
  name_ = fmt::format("cc_it_{}_{}", getpid(), counter++);
  if (Status s = RunSql(base_, "CREATE DATABASE " + name_); !s.ok()) {
    why_ = "cannot create a test database: " + s.ToString();
    return;
  }
  url_ = WithDatabase(base_, name_);
}

PgTestDatabase::~PgTestDatabase() {
  if (url_.empty()) return;
  // FORCE: nodes a failed test left running may still hold connections.
  Status s = RunSql(base_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  if (!s.ok()) ADD_FAILURE() << "dropping " << name_ << ": " << s.ToString();
}

::testing::AssertionResult PgTestDatabase::AdminSql(const std::string& sql) const {
  if (Status s = RunSql(base_, sql); !s.ok()) {
    return ::testing::AssertionFailure() << sql << ": " << s.ToString();
  }
  return ::testing::AssertionSuccess();
}

PgPrivateCluster::PgPrivateCluster() {
  // The shared cluster's variable is the sign that PostgreSQL is installed
  // and wanted; this test still runs a server of its own.
  why_ = PgUnavailableReason();
  if (!why_.empty()) return;
  std::string out;
  if (auto r = Script("start", &out); !r) {
    why_ = r.message();
    return;
  }
  url_ = Trim(out);
}

PgPrivateCluster::~PgPrivateCluster() {
  if (!url_.empty()) {
    if (auto r = Script("stop"); !r) ADD_FAILURE() << r.message();
  }
}

::testing::AssertionResult PgPrivateCluster::StopServer() { return Script("stop-server"); }
::testing::AssertionResult PgPrivateCluster::StartServer() { return Script("start-server"); }
::testing::AssertionResult PgPrivateCluster::FreezeServer() { return Script("freeze-server"); }
::testing::AssertionResult PgPrivateCluster::ThawServer() { return Script("thaw-server"); }

::testing::AssertionResult PgPrivateCluster::Script(const std::string& command, std::string* out) {
  CommandOptions options;
  options.env["BUILD_DIR"] = state_.path();  // its own state file and URL file
  options.timeout = std::chrono::seconds(120);
  auto r = RunCommand({std::string(CHRONOCONF_SOURCE_DIR) + "/scripts/pg-test-cluster.sh", command},
                      options);
  if (r.exit_code != 0) {
    return ::testing::AssertionFailure()
           << "pg-test-cluster.sh " << command << " exited " << r.exit_code << ": " << r.err;
  }
  if (out != nullptr) *out = r.out;
  return ::testing::AssertionSuccess();
}

}  // namespace chronoconf::test
