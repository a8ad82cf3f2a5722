// Schemas per prefix in the write path (SPEC §8), without HTTP: a schema
// is decided against the values under its prefix, and every write after it
// against the schema.
#include <gtest/gtest.h>

#include "app/command_service.h"
#include "app/verify.h"
#include "domain/system_stream.h"
#include "store/memory_event_store.h"

namespace chronoconf {
namespace {

constexpr const char* kPortSchema =
    R"({"type":"object","required":["port"],"properties":{"port":{"type":"integer","minimum":1}}})";

class SchemaCommandTest : public ::testing::Test {
 protected:
  CommandResult Run(Command command) { return service_.Execute(std::move(command)); }
  CommandResult Put(const std::string& key, const std::string& value) {
    return Run(Transaction{{SetKey{key, value, std::nullopt, false}}, {}});
  }
  CommandResult SetSchema(const std::string& prefix, const std::string& schema, bool force = false) {
    return Run(SchemaChange{prefix, schema, force, {}});
  }

  MemoryEventStore store_;
  Projection projection_;
  CommandService service_{&store_, &projection_};
};

TEST_F(SchemaCommandTest, AValueThatBreaksASchemaIsRefusedWithWhereAndWhy) {
  ASSERT_TRUE(SetSchema("svc/", kPortSchema).status.ok());
  CommandResult bad = Put("svc/a", R"({"port":0})");
  ASSERT_EQ(bad.status.code(), Code::kSchemaViolation) << bad.status.ToString();
  ASSERT_EQ(bad.status.failures().size(), 1u);
  const ValueFailure& f = bad.status.failures()[0];
  EXPECT_EQ(f.key, "svc/a");
  EXPECT_EQ(f.prefix, "svc/");
  EXPECT_EQ(f.pointer, "/port");
  EXPECT_EQ(f.rule, "minimum");
  EXPECT_EQ(projection_.head(), 1);  // nothing written
  EXPECT_TRUE(Put("svc/a", R"({"port":80})").status.ok());
  EXPECT_TRUE(Put("other/a", R"({"port":0})").status.ok());  // not under the prefix
}

TEST_F(SchemaCommandTest, ASchemaThatCurrentValuesBreakIsAConflictUnlessForced) {
  ASSERT_TRUE(Put("svc/a", R"({"port":80})").status.ok());
  ASSERT_TRUE(Put("svc/b", R"({"port":"x"})").status.ok());
  CommandResult refused = SetSchema("svc/", kPortSchema);
  ASSERT_EQ(refused.status.code(), Code::kSchemaConflict) << refused.status.ToString();
  ASSERT_EQ(refused.status.failures().size(), 1u);
  EXPECT_EQ(refused.status.failures()[0].key, "svc/b");
  EXPECT_EQ(refused.status.failures()[0].rule, "type");
  EXPECT_TRUE(projection_.Schemas(projection_.head()).empty());
  CommandResult forced = SetSchema("svc/", kPortSchema, /*force=*/true);
  ASSERT_TRUE(forced.status.ok()) << forced.status.ToString();
  EXPECT_TRUE(forced.created);
  ASSERT_EQ(projection_.Schemas(forced.revision).size(), 1u);
  EXPECT_TRUE(projection_.Schemas(forced.revision - 1).empty());  // read at any revision
}

TEST_F(SchemaCommandTest, DeletingASchemaLetsAnyValueInAndTheChainVerifies) {
  ASSERT_TRUE(SetSchema("svc/", kPortSchema).status.ok());
  EXPECT_EQ(Run(SchemaChange{"nope/", std::nullopt, false, {}}).status.code(), Code::kNotFound);
  ASSERT_TRUE(Run(SchemaChange{"svc/", std::nullopt, false, {}}).status.ok());
  EXPECT_TRUE(Put("svc/a", R"("anything")").status.ok());
  VerifyReport report;
  Status verified = VerifyStore(store_, &report);
  EXPECT_TRUE(verified.ok()) << verified.ToString();
}

TEST_F(SchemaCommandTest, ADryRunDecidesAsTheWriteWouldAndWritesNothing) {
  ASSERT_TRUE(SetSchema("svc/", kPortSchema).status.ok());
  const int64_t head = projection_.head();
  CommandResult bad = service_.Execute(
      Transaction{{SetKey{"svc/a", R"({"port":0})", std::nullopt, false}}, {}}, /*dry_run=*/true);
  EXPECT_EQ(bad.status.code(), Code::kSchemaViolation);
  CommandResult good = service_.Execute(
      Transaction{{SetKey{"svc/a", R"({"port":8})", std::nullopt, false}}, {}}, /*dry_run=*/true);
  ASSERT_TRUE(good.status.ok()) << good.status.ToString();
  ASSERT_NE(good.dry_run, nullptr);
  EXPECT_EQ(good.dry_run->decided_at, head);
  ASSERT_TRUE(good.dry_run->commit.has_value());
  ASSERT_EQ(good.dry_run->commit->events.size(), 1u);
  EXPECT_EQ(good.dry_run->commit->events[0].key, "svc/a");
  EXPECT_EQ(good.dry_run->commit->events[0].version, 1);
  EXPECT_EQ(projection_.head(), head);  // nothing written
  EXPECT_EQ(store_.ReadHead()->revision, head);
  // What the dry run said is what the write then does.
  CommandResult real = Put("svc/a", R"({"port":8})");
  ASSERT_TRUE(real.status.ok());
  EXPECT_EQ(real.revision, head + 1);
  // A schema change can be tried too: it would conflict with nothing here.
  CommandResult schema = service_.Execute(SchemaChange{"svc/", R"({"type":"object"})", false, {}},
                                          /*dry_run=*/true);
  ASSERT_TRUE(schema.status.ok()) << schema.status.ToString();
  EXPECT_EQ(projection_.Schemas(projection_.head()).front()->schema, kPortSchema);
}

TEST_F(SchemaCommandTest, ASchemaIsRefusedWhenItDoesNotCompile) {
  CommandResult r = SetSchema("svc/", R"({"type":12})");
  EXPECT_EQ(r.status.code(), Code::kInvalidRequest) << r.status.ToString();
}

}  // namespace
}  // namespace chronoconf
