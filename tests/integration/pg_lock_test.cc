// Issue 13 item 9, SPEC §6 "Every wait has a deadline": a PostgreSQL that
// accepts connections but does not answer (here: a table lock held by
// another session) made writes wait as long as the lock was held, with
// /readyz 200 and nothing logged. A write gets 503 within the store's bound,
// /readyz is 503 meanwhile, and everything recovers once the lock goes.
#include <chrono>
#include <string>
#include <thread>

#include "store/pg_connection.h"
#include "support/http_test_util.h"
#include "support/pg_test_db.h"

namespace chronoconf::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

// Polls GET /readyz until it answers `status` or `timeout` passes.
bool ReadyzBecomes(Api& api, int status, milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  while (Steady::now() < deadline) {
    if (api.Get("/readyz").status == status) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

TEST(PgLockTest, AWriteBehindAHeldTableLockGets503InTimeAndRecovers) {
  PgTestDatabase db;
  CHRONOCONF_REQUIRE_PG(db);
  ServerProcess node(db.url());
  ASSERT_TRUE(node.Start());
  Api api(node.url(), seconds(60));
  ASSERT_EQ(api.Set("before", "1").status, 201);

  // Another session holds the lock (an operator's ALTER TABLE, a stuck job).
  pg::Connection locker(db.url());
  ASSERT_TRUE(locker.Ensure().ok());
  auto locked = locker.Exec("lock", "BEGIN; LOCK TABLE commits IN ACCESS EXCLUSIVE MODE");
  ASSERT_TRUE(locked) << locked.status().ToString();

  const auto start = Steady::now();
  auto r = api.Set("during", "2");
  const auto waited = Steady::now() - start;
  EXPECT_EQ(r.status, 503) << r;
  EXPECT_LT(waited, seconds(8)) << "the write waited "
                                << std::chrono::duration_cast<milliseconds>(waited).count()
                                << " ms";
  EXPECT_TRUE(ReadyzBecomes(api, 503, milliseconds(8000))) << "/readyz stayed 200";
  // Reads go on from memory.
  EXPECT_EQ(api.GetKey("before").status, 200);
  EXPECT_NE(node.Log().find("lock"), std::string::npos) << "nothing was logged:\n" << node.Log();

  ASSERT_TRUE(locker.Exec("unlock", "ROLLBACK"));
  EXPECT_TRUE(ReadyzBecomes(api, 200, milliseconds(15000))) << node.Log();
  auto after = api.Set("after", "3");
  EXPECT_EQ(after.status, 201) << after;
  // The refused write left nothing behind (the server rolled it back).
  auto during = api.GetKey("during");
  EXPECT_EQ(during.status, 404) << during;
}

// SPEC §6: a write whose COMMIT answer is lost says so (503 outcome_unknown),
// never "nothing was written"; and the node shows it once it landed. Here the
// server takes longer over the COMMIT (a deferred trigger) than the client
// waits.
TEST(PgLockTest, AWriteWhoseCommitAnswerIsLostIsOutcomeUnknown) {
  PgTestDatabase db;
  CHRONOCONF_REQUIRE_PG(db);
  ServerProcess node(db.url());
  ASSERT_TRUE(node.Start());
  Api api(node.url(), seconds(60));
  ASSERT_EQ(api.Set("before", "1").status, 201);
  pg::Connection admin(db.url());
  ASSERT_TRUE(admin.Ensure().ok());
  ASSERT_TRUE(admin.Exec("slow commits",
                         "CREATE FUNCTION cc_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$"
                         " BEGIN PERFORM pg_sleep(12); RETURN NULL; END $$;"
                         "CREATE CONSTRAINT TRIGGER cc_slow_commit AFTER INSERT ON commits"
                         " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
                         " EXECUTE FUNCTION cc_slow_commit()"));
  const auto start = Steady::now();
  auto r = api.Set("maybe", "2");
  EXPECT_LT(Steady::now() - start, pg::kResponseTimeout + seconds(3));
  EXPECT_EQ(r.status, 503) << r;
  EXPECT_EQ(r.ErrorCode(), "outcome_unknown") << r;
  EXPECT_NE(r.body.find("the write may or may not have been committed; read before retrying"),
            std::string::npos)
      << r;
  // It landed: the node learns so by itself.
  auto landed = api.GetKey("maybe", "min_revision=2&timeout_ms=20000");
  EXPECT_EQ(landed.status, 200) << landed;
}

}  // namespace
}  // namespace chronoconf::test
