// The README's tour and docs/TUTORIAL.md run as written (issue 7 item 5):
// scripts/run-tour.sh extracts their ```sh blocks, runs them against a fresh
// server and checks exit codes and key outputs.
#include <gtest/gtest.h>

#include <string>

#include "support/run_command.h"
#include "support/test_server.h"

namespace chronoconf::test {
namespace {

void RunTour(const std::string& doc) {
  const std::string root = CHRONOCONF_SOURCE_DIR;
  CommandOptions options;
  options.cwd = root;
  options.timeout = std::chrono::seconds(120);
  options.env.emplace("CHRONOCONF_TOKEN", std::nullopt);
  auto r = RunCommand({root + "/scripts/run-tour.sh", CHRONOCONF_BIN, doc}, options);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("tour OK"), std::string::npos) << r.out << r.err;
}

TEST(TourTest, ReadmeTourRunsAsWritten) { RunTour("README.md"); }

TEST(TourTest, TutorialRunsAsWritten) { RunTour("docs/TUTORIAL.md"); }

// README "Using etcd clients": etcdctl, python3-etcd3, Go clientv3, npm etcd3
// and the JSON gateway, as written.
TEST(TourTest, ReadmeEtcdClientsRunAsWritten) { RunTour("README.md#etcd"); }

}  // namespace
}  // namespace chronoconf::test
