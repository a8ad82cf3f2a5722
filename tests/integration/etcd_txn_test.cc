// etcd's Txn through python3-etcd3's generated gRPC stubs (Debian's 0.12)
// against `serve --etcd-listen`: a nested Txn (its compares read the state
// before the Txn, as etcd 3.4's do), ignore_value and ignore_lease in a Txn,
// duplicates across nested branches, the op limit a nested Txn shares, an
// unknown compare target, and etcd's request size limit on Txn and Put. The
// expected lines are what etcd 3.4.23 answers to the same script.
#include <string>

#include "support/http_test_util.h"
#include "support/require.h"
#include "support/run_command.h"

namespace chronoconf::test {
namespace {

constexpr char kPython[] = "/usr/bin/python3";

std::string Etcd3Missing() {
  CommandResult r = RunCommand({kPython, "-c", "import etcd3"});
  return r.exit_code == 0 ? "" : "python3-etcd3 is not installed (apt-get install python3-etcd3)";
}

constexpr char kScript[] = R"(
import os, grpc
from etcd3 import etcdrpc as p
kv = p.KVStub(grpc.insecure_channel('127.0.0.1:' + os.environ['ETCD_PORT']))
def put_op(k, v='', **kw):
    return p.RequestOp(request_put=p.PutRequest(key=k.encode(), value=v.encode(), **kw))
def get_op(k): return p.RequestOp(request_range=p.RangeRequest(key=k.encode()))
def del_op(k): return p.RequestOp(request_delete_range=p.DeleteRangeRequest(key=k.encode()))
def txn_op(c, s, f=()):
    return p.RequestOp(request_txn=p.TxnRequest(compare=c, success=s, failure=f))
def value_is(k, v):
    return p.Compare(key=k.encode(), target=p.Compare.VALUE, result=p.Compare.EQUAL,
                     value=v.encode())
def show(r):
    kind = r.WhichOneof('response')
    if kind == 'response_range':
        kvs = r.response_range.kvs
        return 'get ' + ','.join(f'{k.key.decode()}={k.value.decode()} v{k.version}' for k in kvs)
    if kind == 'response_put':
        prev = r.response_put.prev_kv
        has_prev = r.response_put.HasField('prev_kv')
        return 'put' + (f' prev={prev.value.decode()}' if has_prev else '')
    if kind == 'response_delete_range': return f'del {r.response_delete_range.deleted}'
    t = r.response_txn
    return f'txn {t.succeeded} [' + '; '.join(show(o) for o in t.responses) + ']'
def run(name, req):
    try:
        r = kv.Txn(req)
        print(name, r.succeeded, ' | '.join(show(o) for o in r.responses))
    except grpc.RpcError as e:
        print(name, e.code().name, e.details())
kv.Put(p.PutRequest(key=b'/it/a', value=b'1'))
run('nested', p.TxnRequest(compare=[value_is('/it/a', '1')], success=[
    put_op('/it/a', '2'),
    txn_op([value_is('/it/a', '2')], [put_op('/it/b', 'yes')],
           [put_op('/it/b', 'no'), get_op('/it/a')]),
    get_op('/it/b')]))
run('ignore_value', p.TxnRequest(success=[put_op('/it/a', ignore_value=True, prev_kv=True),
                                          get_op('/it/a')]))
run('ignore_lease', p.TxnRequest(success=[put_op('/it/a', '3', ignore_lease=True),
                                          get_op('/it/a')]))
run('ignore_value_missing',
    p.TxnRequest(success=[txn_op([], [put_op('/it/none', ignore_value=True)])]))
run('duplicate_across_nested',
    p.TxnRequest(success=[del_op('/it/b'), txn_op([], [put_op('/it/b', 'x')])]))
run('both_branches', p.TxnRequest(success=[txn_op([value_is('/it/a', '9')], [put_op('/it/c', 'x')],
                                                 [put_op('/it/c', 'y'), del_op('/it/b')])]))
run('op_limit', p.TxnRequest(success=[txn_op([], [get_op('/it/a')] * 128)]))
run('unknown_target', p.TxnRequest(
    compare=[p.Compare(key=b'/it/a', target=9, result=p.Compare.EQUAL)], success=[get_op('/it/c')]))
run('too_large', p.TxnRequest(success=[put_op(f'/it/big{i}', 'x' * 20000) for i in range(100)]))
try:
    kv.Put(p.PutRequest(key=b'/it/big', value=b'x' * (1600 * 1024)))
    print('put_too_large ok')
except grpc.RpcError as e:
    print('put_too_large', e.code().name, e.details())
kvs = kv.Range(p.RangeRequest(key=b'/it/', range_end=b'/it0')).kvs
print('keys', [k.key.decode() for k in kvs])
)";

TEST(EtcdTxnTest, NestedTxnsIgnoreFlagsAndLimitsAnswerAsEtcd) {
  CHRONOCONF_REQUIRE(Etcd3Missing());
  const int port = PickFreePort();
  // Values up to 4 MiB: the 1.6 MB Put is refused for its request's size,
  // not its value's.
  ServerProcess server("memory:", {"--etcd-listen", "127.0.0.1:" + std::to_string(port),
                                   "--max-value-bytes", "4194304"});
  ASSERT_TRUE(server.Start());
  CommandOptions options;
  options.env["ETCD_PORT"] = std::to_string(port);
  options.timeout = std::chrono::seconds(30);
  CommandResult r = RunCommand({kPython, "-c", kScript}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "nested True put | txn False [put; get /it/a=2 v2] | get /it/b=no v1\n"
            "ignore_value True put prev=2 | get /it/a=2 v3\n"
            "ignore_lease True put | get /it/a=3 v4\n"
            "ignore_value_missing INVALID_ARGUMENT etcdserver: key not found\n"
            "duplicate_across_nested INVALID_ARGUMENT etcdserver: duplicate key given in txn "
            "request\n"
            "both_branches True txn False [put; del 1]\n"
            "op_limit INVALID_ARGUMENT etcdserver: too many operations in txn request\n"
            "unknown_target True get /it/c=y v1\n"
            "too_large INVALID_ARGUMENT etcdserver: request is too large\n"
            "put_too_large INVALID_ARGUMENT etcdserver: request is too large\n"
            "keys ['/it/a', '/it/c']\n");
}

}  // namespace
}  // namespace chronoconf::test
