// SPEC §4: the client commands send $CHRONOCONF_TOKEN as a bearer token; the
// server (--auth-file) then decides the actor and what the token may do.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

constexpr char kAdminToken[] = "alice-secret-token";
constexpr char kReadToken[] = "reader-secret-token";

class CliAuthTest : public ServerTest {
 public:
  static void SetUpTestSuite() {
    auth_dir_ = std::make_unique<TempDir>("chronoconf-cli-auth");
    std::ofstream(auth_dir_->File("auth.json"))
        << R"({"tokens":[{"name":"alice","sha256":")" << Sha256Hex(kAdminToken)
        << R"(","role":"admin"},{"name":"dash","sha256":")" << Sha256Hex(kReadToken)
        << R"(","role":"read"}]})";
    StartSharedServer("memory:", {"--auth-file", auth_dir_->File("auth.json")});
  }
  static void TearDownTestSuite() {
    StopSharedServer();
    auth_dir_.reset();
  }

 protected:
  void SetUp() override {
    ASSERT_NE(server(), nullptr) << "the server does not start with --auth-file";
    ServerTest::SetUp();
  }

  // Runs the CLI with $CHRONOCONF_TOKEN = `token` (unset when empty).
  CommandResult Cli(const std::string& token, std::vector<std::string> args) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(server()->url());
    CommandOptions options;
    options.env["CHRONOCONF_TOKEN"] =
        token.empty() ? std::nullopt : std::optional<std::string>(token);
    options.env["CHRONOCONF_SERVER"] = std::nullopt;
    options.env["NO_COLOR"] = "1";
    options.timeout = std::chrono::seconds(15);
    return RunCommand(argv, options);
  }

 private:
  static std::unique_ptr<TempDir> auth_dir_;
};

std::unique_ptr<TempDir> CliAuthTest::auth_dir_;

TEST_F(CliAuthTest, NoOrWrongTokenExits1) {
  auto none = Cli("", {"ls"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err.rfind("error: unauthorized: ", 0), 0u) << none.err;
  auto wrong = Cli("not-a-token", {"get", K("a")});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_EQ(wrong.err.rfind("error: unauthorized: ", 0), 0u) << wrong.err;
  EXPECT_EQ(Cli("", {"watch", "--from", "0", "--count", "1"}).exit_code, 1);
}

TEST_F(CliAuthTest, TheTokenNamesTheActor) {
  auto set = Cli(kAdminToken, {"set", K("a"), "1", "--actor", "mallory"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  auto get = Cli(kAdminToken, {"get", K("a"), "--json"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(json::parse(get.out)["modified_by"], "alice");

  auto watch = Cli(kAdminToken, {"watch", K(""), "--from", "0", "--count", "1"});
  ASSERT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_NE(watch.out.find(" alice set " + K("a") + " 1"), std::string::npos) << watch.out;
}

TEST_F(CliAuthTest, AReadTokenCannotWrite) {
  ASSERT_EQ(Cli(kAdminToken, {"set", K("r"), "1"}).exit_code, 0);
  auto read = Cli(kReadToken, {"get", K("r")});
  EXPECT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(read.out, "1\n");
  auto write = Cli(kReadToken, {"set", K("r"), "2"});
  EXPECT_EQ(write.exit_code, 1);
  EXPECT_EQ(write.err.rfind("error: forbidden: ", 0), 0u) << write.err;
  EXPECT_EQ(Cli(kReadToken, {"get", K("r")}).out, "1\n");
}

}  // namespace
}  // namespace chronoconf::test
