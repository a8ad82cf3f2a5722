// SPEC §7's JSON gateway through a real gateway client: Debian's
// python3-etcd3gw (2.0, OpenStack's) against the HTTP port: put/get,
// create (a Txn on CREATE), a prefix, replace (a Txn on VALUE), a prefix
// watch (it parses each HTTP chunk as one JSON object), delete, Status, the
// member list, and a lease. The same script runs against Debian's
// etcd-server 3.4 when it is installed, and both outputs must match. Without the module: skipped locally, a
// failure under CI (scripts/setup.sh installs it).
#include <string>

#include "support/http_test_util.h"
#include "support/real_etcd.h"
#include "support/require.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

// Debian's interpreter, where Debian's module is (not a pyenv shim's).
constexpr char kPython[] = "/usr/bin/python3";

std::string Etcd3gwMissing() {
  CommandResult r = RunCommand({kPython, "-c", "import etcd3gw"});
  return r.exit_code == 0 ? ""
                          : "python3-etcd3gw is not installed (apt-get install python3-etcd3gw)";
}

constexpr char kScript[] = R"(
import os, threading, time
from etcd3gw import exceptions
from etcd3gw.client import Etcd3Client
c = Etcd3Client(host='127.0.0.1', port=int(os.environ['HTTP_PORT']),
                api_path=os.environ['API_PATH'])
print('put', c.put('/gw/a', 'hello'))
print('get', c.get('/gw/a'))
print('create', c.create('/gw/a', 'x'), c.create('/gw/new', 'y'))
print('prefix', sorted(v.decode() for v, m in c.get_prefix('/gw/')))
print('replace', c.replace('/gw/a', 'hello', 'bye'), c.replace('/gw/a', 'hello', 'no'))
events, cancel = c.watch_prefix('/gw/')
threading.Thread(target=lambda: (time.sleep(0.5), c.put('/gw/b', 'x'))).start()
for e in events:
    print('watch', e['kv']['key'].decode(), e['kv']['value'].decode())
    cancel()
    break
print('delete', c.delete('/gw/b'), c.delete('/gw/none'))
print('delete_prefix', c.delete_prefix('/gw/'))
print('status', c.status()['version'].startswith('3.'))
print('members', len(c.members()))
try:
    c.lease(5)
    print('lease granted')
except exceptions.Etcd3Exception as e:
    print('lease', type(e).__name__)
)";

constexpr char kExpected[] =
    "put True\n"
    "get [b'hello']\n"
    "create False True\n"
    "prefix ['hello', 'y']\n"
    "replace True False\n"
    "watch /gw/b x\n"
    "delete True False\n"
    "delete_prefix True\n"
    "status True\n"
    "members 1\n";

CommandResult RunScript(int port, const std::string& api_path) {
  CommandOptions options;
  options.env["HTTP_PORT"] = std::to_string(port);
  options.env["API_PATH"] = api_path;
  options.timeout = std::chrono::seconds(30);
  return RunCommand({kPython, "-c", kScript}, options);
}

TEST(EtcdGatewayPythonTest, Etcd3gwWorksOnEveryPrefix) {
  CHRONOCONF_REQUIRE(Etcd3gwMissing());
  // etcd3gw 2.0 defaults to /v3alpha/, which etcd 3.4 no longer serves.
  for (const std::string api_path : {"/v3alpha/", "/v3beta/", "/v3/"}) {
    ServerProcess server("memory:");
    ASSERT_TRUE(server.Start());
    CommandResult r = RunScript(server.port(), api_path);
    ASSERT_EQ(r.exit_code, 0) << api_path << " " << r.err;
    EXPECT_EQ(r.out, std::string(kExpected) + "lease granted\n") << api_path;
  }
}

TEST(EtcdGatewayPythonTest, Etcd3gwSeesWhatItSeesOnRealEtcd) {
  CHRONOCONF_REQUIRE(Etcd3gwMissing());
  CHRONOCONF_REQUIRE(RealEtcd::MissingReason());
  RealEtcd etcd;
  ASSERT_TRUE(etcd.Start());
  CommandResult r = RunScript(etcd.port(), "/v3/");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The same answers.
  EXPECT_EQ(r.out, std::string(kExpected) + "lease granted\n");
}

}  // namespace
}  // namespace chronoconf::test
