// Issue 5, part 1, defect 7: a value nested 511 deep was stored, after which
// `ls`, `log`, `history` and `diff` failed for the whole store. Whatever the
// server accepts, every CLI command reads back.
#include <string>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

class CliDeepValueTest : public ServerTest {
 protected:
  CommandResult Cli(std::vector<std::string> args) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(server()->url());
    CommandOptions options;
    options.env["CHRONOCONF_TOKEN"] = std::nullopt;
    options.env["CHRONOCONF_SERVER"] = std::nullopt;
    options.env["NO_COLOR"] = "1";
    return RunCommand(argv, options);
  }
};

TEST_F(CliDeepValueTest, TheDeepestAcceptedValueReadsBackEverywhere) {
  // Find the deepest value the server accepts, whatever its limit is.
  int accepted = 0;
  for (int depth : {511, 200, 128, 100, 64}) {
    const std::string v = std::string(depth, '[') + std::string(depth, ']');
    if (api().Put("/v1/kv/" + K("deep"), "{\"value\":" + v + "}").status < 300) {
      accepted = depth;
      break;
    }
  }
  ASSERT_GT(accepted, 0) << "the server accepts no nested value at all";
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"get", K("deep")}, {"ls", prefix()}, {"ls", prefix(), "--json"},
           {"history", K("deep")}, {"log"}, {"log", "--json"}, {"diff", "0"},
           {"export"}, {"export", "--format", "yaml"}}) {
    auto r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " with a value " << accepted << " deep: " << r.err;
  }
}

}  // namespace
}  // namespace chronoconf::test
