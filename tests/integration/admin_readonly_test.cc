// SPEC §6 "Admin commands that only read never write" (issue 13 items 11,
// 12): verify and copy --from open the store read-only, never create or
// migrate it, and fail clearly when it is missing; copy --to takes the same
// sole-writer claim as serve, and resumes a copy that was interrupted.
#include <gtest/gtest.h>

#include <filesystem>

#include "store/pg_connection.h"
#include "support/http_test_util.h"
#include "support/pg_test_db.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

namespace fs = std::filesystem;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A store with `n` commits written through a real server.
void WriteCommits(const std::string& store_url, int n, const std::string& prefix = "k") {
  ServerProcess server(store_url);
  ASSERT_TRUE(server.Start());
  Api api(server.url());
  for (int i = 0; i < n; ++i) ASSERT_EQ(api.Set(prefix + std::to_string(i), "1").status, 201);
  ASSERT_TRUE(server.Stop());
}

TEST(AdminReadOnlyTest, VerifyOfAMissingSqliteFileFailsAndCreatesNothing) {
  TempDir dir;
  const std::string typo = dir.File("sub/typo.db");
  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", "sqlite:" + typo});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, typo)) << r.err;
  EXPECT_TRUE(Contains(r.err, "does not exist")) << r.err;
  EXPECT_FALSE(fs::exists(typo));
  EXPECT_FALSE(fs::exists(dir.File("sub"))) << "verify created the directory";
}

TEST(AdminReadOnlyTest, CopyFromAMissingSqliteFileFailsAndCreatesNothing) {
  TempDir dir;
  const std::string typo = dir.File("typo.db");
  CommandResult r = RunCommand({CHRONOCONF_BIN, "copy", "--from", "sqlite:" + typo, "--to",
                                "sqlite:" + dir.File("target.db")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, typo)) << r.err;
  EXPECT_FALSE(fs::exists(typo));
  EXPECT_FALSE(fs::exists(dir.File("target.db"))) << "the target was created for nothing";
}

TEST(AdminReadOnlyTest, VerifyOfAFileThatIsNoStoreNamesWhatIsMissing) {
  TempDir dir;
  ASSERT_EQ(RunCommand({"sqlite3", dir.File("other.db"), "CREATE TABLE t (x)"}).exit_code, 0);
  CommandResult r =
      RunCommand({CHRONOCONF_BIN, "verify", "--store", "sqlite:" + dir.File("other.db")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "schema_version")) << r.err;
  CommandResult tables =
      RunCommand({"sqlite3", dir.File("other.db"), "SELECT name FROM sqlite_master ORDER BY 1"});
  EXPECT_EQ(tables.out, "t\n") << "verify migrated a file that is not a store";
}

TEST(AdminReadOnlyTest, VerifyReportsAnOlderSchemaAndDoesNotMigrateIt) {
  TempDir dir;
  WriteCommits(dir.SqliteUrl(), 2);
  // A store as an older build left it: its schema version is behind.
  ASSERT_EQ(RunCommand({"sqlite3", dir.File("events.db"), "UPDATE schema_version SET version = 0"})
                .exit_code,
            0);
  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "older")) << r.err;
  EXPECT_TRUE(Contains(r.err, "chronoconf migrate")) << r.err;
  CommandResult v =
      RunCommand({"sqlite3", dir.File("events.db"), "SELECT version FROM schema_version"});
  EXPECT_EQ(v.out, "0\n") << "verify migrated the store";
}

// A store as the previous build left it (schema version 1, no snapshot
// key): old stores stay valid, and a reader reads them as they are.
TEST(AdminReadOnlyTest, VerifyReadsAVersionOneStoreWithoutMigratingIt) {
  TempDir dir;
  WriteCommits(dir.SqliteUrl(), 2);
  ASSERT_EQ(RunCommand({"sqlite3", dir.File("events.db"),
                        "DROP TABLE snapshot_key; UPDATE schema_version SET version = 1"})
                .exit_code,
            0);
  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  CommandResult v =
      RunCommand({"sqlite3", dir.File("events.db"), "SELECT version FROM schema_version"});
  EXPECT_EQ(v.out, "1\n") << "verify migrated the store";
}

TEST(AdminReadOnlyTest, VerifyWritesNothing) {
  TempDir dir;
  WriteCommits(dir.SqliteUrl(), 3);
  // Fold the WAL into the file, so that the file alone is the store.
  ASSERT_EQ(RunCommand({"sqlite3", dir.File("events.db"), "PRAGMA wal_checkpoint(TRUNCATE)"})
                .exit_code,
            0);
  const auto before = fs::last_write_time(dir.File("events.db"));
  const auto size = fs::file_size(dir.File("events.db"));
  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::last_write_time(dir.File("events.db")), before);
  EXPECT_EQ(fs::file_size(dir.File("events.db")), size);
}

TEST(AdminReadOnlyTest, VerifyOfAMissingSnapshotFileFails) {
  TempDir dir;
  WriteCommits(dir.SqliteUrl(), 1);
  const std::string missing = dir.File("nope.snapshot");
  CommandResult r = RunCommand(
      {CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl(), "--snapshot", missing});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, missing)) << r.err;
  // The default path (<file>.snapshot) is optional: no snapshot, no error.
  CommandResult plain = RunCommand({CHRONOCONF_BIN, "verify", "--store", dir.SqliteUrl()});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
}

TEST(AdminReadOnlyTest, VerifyOfAPostgresDatabaseWithoutTablesFailsAndCreatesNone) {
  PgTestDatabase db;
  CHRONOCONF_REQUIRE_PG(db);
  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", db.url()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "schema_version")) << r.err;
  CommandResult c = RunCommand({CHRONOCONF_BIN, "copy", "--from", db.url(), "--to", "memory:"});
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  pg::Connection conn(db.url());
  ASSERT_TRUE(conn.Ensure().ok());
  auto tables = conn.Exec("tables", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
  ASSERT_TRUE(tables) << tables.status().ToString();
  EXPECT_EQ(tables->Int(0, 0), 0) << "verify or copy --from created tables";
}

TEST(AdminReadOnlyTest, VerifyOfAMissingPostgresDatabaseNamesIt) {
  PgTestDatabase db;
  CHRONOCONF_REQUIRE_PG(db);
  const std::string url = WithDatabase(db.url(), "cc_no_such_database");
  CommandResult r = RunCommand({CHRONOCONF_BIN, "verify", "--store", url});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "cc_no_such_database")) << r.err;
}

TEST(AdminReadOnlyTest, CopyToAServedSqliteFileIsRefused) {
  TempDir src, dst;
  WriteCommits(src.SqliteUrl(), 3);
  ServerProcess target(dst.SqliteUrl());
  ASSERT_TRUE(target.Start());
  CommandResult r =
      RunCommand({CHRONOCONF_BIN, "copy", "--from", src.SqliteUrl(), "--to", dst.SqliteUrl()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, "already served")) << r.err;
  EXPECT_EQ(Api(target.url()).Head(), 0) << "the copy wrote under a running server";
}

TEST(AdminReadOnlyTest, CopyResumesAfterAnInterruptionAndRefusesAnotherHistory) {
  TempDir src, dst, other;
  WriteCommits(src.SqliteUrl(), 3);
  CommandResult first =
      RunCommand({CHRONOCONF_BIN, "copy", "--from", src.SqliteUrl(), "--to", dst.SqliteUrl()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  // The source goes on (as if the first copy had stopped at revision 3).
  WriteCommits(src.SqliteUrl(), 2, "more");
  CommandResult again =
      RunCommand({CHRONOCONF_BIN, "copy", "--from", src.SqliteUrl(), "--to", dst.SqliteUrl()});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_TRUE(Contains(again.out, "resumed after revision 3")) << again.out;
  CommandResult v = RunCommand({CHRONOCONF_BIN, "verify", "--json", "--store", dst.SqliteUrl()});
  EXPECT_TRUE(Contains(v.out, R"("commits":5)")) << v.out;

  WriteCommits(other.SqliteUrl(), 1, "different");
  CommandResult refused =
      RunCommand({CHRONOCONF_BIN, "copy", "--from", src.SqliteUrl(), "--to", other.SqliteUrl()});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(Contains(refused.err, "not a prefix")) << refused.err;
}

}  // namespace
}  // namespace chronoconf::test
