// The Go clientv3 scenario of chronoconf's etcd differential tests
// (tests/etcd_clients/diff.py): Debian's clientv3 3.4 (golang-etcd-server-dev),
// built offline in GOPATH mode. It runs the same calls against whatever
// server it is pointed at (etcd 3.4 or `chronoconf serve --etcd-listen`) and
// prints one line per observation, "check: text". Revisions are printed
// relative to the store's revision when the scenario starts (etcd's empty
// store is at 1, chronoconf's at 0: SPEC §7); ids that SPEC §7 says differ
// are printed with a label (cluster_id=, member_id=, raft_term=, lease=) that
// the harness masks. Everything else is compared as printed.
//
// Usage: etcdscenario -endpoint 127.0.0.1:2379 -mode plain|auth [-user ci -password TOKEN]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"go.etcd.io/etcd/mvcc/mvccpb"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

var base int64

func out(check, format string, a ...interface{}) {
	fmt.Printf("%s: %s\n", check, fmt.Sprintf(format, a...))
}

// rv: a revision relative to the scenario's start (0 stays 0: "none").
func rv(r int64) int64 {
	if r <= 0 {
		return r
	}
	return r - base
}

// abs: the absolute revision of a relative one.
func abs(r int64) int64 { return r + base }

func errs(err error) string {
	if err == nil {
		return "ok"
	}
	code := status.Code(err)
	if ev, ok := err.(rpctypes.EtcdError); ok {
		code = ev.Code()
	}
	return fmt.Sprintf("ERR %s %q", code, rpctypes.ErrorDesc(err))
}

func kv(k *mvccpb.KeyValue) string {
	if k == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%q=%q c%d m%d v%d lease=%d", k.Key, k.Value, rv(k.CreateRevision), rv(k.ModRevision), k.Version, k.Lease)
}

func kvs(list []*mvccpb.KeyValue) string {
	parts := []string{}
	for _, k := range list {
		parts = append(parts, kv(k))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func ctx() context.Context {
	c, _ := context.WithTimeout(context.Background(), 5*time.Second)
	return c
}

func get(cli *clientv3.Client, check, key string, opts ...clientv3.OpOption) {
	r, err := cli.Get(ctx(), key, opts...)
	if err != nil {
		out(check, "%s", errs(err))
		return
	}
	out(check, "rev=%d count=%d more=%v kvs=%s", rv(r.Header.Revision), r.Count, r.More, kvs(r.Kvs))
}

func put(cli *clientv3.Client, check, key, val string, opts ...clientv3.OpOption) {
	r, err := cli.Put(ctx(), key, val, opts...)
	if err != nil {
		out(check, "%s", errs(err))
		return
	}
	out(check, "rev=%d prev=%s", rv(r.Header.Revision), kv(r.PrevKv))
}

func del(cli *clientv3.Client, check, key string, opts ...clientv3.OpOption) {
	r, err := cli.Delete(ctx(), key, opts...)
	if err != nil {
		out(check, "%s", errs(err))
		return
	}
	out(check, "rev=%d deleted=%d prev=%s", rv(r.Header.Revision), r.Deleted, kvs(r.PrevKvs))
}

func txnResp(check string, r *clientv3.TxnResponse, err error) {
	if err != nil {
		out(check, "%s", errs(err))
		return
	}
	out(check, "rev=%d succeeded=%v", rv(r.Header.Revision), r.Succeeded)
	for i, op := range r.Responses {
		out(check, "  op%d %s", i, opResp(op))
	}
}

func opResp(op *pb.ResponseOp) string {
	switch x := op.Response.(type) {
	case *pb.ResponseOp_ResponseRange:
		return fmt.Sprintf("range count=%d more=%v kvs=%s", x.ResponseRange.Count, x.ResponseRange.More, kvs(x.ResponseRange.Kvs))
	case *pb.ResponseOp_ResponsePut:
		return fmt.Sprintf("put prev=%s", kv(x.ResponsePut.PrevKv))
	case *pb.ResponseOp_ResponseDeleteRange:
		return fmt.Sprintf("delete deleted=%d prev=%s", x.ResponseDeleteRange.Deleted, kvs(x.ResponseDeleteRange.PrevKvs))
	case *pb.ResponseOp_ResponseTxn:
		t := x.ResponseTxn
		parts := []string{}
		for _, o := range t.Responses {
			parts = append(parts, opResp(o))
		}
		return fmt.Sprintf("txn succeeded=%v [%s]", t.Succeeded, strings.Join(parts, "; "))
	}
	return "?"
}

func ev(e *clientv3.Event) string {
	return fmt.Sprintf("%s %s prev=%s", e.Type, kv(e.Kv), kv(e.PrevKv))
}

// collect reads a watch channel until n events arrived or the timeout.
func collect(check string, wc clientv3.WatchChan, n int, timeout time.Duration) {
	got := 0
	deadline := time.After(timeout)
	for got < n {
		select {
		case wr, ok := <-wc:
			if !ok {
				out(check, "channel closed")
				return
			}
			if err := wr.Err(); err != nil {
				out(check, "watch error %s compact_revision=%d canceled=%v", errs(err), rv(wr.CompactRevision), wr.Canceled)
				return
			}
			if wr.IsProgressNotify() {
				out(check, "progress rev=%d", rv(wr.Header.Revision))
				got++ // a progress notification counts as what was waited for
				continue
			}
			if wr.Created {
				continue
			}
			for _, e := range wr.Events {
				out(check, "event %s", ev(e))
				got++
			}
		case <-deadline:
			out(check, "timeout after %d of %d events", got, n)
			return
		}
	}
}

// waitCreated waits for a watch's created notification (WithCreatedNotify).
func waitCreated(check string, wc clientv3.WatchChan) bool {
	select {
	case wr, ok := <-wc:
		if !ok {
			out(check, "channel closed before created")
			return false
		}
		if err := wr.Err(); err != nil {
			out(check, "create error %s compact_revision=%d", errs(err), rv(wr.CompactRevision))
			return false
		}
		if !wr.Created {
			out(check, "first response is not created: %d events", len(wr.Events))
			return false
		}
		return true
	case <-time.After(5 * time.Second):
		out(check, "no created notification in 5 s")
		return false
	}
}

// authenticate calls Auth.Authenticate itself (clientv3 3.4 does it only
// inside New, when a user name is configured).
func authenticate(cli *clientv3.Client, user, password string) (*pb.AuthenticateResponse, error) {
	return pb.NewAuthClient(cli.ActiveConnection()).Authenticate(ctx(), &pb.AuthenticateRequest{Name: user, Password: password})
}

func newClient(endpoint, user, password string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		DialTimeout: 5 * time.Second,
		Username:    user,
		Password:    password,
	})
}

func learnBase(cli *clientv3.Client, probe string) {
	r, err := cli.Get(ctx(), probe)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scenario: cannot read the base revision:", err)
		os.Exit(2)
	}
	base = r.Header.Revision
}

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "host:port")
	mode := flag.String("mode", "plain", "plain, or auth (the server has a user ci whose password is -password and who may write payments/)")
	password := flag.String("password", "", "ci's password (auth mode)")
	flag.Parse()
	if *mode == "auth" {
		authScenario(*endpoint, *password)
		return
	}
	cli, err := newClient(*endpoint, "", "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "scenario: connect:", err)
		os.Exit(2)
	}
	defer cli.Close()
	// Each section's revisions are relative to its own start, so that a
	// known gap (a write one server commits and the other refuses) does not
	// shift every revision after it.
	for _, section := range []func(*clientv3.Client){kvScenario, valueScenario, keyScenario, txnScenario, nestedTxnScenario,
		watchScenario, rawWatchScenario, bigScenario, moreTxnScenario, txnIgnoreScenario, clusterScenario, errorScenario, limitsScenario, leaseScenario, lockScenario, compactScenario} {
		learnBase(cli, "base-probe")
		section(cli)
	}
}

func kvScenario(cli *clientv3.Client) {
	put(cli, "put_new", "k/a", "1")
	put(cli, "put_prev_kv", "k/a", "2", clientv3.WithPrevKV())
	put(cli, "put_same_value_commits", "k/a", "2", clientv3.WithPrevKV())
	put(cli, "put_json", "k/b", `{"x":[1,2]}`)
	put(cli, "put_json_spaced", "k/c", `{ "y": true }`)
	put(cli, "put_text", "k/d", "1.50")
	put(cli, "put_empty_value", "k/e", "")
	put(cli, "put_other", "l/a", "other")
	get(cli, "get_one", "k/a")
	get(cli, "get_missing", "k/zz")
	get(cli, "get_json_roundtrip", "k/b")
	get(cli, "get_spaced_roundtrip", "k/c")
	get(cli, "get_text_roundtrip", "k/d")
	get(cli, "get_empty_value", "k/e")
	get(cli, "get_prefix", "k/", clientv3.WithPrefix())
	get(cli, "get_range", "k/b", clientv3.WithRange("k/d"))
	get(cli, "get_from_key", "k/d", clientv3.WithFromKey())
	get(cli, "get_all", "", clientv3.WithPrefix())
	get(cli, "get_limit", "k/", clientv3.WithPrefix(), clientv3.WithLimit(2))
	get(cli, "get_sort_key_desc", "k/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	get(cli, "get_sort_create_asc", "k/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	get(cli, "get_sort_mod_desc", "k/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend))
	get(cli, "get_sort_value_none", "k/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByValue, clientv3.SortNone))
	get(cli, "get_sort_version_desc_limit", "k/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByVersion, clientv3.SortDescend), clientv3.WithLimit(1))
	get(cli, "get_keys_only", "k/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	get(cli, "get_count_only", "k/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	get(cli, "get_at_revision_1", "k/a", clientv3.WithRev(abs(1)))
	get(cli, "get_prefix_at_revision_3", "k/", clientv3.WithPrefix(), clientv3.WithRev(abs(3)))
	get(cli, "get_min_mod_rev", "k/", clientv3.WithPrefix(), clientv3.WithMinModRev(abs(4)))
	get(cli, "get_max_mod_rev", "k/", clientv3.WithPrefix(), clientv3.WithMaxModRev(abs(3)))
	get(cli, "get_min_create_rev", "k/", clientv3.WithPrefix(), clientv3.WithMinCreateRev(abs(5)))
	get(cli, "get_max_create_rev", "k/", clientv3.WithPrefix(), clientv3.WithMaxCreateRev(abs(4)))
	get(cli, "get_serializable", "k/a", clientv3.WithSerializable())
	get(cli, "get_future_revision", "k/a", clientv3.WithRev(abs(1000)))

	del(cli, "delete_one_prev_kv", "k/e", clientv3.WithPrevKV())
	del(cli, "delete_nothing", "k/nothing")
	del(cli, "delete_range", "k/c", clientv3.WithRange("k/e"), clientv3.WithPrevKV())
	put(cli, "recreate", "k/c", "again")
	get(cli, "recreated_version_reset", "k/c")
	del(cli, "delete_prefix", "k/", clientv3.WithPrefix())
	get(cli, "after_delete_prefix", "", clientv3.WithPrefix())
	get(cli, "deleted_key_at_old_revision", "k/a", clientv3.WithRev(abs(2)))
}

// valueScenario: every value an etcd client puts reads back byte for byte
// (SPEC §7: minified JSON objects and arrays are stored as JSON, any other
// UTF-8 as a JSON string), through Range, a Txn's Range and a watch.
func valueScenario(cli *clientv3.Client) {
	values := []string{
		`{"a":1}`, `[1,2,3]`, `{}`, `[]`, `{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"a":"\u00e9"}`, `{"a":"\/"}`,
		`{"a":1.0}`, `{"a":1e2}`, `{"a":12345678901234567890123}`, `{"a":-0}`, `{"a":"é"}`, `{"a":"\ud83d\ude00"}`,
		`{"a":[{"b":null}]}`, `[true,false,null]`, `"quoted"`, `123`, `true`, `null`, ` {"a":1}`, `{"a":1} `,
		`{"a": 1}`, "{\n}", `{"a":1}{"b":2}`, `{"a":`, `[1,]`, `{'a':1}`, "tab\there", "line\nbreak", "ü ☃ 😀",
		strings.Repeat("v", 4096), `{"k":"` + strings.Repeat("x", 1000) + `"}`, `{"a":1E+2}`, `{"a":0.10}`, `[1.50,2e-3]`,
	}
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	wc := cli.Watch(wctx, "v/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	if !waitCreated("value_watch", wc) {
		return
	}
	for i, v := range values {
		key := fmt.Sprintf("v/%02d", i)
		if _, err := cli.Put(ctx(), key, v); err != nil {
			out("value_put", "%q %s", v, errs(err))
			continue
		}
		r, err := cli.Get(ctx(), key)
		if err != nil || len(r.Kvs) != 1 {
			out("value_get", "%q %s", v, errs(err))
			continue
		}
		got := string(r.Kvs[0].Value)
		if got == v {
			out("value_roundtrip", "%02d same", i)
		} else {
			out("value_roundtrip", "%q came back as %q", v, got)
		}
	}
	n := 0
	timeout := time.After(5 * time.Second)
	for n < len(values) {
		select {
		case wr := <-wc:
			for _, e := range wr.Events {
				i := n
				fmt.Sscanf(string(e.Kv.Key), "v/%d", &i)
				if i < len(values) && string(e.Kv.Value) != values[i] {
					out("value_watch", "%s: %q came back as %q", e.Kv.Key, values[i], e.Kv.Value)
				}
				n++
			}
		case <-timeout:
			out("value_watch", "timeout after %d events", n)
			n = len(values)
		}
	}
	out("value_watch", "%d events", n)
	r, err := cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("v/00"), "=", values[0]), clientv3.Compare(clientv3.Value("v/06"), "=", values[6])).
		Then(clientv3.OpGet("v/05"), clientv3.OpGet("v/06")).Commit()
	txnResp("value_txn_compare_bytes", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("v/00"), ">", `{"a":0}`), clientv3.Compare(clientv3.Value("v/00"), "<", `{"b":0}`)).Then(clientv3.OpGet("v/00", clientv3.WithKeysOnly())).Commit()
	txnResp("value_txn_compare_greater_less_bytes", r, err)
	get(cli, "value_sort_by_value", "v/1", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByValue, clientv3.SortAscend), clientv3.WithKeysOnly())
	del(cli, "value_cleanup", "v/", clientv3.WithPrefix())
}

// keyScenario: keys that are ordinary bytes in both (SPEC §1's widened keys).
func keyScenario(cli *clientv3.Client) {
	keys := []string{"/lead", "trail/", "with space", "a/../b", "ü/☃", "x", "UPPER", "a\\b", "%2F", "?q=1#f", strings.Repeat("k", 1024)}
	for _, k := range keys {
		show := k
		if len(show) > 40 {
			show = show[:20] + fmt.Sprintf("...(%d bytes)", len(k))
		}
		if _, err := cli.Put(ctx(), k, "v"); err != nil {
			out("key_put", "%q %s", show, errs(err))
			continue
		}
		r, err := cli.Get(ctx(), k)
		if err != nil {
			out("key_get", "%q %s", show, errs(err))
			continue
		}
		out("key_roundtrip", "%q count=%d", show, r.Count)
	}
	// (Not a key of 1025 bytes: etcd takes it, chronoconf refuses it, as
	// SPEC §7 says.)
	r, err := cli.Get(ctx(), "", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		out("key_order", "%s", errs(err))
	} else {
		order := []string{}
		for _, k := range r.Kvs {
			s := string(k.Key)
			if len(s) > 40 {
				s = s[:5] + "..."
			}
			order = append(order, s)
		}
		out("key_order", "%q", order)
	}
	get(cli, "key_negative_revision", "x", clientv3.WithRev(-1))
	del(cli, "key_delete_from_key", "a", clientv3.WithFromKey())
	del(cli, "key_cleanup", "", clientv3.WithPrefix())
}

func txnScenario(cli *clientv3.Client) {
	put(cli, "txn_setup", "t/a", "1")
	put(cli, "txn_setup", "t/b", "2")
	r, err := cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("t/a"), "=", "1")).
		Then(clientv3.OpPut("t/a", "10", clientv3.WithPrevKV()), clientv3.OpGet("t/a"), clientv3.OpGet("t/", clientv3.WithPrefix())).
		Else(clientv3.OpGet("t/b")).Commit()
	txnResp("txn_value_equal_success_reads_own_write", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("t/a"), "=", "1")).
		Then(clientv3.OpPut("t/a", "never")).
		Else(clientv3.OpGet("t/b"), clientv3.OpPut("t/c", "3")).Commit()
	txnResp("txn_failure_branch", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Version("t/a"), ">", 1), clientv3.Compare(clientv3.CreateRevision("t/none"), "=", 0)).
		Then(clientv3.OpDelete("t/b", clientv3.WithPrevKV()), clientv3.OpGet("t/", clientv3.WithPrefix())).Commit()
	txnResp("txn_version_greater_create_zero", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.ModRevision("t/a"), "<", abs(1))).Then(clientv3.OpPut("t/x", "x")).Commit()
	txnResp("txn_mod_less_fails", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("t/a"), "!=", "10")).Else(clientv3.OpGet("t/a", clientv3.WithKeysOnly())).Commit()
	txnResp("txn_not_equal_else_keys_only", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Version("t/"), ">", 0).WithPrefix()).Then(clientv3.OpGet("t/", clientv3.WithCountOnly(), clientv3.WithPrefix())).Commit()
	txnResp("txn_compare_over_prefix", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("t/"), "=", "10").WithPrefix()).Then(clientv3.OpGet("t/a")).Commit()
	txnResp("txn_value_compare_over_prefix_fails", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("t/none"), "=", "")).Then(clientv3.OpGet("t/a")).Else(clientv3.OpGet("t/c")).Commit()
	txnResp("txn_value_compare_missing_key", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.LeaseValue("t/a"), "=", 0)).Then(clientv3.OpGet("t/a")).Commit()
	txnResp("txn_lease_compare", r, err)
	r, err = cli.Txn(ctx()).If().Then(clientv3.OpGet("t/a")).Commit()
	txnResp("txn_read_only_no_commit", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpPut("t/d", "1"), clientv3.OpPut("t/d", "2")).Commit()
	txnResp("txn_duplicate_key", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpPut("t/d", "1"), clientv3.OpDelete("t/", clientv3.WithPrefix())).Commit()
	txnResp("txn_put_and_delete_range_duplicate", r, err)
	ops := []clientv3.Op{}
	for i := 0; i < 129; i++ {
		ops = append(ops, clientv3.OpPut(fmt.Sprintf("t/many/%03d", i), "x"))
	}
	r, err = cli.Txn(ctx()).Then(ops...).Commit()
	txnResp("txn_too_many_ops", r, err)
	r, err = cli.Txn(ctx()).Then(ops[:128]...).Commit()
	if err != nil {
		out("txn_128_ops", "%s", errs(err))
	} else {
		out("txn_128_ops", "rev=%d succeeded=%v responses=%d", rv(r.Header.Revision), r.Succeeded, len(r.Responses))
	}
	get(cli, "txn_128_ops_count", "t/many/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	del(cli, "txn_cleanup", "t/", clientv3.WithPrefix())
}

func nestedTxnScenario(cli *clientv3.Client) {
	put(cli, "txn_nested_setup", "t/a", "10")
	put(cli, "txn_nested_setup", "t/c", "3")
	r, err := cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("t/a"), "=", "10")).
		Then(clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.Version("t/c"), "=", 1)},
			[]clientv3.Op{clientv3.OpPut("t/nested", "yes"), clientv3.OpGet("t/nested")},
			[]clientv3.Op{clientv3.OpGet("t/c")}),
			clientv3.OpGet("t/nested")).Commit()
	txnResp("txn_nested", r, err)
	get(cli, "txn_nested_after", "t/nested")
	r, err = cli.Txn(ctx()).Then(clientv3.OpPut("t/e", "1"), clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("t/e", "2")}, nil)).Commit()
	txnResp("txn_nested_duplicate_key", r, err)
	// etcd 3.4 decides every compare of the path before any op runs: the
	// nested compare does not see the outer put before it.
	r, err = cli.Txn(ctx()).Then(clientv3.OpPut("t/f", "2"),
		clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value("t/f"), "=", "2")},
			[]clientv3.Op{clientv3.OpPut("t/g", "yes")},
			[]clientv3.Op{clientv3.OpPut("t/g", "no"), clientv3.OpGet("t/f")}),
		clientv3.OpGet("t/g")).Commit()
	txnResp("txn_nested_compares_read_before_the_txn", r, err)
	// Both branches of one nested Txn may put a key (one runs); a key put
	// by one nested Txn and deleted by another may not.
	r, err = cli.Txn(ctx()).Then(clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("t/h", "1")},
		[]clientv3.Op{clientv3.OpPut("t/h", "2")})).Commit()
	txnResp("txn_nested_both_branches_put", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpDelete("t/h")}, nil),
		clientv3.OpTxn(nil, nil, []clientv3.Op{clientv3.OpPut("t/h", "3")})).Commit()
	txnResp("txn_nested_delete_and_put_duplicate", r, err)
	// A nested Txn's failure branch runs, and deletes in it count.
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Version("t/c"), "=", 1)).Then(
		clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value("t/a"), "=", "nope")},
			[]clientv3.Op{clientv3.OpPut("t/never", "x")},
			[]clientv3.Op{clientv3.OpDelete("t/g", clientv3.WithPrevKV()), clientv3.OpGet("t/", clientv3.WithPrefix(), clientv3.WithCountOnly())})).Commit()
	txnResp("txn_nested_failure_branch", r, err)
	// The op limit (128) is shared with the enclosing Txn: 100 ops leave 28.
	nestedOf := func(n int) clientv3.Op {
		ops := []clientv3.Op{}
		for i := 0; i < n; i++ {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("t/lim/%03d", i), "x"))
		}
		return clientv3.OpTxn(nil, ops, nil)
	}
	for _, n := range []int{28, 29} {
		ops := []clientv3.Op{nestedOf(n)}
		for i := 0; i < 99; i++ {
			ops = append(ops, clientv3.OpGet("t/a"))
		}
		r, err = cli.Txn(ctx()).Then(ops...).Commit()
		if err != nil {
			out(fmt.Sprintf("txn_nested_ops_limit_%d", n), "%s", errs(err))
		} else {
			out(fmt.Sprintf("txn_nested_ops_limit_%d", n), "rev=%d succeeded=%v responses=%d", rv(r.Header.Revision), r.Succeeded, len(r.Responses))
		}
	}
	get(cli, "txn_nested_ops_limit_count", "t/lim/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	// A Range above the head fails the Txn only in a branch taken.
	future := clientv3.OpGet("t/a", clientv3.WithRev(1000000000))
	r, err = cli.Txn(ctx()).Then(clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value("t/a"), "=", "nope")},
		[]clientv3.Op{future}, []clientv3.Op{clientv3.OpGet("t/a")})).Commit()
	txnResp("txn_nested_future_revision_not_taken", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("t/z", "1"), future}, nil)).Commit()
	txnResp("txn_nested_future_revision_taken", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("t/a"), "=", "nope")).Then(future).Else(clientv3.OpGet("t/z")).Commit()
	txnResp("txn_future_revision_not_taken", r, err)
	del(cli, "txn_nested_cleanup", "t/", clientv3.WithPrefix())
	// A delete from a key on (range_end "\0") is no interval to etcd's
	// duplicate check: a put of a key it deletes is taken, and re-creates it.
	// ("~": after every other key the scenario leaves.)
	put(cli, "txn_delete_from_key_setup", "~txn/a", "1")
	put(cli, "txn_delete_from_key_setup", "~txn/b", "1")
	r, err = cli.Txn(ctx()).Then(clientv3.OpDelete("~txn/a", clientv3.WithFromKey()), clientv3.OpPut("~txn/c", "new")).Commit()
	txnResp("txn_delete_from_key_then_put_new", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpDelete("~txn/c", clientv3.WithFromKey()), clientv3.OpPut("~txn/c", "again")).Commit()
	txnResp("txn_delete_from_key_then_put_deleted_key", r, err)
	get(cli, "txn_delete_from_key_then_put_deleted_key_after", "~txn/", clientv3.WithPrefix())
	del(cli, "txn_delete_from_key_then_put_deleted_key_cleanup", "~txn/", clientv3.WithPrefix())
	// The other order: a delete from a key on sees the Txn's own put of
	// that key (etcd's deleteRange reads the Txn's writes) and deletes it.
	r, err = cli.Txn(ctx()).Then(clientv3.OpPut("~txn/p", "put"), clientv3.OpDelete("~txn/p", clientv3.WithFromKey())).Commit()
	txnResp("txn_put_then_delete_from_key", r, err)
	get(cli, "txn_put_then_delete_from_key_after", "~txn/", clientv3.WithPrefix())
	del(cli, "txn_put_then_delete_from_key_cleanup", "~txn/", clientv3.WithPrefix())
}

func watchScenario(cli *clientv3.Client) {
	// History first: writes, then watches from a start revision.
	r0, _ := cli.Get(ctx(), "w-probe")
	start := r0.Header.Revision + 1
	put(cli, "watch_setup", "w/a", "1")
	put(cli, "watch_setup", "w/b", "1")
	put(cli, "watch_setup", "w/a", "2")
	del(cli, "watch_setup", "w/b")
	put(cli, "watch_setup", "x/a", "1")

	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	// Several watches on one stream (clientv3 shares the stream of one context).
	hist := cli.Watch(wctx, "w/", clientv3.WithPrefix(), clientv3.WithRev(start), clientv3.WithPrevKV())
	collect("watch_history_prefix_prev_kv", hist, 4, 5*time.Second)
	noput := cli.Watch(wctx, "w/", clientv3.WithPrefix(), clientv3.WithRev(start), clientv3.WithFilterPut())
	collect("watch_history_filter_noput", noput, 1, 5*time.Second)
	nodel := cli.Watch(wctx, "w/a", clientv3.WithRev(start), clientv3.WithFilterDelete())
	collect("watch_history_one_key_nodelete", nodel, 2, 5*time.Second)
	rng := cli.Watch(wctx, "w/", clientv3.WithRange("x/b"), clientv3.WithRev(start+1))
	collect("watch_history_range", rng, 4, 5*time.Second)

	// Live: created notifications first, then writes.
	live := cli.Watch(wctx, "live/", clientv3.WithPrefix(), clientv3.WithCreatedNotify(), clientv3.WithPrevKV())
	liveKey := cli.Watch(wctx, "live/a", clientv3.WithCreatedNotify())
	fromKey := cli.Watch(wctx, "live/b", clientv3.WithFromKey(), clientv3.WithCreatedNotify(), clientv3.WithFilterDelete())
	if waitCreated("watch_live", live) && waitCreated("watch_live", liveKey) && waitCreated("watch_live", fromKey) {
		put(cli, "watch_live_write", "live/a", "1")
		put(cli, "watch_live_write", "live/b", "2")
		r, err := cli.Txn(ctx()).Then(clientv3.OpPut("live/a", "3"), clientv3.OpDelete("live/b")).Commit()
		txnResp("watch_live_write_txn", r, err)
		collect("watch_live_prefix", live, 4, 5*time.Second)
		collect("watch_live_one_key", liveKey, 2, 5*time.Second)
		collect("watch_live_from_key_nodelete", fromKey, 1, 5*time.Second)
	}

	// Every key ("" with WithPrefix: key "\x00", range_end "\x00"), and every
	// key from one on ("\x00" as range_end).
	all := cli.Watch(wctx, "", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	from := cli.Watch(wctx, "live/", clientv3.WithFromKey(), clientv3.WithCreatedNotify())
	if waitCreated("watch_every_key", all) && waitCreated("watch_from_key", from) {
		put(cli, "watch_every_key_write", "a-first-key", "1")
		put(cli, "watch_every_key_write", "zz-last-key", "1")
		collect("watch_every_key", all, 2, 5*time.Second)
		collect("watch_from_key", from, 1, 5*time.Second)
	}

	// Progress request: answered on every watch of the stream with the head.
	if err := cli.RequestProgress(wctx); err != nil {
		out("watch_progress_request", "%s", errs(err))
	} else {
		collect("watch_progress_request", liveKey, 1, 2*time.Second)
	}

	// Cancel: the channel closes; writes after it are not seen.
	cctx, ccancel := context.WithCancel(context.Background())
	cw := cli.Watch(cctx, "c/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	if waitCreated("watch_cancel", cw) {
		ccancel()
		put(cli, "watch_cancel_write", "c/a", "1")
		collect("watch_cancel", cw, 1, 2*time.Second)
	}
	ccancel()

	// progress_notify: periodic progress on an idle watch (the harness
	// starts etcd with --experimental-watch-progress-notify-interval=1s).
	pctx, pcancel := context.WithCancel(context.Background())
	pw := cli.Watch(pctx, "idle/", clientv3.WithPrefix(), clientv3.WithProgressNotify(), clientv3.WithCreatedNotify())
	if waitCreated("watch_progress_notify", pw) {
		collect("watch_progress_notify", pw, 1, 3*time.Second)
	}
	pcancel()
	del(cli, "watch_cleanup", "", clientv3.WithPrefix())
}

// rawWatchStream opens a Watch stream of its own and returns it with
// step, which sends one request and prints the responses it brings: it waits
// (up to 5 s) for the `expect` responses etcd 3.4 sends, then 200 ms more
// for any it does not. done ends the stream.
func rawWatchStream(cli *clientv3.Client) (pb.Watch_WatchClient, func(string, *pb.WatchRequest, int), func()) {
	wctx, wcancel := context.WithCancel(context.Background())
	stream, err := pb.NewWatchClient(cli.ActiveConnection()).Watch(wctx)
	if err != nil {
		out("raw_watch", "%s", errs(err))
		wcancel()
		return nil, nil, nil
	}
	resps := make(chan *pb.WatchResponse, 100)
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				out("raw_watch_stream_end", "%s", errs(err))
				close(resps)
				return
			}
			resps <- r
		}
	}()
	step := func(check string, req *pb.WatchRequest, expect int) {
		if req != nil {
			if err := stream.Send(req); err != nil {
				out(check, "send %s", errs(err))
				return
			}
		}
		// The responses of one step in a fixed order: which of several
		// watches hears of a commit first is not specified (etcd varies).
		lines := []string{}
		defer func() {
			sort.Strings(lines)
			for _, l := range lines {
				out(check, "%s", l)
			}
		}()
		deadline := time.After(5 * time.Second)
		got := 0
		for {
			if got >= expect {
				deadline = time.After(200 * time.Millisecond)
				expect = 1 << 30
			}
			select {
			case r, ok := <-resps:
				if !ok {
					return
				}
				got++
				evs := []string{}
				for _, e := range r.Events {
					evs = append(evs, fmt.Sprintf("%s %s", e.Type, kv(e.Kv)))
				}
				lines = append(lines, fmt.Sprintf("watch_id=%d created=%v canceled=%v cancel_reason=%q compact_revision=%d fragment=%v header_rev=%d events=%v",
					r.WatchId, r.Created, r.Canceled, r.CancelReason, rv(r.CompactRevision), r.Fragment, rv(r.Header.Revision), evs))
			case <-deadline:
				return
			}
		}
	}
	return stream, step, wcancel
}

func watchCreate(c *pb.WatchCreateRequest) *pb.WatchRequest {
	return &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: c}}
}

func watchCancel(id int64) *pb.WatchRequest {
	return &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CancelRequest{CancelRequest: &pb.WatchCancelRequest{WatchId: id}}}
}

// rawWatchScenario speaks the Watch stream itself (as jetcd and other
// clients do): client-chosen ids, a duplicate id, cancel of an unknown id,
// progress requests, an empty key, a future start revision; every response
// printed as it comes.
func rawWatchScenario(cli *clientv3.Client) {
	stream, step, done := rawWatchStream(cli)
	if stream == nil {
		return
	}
	defer done()
	create := watchCreate
	put(cli, "raw_watch_setup", "rw/a", "1")
	step("raw_watch_create_id_7", create(&pb.WatchCreateRequest{Key: []byte("rw/a"), WatchId: 7, StartRevision: abs(1)}), 2)
	step("raw_watch_create_duplicate_id_7", create(&pb.WatchCreateRequest{Key: []byte("rw/b"), WatchId: 7}), 1)
	step("raw_watch_create_auto_id", create(&pb.WatchCreateRequest{Key: []byte("rw/"), RangeEnd: []byte("rw0"), PrevKv: true}), 1)
	step("raw_watch_create_auto_id_2", create(&pb.WatchCreateRequest{Key: []byte("rw/c")}), 1)
	put(cli, "raw_watch_write", "rw/a", "2")
	step("raw_watch_events", nil, 2)
	step("raw_watch_progress_request", &pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}}, 1)
	step("raw_watch_cancel_7", watchCancel(7), 1)
	step("raw_watch_cancel_unknown", watchCancel(999), 0)
	step("raw_watch_create_future_start", create(&pb.WatchCreateRequest{Key: []byte("rw/f"), WatchId: 20, StartRevision: abs(1000)}), 1)
	step("raw_watch_create_empty_key", create(&pb.WatchCreateRequest{Key: []byte(""), WatchId: 21}), 1)
	step("raw_watch_create_negative_id", create(&pb.WatchCreateRequest{Key: []byte("rw/n"), WatchId: -5}), 1)
	step("raw_watch_create_filters_both", create(&pb.WatchCreateRequest{Key: []byte("rw/"), RangeEnd: []byte("rw0"), WatchId: 22,
		Filters: []pb.WatchCreateRequest_FilterType{pb.WatchCreateRequest_NOPUT, pb.WatchCreateRequest_NODELETE}}), 1)
	del(cli, "raw_watch_delete", "rw/a")
	step("raw_watch_events_after_delete", nil, 1)
	step("raw_watch_empty_request", &pb.WatchRequest{}, 0)
	stream.CloseSend()
	step("raw_watch_close_send", nil, 0)
	del(cli, "raw_watch_cleanup", "rw/", clientv3.WithPrefix())
}

// bigScenario: 2.4 MB of values (twelve of 200 kB): a Range of all of them,
// and a watch from history with and without `fragment` (etcd 3.4 splits a
// response over its request limit + gRPC overhead, 2 MiB, into fragments
// only when asked; how many responses carry the events otherwise is not
// specified, so only the fragment flags are compared).
func bigScenario(cli *clientv3.Client) {
	big := strings.Repeat("b", 200*1000)
	for i := 0; i < 12; i++ {
		if _, err := cli.Put(ctx(), fmt.Sprintf("big/%02d", i), big); err != nil {
			out("big_put", "%s", errs(err))
			return
		}
	}
	r, err := cli.Get(ctx(), "big/", clientv3.WithPrefix())
	if err != nil {
		out("big_range", "%s", errs(err))
	} else {
		size := 0
		for _, k := range r.Kvs {
			size += len(k.Value)
		}
		out("big_range", "count=%d bytes=%d", r.Count, size)
	}
	for _, fragment := range []bool{false, true} {
		check := fmt.Sprintf("big_watch_history_fragment_%v", fragment)
		wctx, wcancel := context.WithCancel(context.Background())
		stream, err := pb.NewWatchClient(cli.ActiveConnection()).Watch(wctx)
		if err != nil {
			out(check, "%s", errs(err))
			wcancel()
			continue
		}
		stream.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: &pb.WatchCreateRequest{
			Key: []byte("big/"), RangeEnd: []byte("big0"), StartRevision: abs(1), Fragment: fragment}}})
		events, responses, fragments, lastFragment := 0, 0, 0, false
		for events < 12 {
			done := make(chan *pb.WatchResponse, 1)
			go func() {
				r, err := stream.Recv()
				if err != nil {
					out(check, "recv %s", errs(err))
					done <- nil
					return
				}
				done <- r
			}()
			var resp *pb.WatchResponse
			select {
			case resp = <-done:
			case <-time.After(5 * time.Second):
			}
			if resp == nil {
				out(check, "stopped after %d events", events)
				break
			}
			if resp.Created && len(resp.Events) == 0 {
				continue
			}
			responses++
			if resp.Fragment {
				fragments++
			}
			lastFragment = resp.Fragment
			events += len(resp.Events)
		}
		out(check, "events=%d fragmented=%v last_response_unflagged=%v", events, fragments > 0, !lastFragment)
		wcancel()
	}
	del(cli, "big_cleanup", "big/", clientv3.WithPrefix())
}

// moreTxnScenario: Txn corners (reads at a revision inside a branch, sorted
// and limited reads, compares over an empty range, too many compares, a
// future revision inside a branch, a delete of a range in a branch).
func moreTxnScenario(cli *clientv3.Client) {
	put(cli, "txn2_setup", "m/a", "1")
	put(cli, "txn2_setup", "m/b", "2")
	put(cli, "txn2_setup", "m/a", "3")
	r, err := cli.Txn(ctx()).Then(clientv3.OpGet("m/a", clientv3.WithRev(abs(1))), clientv3.OpGet("m/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(1)),
		clientv3.OpGet("m/", clientv3.WithPrefix(), clientv3.WithCountOnly())).Commit()
	txnResp("txn2_reads_at_revision_sorted_limited", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Version("n/"), "=", 0).WithPrefix()).Then(clientv3.OpGet("m/a")).Commit()
	txnResp("txn2_compare_empty_range_version_zero", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.CreateRevision("m/"), ">", 0).WithPrefix(), clientv3.Compare(clientv3.ModRevision("m/"), "<", abs(100)).WithPrefix()).Then(clientv3.OpGet("m/b")).Commit()
	txnResp("txn2_compare_range_create_mod", r, err)
	r, err = cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("m/"), ">", "0").WithRange("m/c")).Then(clientv3.OpGet("m/b")).Commit()
	txnResp("txn2_compare_value_greater_range", r, err)
	cmps := []clientv3.Cmp{}
	for i := 0; i < 129; i++ {
		cmps = append(cmps, clientv3.Compare(clientv3.Version(fmt.Sprintf("m/c%03d", i)), "=", 0))
	}
	r, err = cli.Txn(ctx()).If(cmps...).Then(clientv3.OpGet("m/a")).Commit()
	txnResp("txn2_too_many_compares", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpGet("m/a", clientv3.WithRev(abs(1000)))).Commit()
	txnResp("txn2_future_revision_in_branch", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpDelete("m/", clientv3.WithPrefix(), clientv3.WithPrevKV()), clientv3.OpGet("m/", clientv3.WithPrefix()), clientv3.OpPut("n/x", "1")).Commit()
	txnResp("txn2_delete_range_then_read_then_put_elsewhere", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpPut("n/y", "1", clientv3.WithPrevKV()), clientv3.OpPut("n/x", "2", clientv3.WithPrevKV())).Commit()
	txnResp("txn2_puts_prev_kv", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpDelete("n/nothing")).Commit()
	txnResp("txn2_delete_nothing_no_commit", r, err)
	get(cli, "txn2_after", "n/", clientv3.WithPrefix())
	del(cli, "txn2_cleanup", "n/", clientv3.WithPrefix())
}

// txnIgnoreScenario: ignore_value and ignore_lease on a Put inside a Txn.
func txnIgnoreScenario(cli *clientv3.Client) {
	put(cli, "txn_ignore_setup", "n/x", "1")
	r, err := cli.Txn(ctx()).Then(clientv3.OpPut("n/z", "", clientv3.WithIgnoreValue())).Commit()
	txnResp("txn_ignore_value_missing_key", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpPut("n/x", "", clientv3.WithIgnoreValue(), clientv3.WithPrevKV())).Commit()
	txnResp("txn_ignore_value", r, err)
	r, err = cli.Txn(ctx()).Then(clientv3.OpPut("n/x", "9", clientv3.WithIgnoreLease())).Commit()
	txnResp("txn_ignore_lease", r, err)
	get(cli, "txn_ignore_after", "n/", clientv3.WithPrefix())
	del(cli, "txn_ignore_cleanup", "n/", clientv3.WithPrefix())
}

func clusterScenario(cli *clientv3.Client) {
	ml, err := cli.MemberList(ctx())
	if err != nil {
		out("member_list", "%s", errs(err))
	} else {
		out("member_list", "cluster_id=%d member_id=%d raft_term=%d members=%d", ml.Header.ClusterId, ml.Header.MemberId, ml.Header.RaftTerm, len(ml.Members))
		for _, m := range ml.Members {
			out("member_list", "member_id=%d is_learner=%v client_urls=%d peer_urls=%d self=%v", m.ID, m.IsLearner, len(m.ClientURLs), len(m.PeerURLs), m.ID == ml.Header.MemberId)
		}
	}
	st, err := cli.Status(ctx(), cli.Endpoints()[0])
	if err != nil {
		out("status", "%s", errs(err))
	} else {
		// version: SPEC §7 has chronoconf report 3.5.x; etcd 3.4.x. Both must parse as >= 3.4.
		var maj, min int
		fmt.Sscanf(st.Version, "%d.%d", &maj, &min)
		out("status", "version_at_least_3.4=%v db_size_positive=%v leader_is_self=%v raft_term=%d errors=%v header_rev=%d",
			maj > 3 || (maj == 3 && min >= 4), st.DbSize > 0, st.Leader == st.Header.MemberId, st.RaftTerm, st.Errors, rv(st.Header.Revision))
	}
	ar, err := cli.AlarmList(ctx())
	if err != nil {
		out("alarm_list", "%s", errs(err))
	} else {
		out("alarm_list", "alarms=%d", len(ar.Alarms))
	}
	_, err = cli.Defragment(ctx(), cli.Endpoints()[0])
	out("defragment", "%s", errs(err))
	h, err := cli.HashKV(ctx(), cli.Endpoints()[0], 0)
	if err != nil {
		out("hash_kv", "%s", errs(err))
	} else {
		out("hash_kv", "ok header_rev=%d", rv(h.Header.Revision))
	}
	_, err = authenticate(cli, "ci", "x")
	out("authenticate_when_auth_off", "%s", errs(err))
}

func errorScenario(cli *clientv3.Client) {
	put(cli, "error_empty_key", "", "v")
	get(cli, "error_empty_key_get", "")
	big := strings.Repeat("x", 1600*1024)
	put(cli, "error_request_too_large", "e/big", big)
	r, err := cli.Txn(ctx()).If(clientv3.Compare(clientv3.Value("e/a"), "=", "x")).Then(clientv3.OpPut("", "v")).Commit()
	txnResp("error_txn_empty_key", r, err)
	put(cli, "error_lease_not_found", "e/a", "v", clientv3.WithLease(clientv3.LeaseID(12345)))
	kvc := pb.NewKVClient(cli.ActiveConnection())
	_, err = kvc.Txn(ctx(), &pb.TxnRequest{Success: []*pb.RequestOp{{}}})
	out("error_txn_empty_op", "%s", errs(err))
	_, err = kvc.Put(ctx(), &pb.PutRequest{Key: []byte("e/a"), Value: []byte("v"), IgnoreValue: true})
	out("error_put_ignore_value_with_value", "%s", errs(err))
	_, err = kvc.DeleteRange(ctx(), &pb.DeleteRangeRequest{Key: []byte("")})
	out("error_delete_empty_key", "%s", errs(err))
	rr, err := kvc.Range(ctx(), &pb.RangeRequest{Key: []byte("e/9"), RangeEnd: []byte("e/1")})
	if err != nil {
		out("range_end_before_key", "%s", errs(err))
	} else {
		out("range_end_before_key", "count=%d", rr.Count)
	}
	put(cli, "put_ignore_value_missing_key", "e/none", "", clientv3.WithIgnoreValue())
	put(cli, "put_ignore_value_setup", "e/b", "keep")
	put(cli, "put_ignore_value", "e/b", "", clientv3.WithIgnoreValue(), clientv3.WithPrevKV())
	get(cli, "put_ignore_value_after", "e/b")
	put(cli, "put_ignore_lease", "e/b", "new", clientv3.WithIgnoreLease())
	get(cli, "put_ignore_lease_after", "e/b")
	del(cli, "error_cleanup", "e/", clientv3.WithPrefix())
}

// limitsScenario: where etcd's limits and chronoconf's part (each check
// writes or not depending on the server: its cleanup prints nothing).
func limitsScenario(cli *clientv3.Client) {
	put(cli, "error_put_300kb", "lim/300k", strings.Repeat("x", 300*1000))
	ops := []clientv3.Op{}
	for i := 0; i < 100; i++ {
		ops = append(ops, clientv3.OpPut(fmt.Sprintf("lim/t%03d", i), strings.Repeat("y", 20000)))
	}
	r, err := cli.Txn(ctx()).Then(ops...).Commit()
	if err != nil {
		out("error_txn_request_too_large", "%s", errs(err))
	} else {
		out("error_txn_request_too_large", "succeeded=%v responses=%d", r.Succeeded, len(r.Responses))
	}
	tr, err := pb.NewKVClient(cli.ActiveConnection()).Txn(ctx(), &pb.TxnRequest{Compare: []*pb.Compare{{Key: []byte("lim/a"), Target: 9, Result: pb.Compare_EQUAL}}})
	if err != nil {
		out("error_txn_compare_unknown_target", "%s", errs(err))
	} else {
		out("error_txn_compare_unknown_target", "succeeded=%v", tr.Succeeded)
	}
	tr, err = pb.NewKVClient(cli.ActiveConnection()).Txn(ctx(), &pb.TxnRequest{Compare: []*pb.Compare{{Key: []byte("lim/a"), Target: pb.Compare_VERSION, Result: 9, TargetUnion: &pb.Compare_Version{Version: 123}}}})
	if err != nil {
		out("error_txn_compare_unknown_result", "%s", errs(err))
	} else {
		out("error_txn_compare_unknown_result", "succeeded=%v", tr.Succeeded)
	}
	cli.Delete(ctx(), "lim/", clientv3.WithPrefix())
}

func leaseScenario(cli *clientv3.Client) {
	g, err := cli.Grant(ctx(), 60)
	if err != nil {
		out("lease_grant", "%s", errs(err))
		return
	}
	out("lease_grant", "lease=%d ttl=%d", g.ID, g.TTL)
	// A grant is a commit in chronoconf (SPEC §7: leases are events), so it
	// takes a revision where etcd's takes none: count from after it.
	learnBase(cli, "base-probe")
	put(cli, "lease_put", "lease/a", "v", clientv3.WithLease(g.ID))
	get(cli, "lease_get", "lease/a")
	t, err := cli.TimeToLive(ctx(), g.ID, clientv3.WithAttachedKeys())
	if err != nil {
		out("lease_time_to_live", "%s", errs(err))
	} else {
		keys := []string{}
		for _, k := range t.Keys {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		out("lease_time_to_live", "lease=%d granted_ttl=%d ttl_in_range=%v keys=%v", t.ID, t.GrantedTTL, t.TTL > 50 && t.TTL <= 60, keys)
	}
	_, err = cli.KeepAliveOnce(ctx(), g.ID)
	out("lease_keepalive_once", "%s", errs(err))
	_, err = cli.Revoke(ctx(), g.ID)
	out("lease_revoke", "%s", errs(err))
	get(cli, "lease_revoked_key_gone", "lease/a")
	_, err = cli.Revoke(ctx(), g.ID)
	out("lease_revoke_unknown", "%s", errs(err))
	t, err = cli.TimeToLive(ctx(), g.ID)
	if err != nil {
		out("lease_time_to_live_unknown", "%s", errs(err))
	} else {
		out("lease_time_to_live_unknown", "ttl=%d granted_ttl=%d", t.TTL, t.GrantedTTL)
	}
	_, err = cli.Grant(ctx(), 10000000000)
	out("lease_grant_ttl_too_large", "%s", errs(err))
	g2, err := cli.Grant(ctx(), 1)
	if err == nil {
		t, err = cli.TimeToLive(ctx(), g2.ID)
		out("lease_grant_ttl_minimum", "granted_ttl=%d %s", t.GrantedTTL, errs(err))
		cli.Revoke(ctx(), g2.ID)
	}
	// A client-chosen id: clientv3 3.4 has no option for it, the raw stub has.
	raw := pb.NewLeaseClient(cli.ActiveConnection())
	g3, err := raw.LeaseGrant(ctx(), &pb.LeaseGrantRequest{TTL: 60, ID: 0x1234})
	if err == nil {
		out("lease_grant_client_id", "id=%x ttl=%d", g3.ID, g3.TTL)
	} else {
		out("lease_grant_client_id", "%s", errs(err))
	}
	_, err = raw.LeaseGrant(ctx(), &pb.LeaseGrantRequest{TTL: 60, ID: 0x1234})
	out("lease_grant_client_id_again", "%s", errs(err))
	ls, err := cli.Leases(ctx())
	found := false
	for _, l := range ls.Leases {
		found = found || l.ID == 0x1234
	}
	out("lease_leases_lists_it", "%v %s", found, errs(err))
	cli.Revoke(ctx(), 0x1234)
}

// lockScenario: clientv3's concurrency Mutex and Election (etcdctl lock and
// elect use them): Range sorted by create revision with max_create_revision,
// a Watch on the predecessor's key, keys on session leases. A waiter gets
// the lock only once the holder lets go: by Unlock, or by its lease expiring.
func lockScenario(cli *clientv3.Client) {
	s1, err := concurrency.NewSession(cli, concurrency.WithTTL(2))
	if err != nil {
		out("lock_session", "%s", errs(err))
		return
	}
	s2, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	if err != nil {
		out("lock_session", "%s", errs(err))
		return
	}
	defer s2.Close()
	m1 := concurrency.NewMutex(s1, "lk/")
	m2 := concurrency.NewMutex(s2, "lk/")
	out("lock_first", "%s", errs(m1.Lock(ctx())))
	got := make(chan error, 1)
	go func() { got <- m2.Lock(context.Background()) }()
	select {
	case err := <-got:
		out("lock_second_while_held", "acquired early: %s", errs(err))
	case <-time.After(500 * time.Millisecond):
		out("lock_second_while_held", "waiting")
	}
	out("lock_first_unlock", "%s", errs(m1.Unlock(ctx())))
	select {
	case err := <-got:
		out("lock_second_after_unlock", "%s", errs(err))
	case <-time.After(5 * time.Second):
		out("lock_second_after_unlock", "timeout")
	}
	// The holder now is m2 (TTL 10, kept alive); m1 takes its turn on a
	// session whose keep-alives stop: the lock passes on once it expires.
	out("lock_second_unlock", "%s", errs(m2.Unlock(ctx())))
	out("lock_first_again", "%s", errs(m1.Lock(ctx())))
	s1.Orphan() // stop keeping its lease alive, as a killed holder would
	go func() { got <- m2.Lock(context.Background()) }()
	started := time.Now()
	select {
	case err := <-got:
		out("lock_after_holder_expiry", "%s within_ttl_plus_2s=%v", errs(err), time.Since(started) < 4*time.Second)
	case <-time.After(10 * time.Second):
		out("lock_after_holder_expiry", "timeout")
	}
	m2.Unlock(ctx())

	e1 := concurrency.NewElection(s2, "el/")
	out("elect_campaign", "%s", errs(e1.Campaign(ctx(), "alice")))
	l, err := e1.Leader(ctx())
	if err == nil {
		out("elect_leader", "%s", string(l.Kvs[0].Value))
	} else {
		out("elect_leader", "%s", errs(err))
	}
	out("elect_proclaim", "%s", errs(e1.Proclaim(ctx(), "alice2")))
	l, err = e1.Leader(ctx())
	if err == nil {
		out("elect_leader_after_proclaim", "%s", string(l.Kvs[0].Value))
	}
	s3, err := concurrency.NewSession(cli, concurrency.WithTTL(10))
	if err != nil {
		out("elect_session", "%s", errs(err))
		return
	}
	defer s3.Close()
	e2 := concurrency.NewElection(s3, "el/")
	won := make(chan error, 1)
	go func() { won <- e2.Campaign(context.Background(), "bob") }()
	select {
	case <-won:
		out("elect_second_while_led", "won early")
	case <-time.After(500 * time.Millisecond):
		out("elect_second_while_led", "waiting")
	}
	out("elect_resign", "%s", errs(e1.Resign(ctx())))
	select {
	case err := <-won:
		out("elect_second_after_resign", "%s", errs(err))
	case <-time.After(5 * time.Second):
		out("elect_second_after_resign", "timeout")
	}
	l, err = e2.Leader(ctx())
	if err == nil {
		out("elect_leader_now", "%s", string(l.Kvs[0].Value))
	}
	e2.Resign(ctx())
}

func compactScenario(cli *clientv3.Client) {
	put(cli, "compact_setup", "cp/a", "1")
	put(cli, "compact_setup", "cp/a", "2")
	put(cli, "compact_setup", "cp/a", "3")
	r, _ := cli.Get(ctx(), "cp/a")
	head := r.Header.Revision
	_, err := cli.Compact(ctx(), head-1)
	out("compact", "%s", errs(err))
	get(cli, "compact_range_below_floor", "cp/a", clientv3.WithRev(head-2))
	get(cli, "compact_range_at_floor", "cp/a", clientv3.WithRev(head-1))
	_, err = cli.Compact(ctx(), head-1)
	out("compact_again_same", "%s", errs(err))
	_, err = cli.Compact(ctx(), head-2)
	out("compact_below_floor", "%s", errs(err))
	_, err = cli.Compact(ctx(), head+100)
	out("compact_future", "%s", errs(err))
	wctx, wcancel := context.WithCancel(context.Background())
	wc := cli.Watch(wctx, "cp/a", clientv3.WithRev(head-2))
	collect("compact_watch_below_floor", wc, 1, 3*time.Second)
	wcancel()
	// On its own stream: etcd keeps a compacted watch's id until it is
	// cancelled (a cancel is answered, the id is not reused meanwhile).
	if stream, step, done := rawWatchStream(cli); stream != nil {
		step("compact_raw_watch_below_floor", watchCreate(&pb.WatchCreateRequest{Key: []byte("cp/a"), WatchId: 30, StartRevision: head - 2}), 2)
		step("compact_raw_watch_same_id_again", watchCreate(&pb.WatchCreateRequest{Key: []byte("cp/a"), WatchId: 30}), 1)
		step("compact_raw_watch_cancel", watchCancel(30), 1)
		step("compact_raw_watch_cancel_again", watchCancel(30), 0)
		step("compact_raw_watch_same_id_after_cancel", watchCreate(&pb.WatchCreateRequest{Key: []byte("cp/a"), WatchId: 30}), 1)
		stream.CloseSend()
		step("compact_raw_watch_close_send", nil, 0)
		done()
	}
	_, err = cli.Compact(ctx(), head, clientv3.WithCompactPhysical())
	out("compact_physical", "%s", errs(err))
}

func authScenario(endpoint, password string) {
	anon, err := newClient(endpoint, "", "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "scenario: connect:", err)
		os.Exit(2)
	}
	defer anon.Close()
	put(anon, "auth_no_token_put", "payments/a", "v")
	get(anon, "auth_no_token_get", "payments/a")
	_, err = authenticate(anon, "ci", "wrong-password")
	out("auth_wrong_password", "%s", errs(err))
	_, err = authenticate(anon, "nobody", password)
	out("auth_unknown_user", "%s", errs(err))
	_, err = newClient(endpoint, "ci", "wrong-password")
	out("auth_client_wrong_password", "%s", errs(err))
	bogus := metadata.AppendToOutgoingContext(ctx(), "token", "not-a-token")
	_, err = pb.NewKVClient(anon.ActiveConnection()).Range(bogus, &pb.RangeRequest{Key: []byte("payments/a")})
	out("auth_invalid_token", "%s", errs(err))
	ci, err := newClient(endpoint, "ci", password)
	if err != nil {
		out("auth_client", "%s", errs(err))
		return
	}
	defer ci.Close()
	learnBase(ci, "payments/base-probe")
	put(ci, "auth_put_in_scope", "payments/a", "1")
	get(ci, "auth_get_in_scope", "payments/a")
	get(ci, "auth_prefix_in_scope", "payments/", clientv3.WithPrefix())
	put(ci, "auth_put_outside_scope", "other/a", "1")
	get(ci, "auth_get_outside_scope", "other/a")
	get(ci, "auth_get_everything", "", clientv3.WithPrefix())
	del(ci, "auth_delete_outside_scope", "other/", clientv3.WithPrefix())
	r, err := ci.Txn(ctx()).If(clientv3.Compare(clientv3.Value("payments/a"), "=", "1")).Then(clientv3.OpPut("payments/b", "2")).Commit()
	txnResp("auth_txn_in_scope", r, err)
	r, err = ci.Txn(ctx()).Then(clientv3.OpPut("payments/c", "2"), clientv3.OpPut("other/c", "2")).Commit()
	txnResp("auth_txn_outside_scope", r, err)
	wctx, wcancel := context.WithCancel(context.Background())
	wc := ci.Watch(wctx, "payments/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	if waitCreated("auth_watch_in_scope", wc) {
		put(ci, "auth_watch_write", "payments/w", "1")
		collect("auth_watch_in_scope", wc, 1, 5*time.Second)
	}
	wcancel()
	wctx2, wcancel2 := context.WithCancel(context.Background())
	wc2 := ci.Watch(wctx2, "other/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	collect("auth_watch_outside_scope", wc2, 1, 3*time.Second)
	wcancel2()
	del(ci, "auth_delete_in_scope", "payments/", clientv3.WithPrefix())
	// Methods beside KV, with a token of role write scoped to payments/.
	_, err = ci.MemberList(ctx())
	out("auth_scoped_member_list", "%s", errs(err))
	_, err = ci.AlarmList(ctx())
	out("auth_scoped_alarm_list", "%s", errs(err))
	_, err = ci.Defragment(ctx(), endpoint)
	out("auth_scoped_defragment", "%s", errs(err))
}
