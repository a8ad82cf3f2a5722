// SPEC §4: the client commands diff, revert, import, export, status and watch
// against a real server (memory: store).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/http_test_util.h"
#include "support/run_command.h"

extern char** environ;

namespace chronoconf::test {
namespace {

using namespace std::chrono_literals;

// The environment for the CLI: no token, no $CHRONOCONF_SERVER, NO_COLOR.
std::vector<std::string> CliEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    if (entry.starts_with("CHRONOCONF_TOKEN=") || entry.starts_with("CHRONOCONF_SERVER=") ||
        entry.starts_with("NO_COLOR=")) {
      continue;
    }
    env.push_back(entry);
  }
  env.push_back("NO_COLOR=1");
  return env;
}

// A child process whose stdout the test reads line by line while it runs
// (for `watch`, which runs until interrupted). stderr goes to a file.
class Spawned {
 public:
  ~Spawned() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  bool Start(std::vector<std::string> argv, const std::string& err_path) {
    std::vector<std::string> env = CliEnvironment();
    std::vector<char*> c_argv;
    for (auto& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    std::vector<char*> c_env;
    for (auto& e : env) c_env.push_back(e.data());
    c_env.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(null_in, 0);
      ::dup2(fds[1], 1);
      ::dup2(err, 2);
      ::execve(c_argv[0], c_argv.data(), c_env.data());
      _exit(127);
    }
    ::close(fds[1]);
    ::close(err);
    ::close(null_in);
    out_ = fds[0];
    return pid_ > 0;
  }

  // The next line of stdout (without '\n'); nullopt after `timeout` or at EOF.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::read(out_, chunk, sizeof(chunk));
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Sends SIGINT (Ctrl-C) and returns the wait status (SIGKILL after 5 s).
  int Interrupt() {
    ::kill(pid_, SIGINT);
    int status = -1;
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string Rev(int64_t r) { return std::to_string(r); }

class CliOpsTest : public ServerTest {
 protected:
  CommandResult Cli(std::vector<std::string> args, CommandOptions options = {}) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(server()->url());
    options.env.emplace("CHRONOCONF_TOKEN", std::nullopt);
    options.env.emplace("CHRONOCONF_SERVER", std::nullopt);
    options.env.emplace("NO_COLOR", "1");
    return RunCommand(argv, options);
  }
  std::vector<std::string> Argv(std::vector<std::string> args) {
    std::vector<std::string> argv{CHRONOCONF_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--server");
    argv.push_back(server()->url());
    return argv;
  }
  std::string Get(const std::string& key) {
    auto r = Cli({"get", key});
    return r.exit_code == 0 ? r.out : "exit " + std::to_string(r.exit_code);
  }

  TempDir tmp_;
};

// ------------------------------------------------------------------- diff

TEST_F(CliOpsTest, DiffPrintsAddedRemovedAndChangedLines) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("b"), "2").status, 201);
  const int64_t r1 = Head();
  const std::string t1 = api().GetKey(K("b")).json["modified_at"];
  std::this_thread::sleep_for(2ms);  // the next commit gets a later time than t1
  ASSERT_EQ(api().Set(K("a"), "1.50").status, 200);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("b")).status, 200);
  ASSERT_EQ(api().Set(K("c"), R"({"new": true})").status, 201);
  const int64_t r2 = Head();

  const std::string expected = "~ " + K("a") + " 1 -> 1.50\n" +  //
                               "- " + K("b") + " 2\n" +          //
                               "+ " + K("c") + " {\"new\":true}\n";
  auto d = Cli({"diff", Rev(r1), Rev(r2), "--prefix", K("")});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, expected);
  // REV2 defaults to the head; a time works as a point too.
  EXPECT_EQ(Cli({"diff", Rev(r1), "--prefix", K("")}).out, expected);
  EXPECT_EQ(Cli({"diff", t1, "--prefix", K("")}).out, expected);
  // Nothing between a revision and itself, and the CLI says so.
  auto same = Cli({"diff", Rev(r2), Rev(r2), "--prefix", K("")});
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.out, "no changes between revision " + Rev(r2) + " and revision " + Rev(r2) +
                          " under '" + K("") + "'\n");
  // From the empty config: everything is added.
  EXPECT_EQ(Cli({"diff", "0", Rev(r1), "--prefix", K("")}).out,
            "+ " + K("a") + " 1\n+ " + K("b") + " 2\n");

  auto j = Cli({"diff", Rev(r1), Rev(r2), "--prefix", K(""), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto diff = json::parse(j.out);
  EXPECT_EQ(diff["from"], r1);
  EXPECT_EQ(diff["to"], r2);
  ASSERT_EQ(diff["added"].size(), 1u);
  ASSERT_EQ(diff["removed"].size(), 1u);
  ASSERT_EQ(diff["changed"].size(), 1u);
  EXPECT_EQ(RawAt(j.out, "changed.0.after.value"), "1.50");

  auto future = Cli({"diff", Rev(r1), Rev(r2 + 1000)});
  EXPECT_EQ(future.exit_code, 1) << future.err;
}

// ------------------------------------------------------------------- revert

TEST_F(CliOpsTest, RevertPutsThePrefixBack) {
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  ASSERT_EQ(api().Set(K("b"), "\"two\"").status, 201);
  ASSERT_EQ(api().Set(K("untouched"), "0").status, 201);
  const int64_t r1 = Head();
  ASSERT_EQ(api().Set(K("a"), "10").status, 200);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("b")).status, 200);
  ASSERT_EQ(api().Set(K("c"), "3").status, 201);
  ASSERT_EQ(api().Set("elsewhere_" + prefix().substr(0, prefix().size() - 1), "1").status, 201);
  const int64_t before = Head();

  auto r = Cli({"revert", Rev(r1), "--prefix", K(""), "--reason", "undo", "--actor", "alice"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "reverted to revision " + Rev(r1) + ": 3 changes in revision " +
                       Rev(before + 1) + "\n");
  EXPECT_EQ(Get(K("a")), "1\n");
  EXPECT_EQ(Get(K("b")), "\"two\"\n");
  EXPECT_EQ(Get(K("c")), "exit 3");
  EXPECT_EQ(Get(K("untouched")), "0\n");
  auto events = api().Events(before);
  ASSERT_EQ(events.size(), 3u);
  for (const auto& e : events) {
    EXPECT_EQ(e["revision"], before + 1);
    EXPECT_EQ(e["actor"], "alice");
    EXPECT_EQ(e["reason"], "undo");
  }

  auto again = Cli({"revert", Rev(r1), "--prefix", K("")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "nothing to revert: already as at revision " + Rev(r1) + " (revision " +
                           Rev(before + 1) + ")\n");
  EXPECT_EQ(Head(), before + 1);

  auto j = Cli({"revert", Rev(r1 - 3), "--prefix", K(""), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto reply = json::parse(j.out);
  EXPECT_EQ(reply["changed"], true);
  EXPECT_EQ(reply["events"], 3);  // back to before the three keys existed
  EXPECT_EQ(reply["revision"], before + 2);

  EXPECT_EQ(Cli({"revert", Rev(Head() + 1000), "--prefix", K("")}).exit_code, 1);
}

// ------------------------------------------------------------------- import

TEST_F(CliOpsTest, ImportFromAFile) {
  const std::string file = tmp_.File("config.json");
  std::ofstream(file) << "{\n  \"" << K("i/a") << "\": 1.50,\n  \"" << K("i/b")
                      << "\": {\"x\": [1, 2]},\n  \"" << K("i/c") << "\": \"s\"\n}\n";
  const int64_t head = Head();
  auto r = Cli({"import", file, "--prefix", K("i/"), "--reason", "bulk", "--actor", "bob"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "imported 3 changes in revision " + Rev(head + 1) + "\n");
  EXPECT_EQ(Get(K("i/a")), "1.50\n");
  EXPECT_EQ(Get(K("i/b")), "{\"x\":[1,2]}\n");
  EXPECT_EQ(Get(K("i/c")), "\"s\"\n");
  auto events = api().Events(head);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["actor"], "bob");
  EXPECT_EQ(events[0]["reason"], "bulk");

  auto again = Cli({"import", file});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "nothing to import: no changes (revision " + Rev(head + 1) + ")\n");

  auto j = Cli({"import", file, "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto reply = json::parse(j.out);
  EXPECT_EQ(reply["changed"], false);
  EXPECT_EQ(reply["revision"], head + 1);
}

TEST_F(CliOpsTest, ImportFromStdinAndReplace) {
  CommandOptions in;
  in.stdin_data = "{\"" + K("s/a") + "\": 1, \"" + K("s/b") + "\": 2, \"" + K("s/c") + "\": 3}";
  auto r = Cli({"import", "-"}, in);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Get(K("s/b")), "2\n");

  CommandOptions replace;
  replace.stdin_data = "{\"" + K("s/a") + "\": 10}";
  const int64_t head = Head();
  auto rr = Cli({"import", "-", "--replace", "--prefix", K("s/")}, replace);
  ASSERT_EQ(rr.exit_code, 0) << rr.err;
  EXPECT_EQ(rr.out, "imported 3 changes in revision " + Rev(head + 1) + "\n");
  EXPECT_EQ(Get(K("s/a")), "10\n");
  EXPECT_EQ(Get(K("s/b")), "exit 3");
  EXPECT_EQ(Get(K("s/c")), "exit 3");
}

TEST_F(CliOpsTest, ImportRejectsBadInput) {
  const std::string not_json = tmp_.File("bad.json");
  std::ofstream(not_json) << "{\"a\": 1,";
  const std::string array = tmp_.File("array.json");
  std::ofstream(array) << "[1, 2]";
  const int64_t head = Head();

  auto bad = Cli({"import", not_json});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_EQ(bad.err.rfind("error: invalid_json: ", 0), 0u) << bad.err;
  EXPECT_EQ(Cli({"import", array}).exit_code, 2);
  EXPECT_EQ(Cli({"import", tmp_.File("missing.json")}).exit_code, 2);
  CommandOptions garbage;
  garbage.stdin_data = "nope";
  EXPECT_EQ(Cli({"import", "-"}, garbage).exit_code, 2);
  // A key outside --prefix: the server says 400.
  CommandOptions outside;
  outside.stdin_data = "{\"" + K("x/a") + "\": 1}";
  auto r = Cli({"import", "-", "--prefix", K("y/")}, outside);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(Head(), head);
}

// ------------------------------------------------------------------- export

TEST_F(CliOpsTest, ExportFormats) {
  ASSERT_EQ(api().Set(K("e/port"), "8080").status, 201);
  ASSERT_EQ(api().Set(K("e/name"), "\"my app\"").status, 201);
  const int64_t r1 = Head();
  ASSERT_EQ(api().Set(K("e/ratio"), "1.50").status, 201);

  auto j = Cli({"export", "--prefix", K("e/")});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto config = json::parse(j.out);
  EXPECT_EQ(config, (json{{K("e/name"), "my app"}, {K("e/port"), 8080}, {K("e/ratio"), 1.5}}));
  EXPECT_EQ(RawMember(j.out, K("e/ratio")), "1.50");
  // The body as the server sent it (plus a final newline when it has none).
  auto body = api().Get("/v1/export?prefix=" + Q(K("e/"))).body;
  EXPECT_EQ(j.out, body.ends_with("\n") ? body : body + "\n");
  EXPECT_EQ(Cli({"export", "--prefix", K("e/"), "--format", "json"}).out, j.out);

  std::string env_name = K("e/");
  for (char& c : env_name) {
    c = (c == '/' || c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(c));
  }
  auto env = Cli({"export", "--prefix", K("e/"), "--format", "env"});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(env.out,
            env_name + "NAME='my app'\n" + env_name + "PORT=8080\n" + env_name + "RATIO=1.50\n");

  auto yaml = Cli({"export", "--prefix", K("e/"), "--format", "yaml"});
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  EXPECT_NE(yaml.out.find("my app"), std::string::npos) << yaml.out;
  EXPECT_NE(yaml.out.find("1.50"), std::string::npos) << yaml.out;
  EXPECT_NE(yaml.out.find("8080"), std::string::npos) << yaml.out;

  auto old = Cli({"export", "--prefix", K("e/"), "--at", Rev(r1)});
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(json::parse(old.out), (json{{K("e/name"), "my app"}, {K("e/port"), 8080}}));
}

// ------------------------------------------------------------------- status

TEST_F(CliOpsTest, Status) {
  ASSERT_EQ(api().Set(K("s"), "1").status, 201);
  auto j = Cli({"status", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto status = json::parse(j.out);
  EXPECT_EQ(status["revision"], Head());
  EXPECT_EQ(status["store"], "memory");
  EXPECT_GE(status["keys"].get<int64_t>(), 1);

  auto human = Cli({"status"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  auto lines = Lines(human.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("server", 0), 0u) << human.out;
  EXPECT_NE(lines[0].find(server()->url()), std::string::npos) << human.out;
  bool saw_revision = false;
  bool saw_store = false;
  for (const auto& line : lines) {
    if (line.rfind("revision ", 0) == 0) {
      saw_revision = true;
      EXPECT_TRUE(line.ends_with(" " + std::to_string(Head()))) << line;
    }
    if (line.rfind("store ", 0) == 0) {
      saw_store = true;
      EXPECT_TRUE(line.ends_with(" memory")) << line;
    }
  }
  EXPECT_TRUE(saw_revision) << human.out;
  EXPECT_TRUE(saw_store) << human.out;
}

// ------------------------------------------------------------------- watch

TEST_F(CliOpsTest, WatchFromZeroReplaysTheCatchUpEvents) {
  ASSERT_EQ(api().Set(K("w/a"), "1.50", {{"X-Actor", "alice"}}).status, 201);
  ASSERT_EQ(api().Set(K("w/b"), "\"x y\"", {{"X-Actor", "bob"}}).status, 201);
  ASSERT_EQ(api().Delete("/v1/kv/" + K("w/a"), {{"X-Actor", "alice"}}).status, 200);
  const int64_t head = Head();

  CommandOptions options;
  options.timeout = 15s;
  auto r = Cli({"watch", K("w/"), "--from", "0", "--count", "3"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, Rev(head - 2) + " alice set " + K("w/a") + " 1.50\n" +  //
                       Rev(head - 1) + " bob set " + K("w/b") + " \"x y\"\n" + Rev(head) +
                       " alice delete " + K("w/a") + "\n");

  auto j = Cli({"watch", K("w/"), "--from", "0", "--count", "3", "--json"}, options);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto lines = Lines(j.out);
  ASSERT_EQ(lines.size(), 3u) << j.out;
  EXPECT_EQ(json::parse(lines[0])["revision"], head - 2);
  EXPECT_EQ(RawAt(lines[0], "value"), "1.50");
  EXPECT_EQ(json::parse(lines[1])["key"], K("w/b"));
  EXPECT_EQ(json::parse(lines[2])["type"], "ConfigDeleted");

  // --from R replays only the commits after R.
  auto later = Cli({"watch", K("w/"), "--from", Rev(head - 1), "--count", "1"}, options);
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_EQ(later.out, Rev(head) + " alice delete " + K("w/a") + "\n");
}

TEST_F(CliOpsTest, WatchPrintsLiveEventsUntilInterrupted) {
  Spawned watch;
  ASSERT_TRUE(watch.Start(Argv({"watch", K("live/"), "--from", Rev(Head())}), tmp_.File("err")));

  ASSERT_EQ(api().Set(K("live/a"), "1", {{"X-Actor", "alice"}}).status, 201);
  auto first = watch.ReadLine(10s);
  ASSERT_TRUE(first) << ReadFile(tmp_.File("err"));
  EXPECT_EQ(*first, Rev(Head()) + " alice set " + K("live/a") + " 1");

  ASSERT_EQ(api().Set(K("other"), "1").status, 201);  // outside the prefix
  ASSERT_EQ(api().Delete("/v1/kv/" + K("live/a"), {{"X-Actor", "bob"}}).status, 200);
  auto second = watch.ReadLine(10s);
  ASSERT_TRUE(second) << ReadFile(tmp_.File("err"));
  EXPECT_EQ(*second, Rev(Head()) + " bob delete " + K("live/a"));

  int status = watch.Interrupt();
  EXPECT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) << status;
}

TEST_F(CliOpsTest, WatchWithoutFromStartsAtTheHead) {
  ASSERT_EQ(api().Set(K("h/old"), "1").status, 201);  // before the watch: not shown
  Spawned watch;
  ASSERT_TRUE(watch.Start(Argv({"watch", K("h/"), "--json"}), tmp_.File("err")));
  // The watcher connects in the background: write until it reports a line.
  std::optional<std::string> line;
  for (int i = 0; i < 40 && !line; ++i) {
    ASSERT_EQ(api().Set(K("h/new"), std::to_string(i)).status, i == 0 ? 201 : 200);
    line = watch.ReadLine(250ms);
  }
  ASSERT_TRUE(line) << ReadFile(tmp_.File("err"));
  auto event = json::parse(*line);
  EXPECT_EQ(event["key"], K("h/new"));
  EXPECT_EQ(event["type"], "ConfigSet");
  watch.Interrupt();
}

// A store that survives a restart, to see `watch` resume where it stopped.
class CliWatchResumeTest : public CliOpsTest {
 public:
  static void SetUpTestSuite() { StartSharedServer("sqlite"); }
};

TEST_F(CliWatchResumeTest, WatchResumesAfterTheServerRestarts) {
  Spawned watch;
  ASSERT_TRUE(watch.Start(Argv({"watch", K(""), "--from", Rev(Head())}), tmp_.File("err")));
  ASSERT_EQ(api().Set(K("a"), "1").status, 201);
  auto first = watch.ReadLine(10s);
  ASSERT_TRUE(first) << ReadFile(tmp_.File("err"));
  EXPECT_EQ(*first, Rev(Head()) + " anonymous set " + K("a") + " 1");

  server()->Kill();
  ASSERT_TRUE(server()->Start());
  ASSERT_EQ(api().Set(K("b"), "2").status, 201);
  // The watcher reconnects by itself and goes on after the last commit it saw:
  // the next line is the new commit, not a repeat of the first.
  auto second = watch.ReadLine(20s);
  ASSERT_TRUE(second) << ReadFile(tmp_.File("err"));
  EXPECT_EQ(*second, Rev(Head()) + " anonymous set " + K("b") + " 2");
  watch.Interrupt();
}

}  // namespace
}  // namespace chronoconf::test
