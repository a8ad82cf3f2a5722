"""The etcdctl (Debian's etcd-client, 3.4) scenario of chronoconf's etcd
differential tests (tests/etcd_clients/diff.py). Runs etcdctl commands and
prints "check: text" lines: exit code, stdout (JSON output parsed, revisions
made relative to the section's start, ids labelled for the harness to mask)
and stderr as etcdctl prints it (the error texts users see).

Usage: python3 scenario.py HOST:PORT plain|auth [PASSWORD]
"""
import base64
import json
import os
import re
import subprocess
import sys

endpoint, mode = sys.argv[1], sys.argv[2]
password = sys.argv[3] if len(sys.argv) > 3 else ""
base = 0
ENV = dict(os.environ, ETCDCTL_API="3")
REV_FIELDS = ("revision", "create_revision", "mod_revision", "compact_revision", "CompactRevision")


def out(check, text):
    print(f"{check}: {text}", flush=True)


def rel(obj):
    """JSON output with revisions relative to the base, bytes decoded, ids labelled."""
    if isinstance(obj, dict):
        res = {}
        for k, v in obj.items():
            if k in REV_FIELDS and isinstance(v, int) and v > 0:
                res[k] = v - base
            elif k in ("key", "value") and isinstance(v, str):
                res[k] = base64.b64decode(v).decode(errors="replace")
            elif k in ("Header", "Events", "header", "kv", "prev_kv", "kvs", "events", "members", "responses", "HashKV"):
                res[k] = rel(v)
            elif k in ("cluster_id", "member_id", "raft_term", "raftTerm", "ID", "leader", "raftIndex", "raftAppliedIndex", "dbSize", "dbSizeInUse"):
                res[k] = "<masked>"  # SPEC §7: ids and raft figures differ; sizes are the store's
            elif k == "version" and isinstance(v, str):
                res[k] = "3.4+" if tuple(int(x) for x in v.split(".")[:2]) >= (3, 4) else v
            elif k in ("name", "peerURLs", "clientURLs"):
                res[k] = "<node>"
            else:
                res[k] = rel(v)
        return res
    if isinstance(obj, list):
        return [rel(x) for x in obj]
    return obj


def ctl(check, *args, stdin=None, user=None, timeout=15, json_out=False, quiet=False):
    argv = ["etcdctl", "--endpoints", endpoint, "--dial-timeout", "5s", "--command-timeout", "5s"]
    if user:
        argv += ["--user", user]
    if json_out:
        argv += ["-w", "json"]
    try:
        r = subprocess.run(argv + list(args), input=stdin, capture_output=True, text=True, timeout=timeout, env=ENV)
        rc, so, se = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        rc, so, se = "timeout", (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), ""
    if quiet:
        return so
    text = so
    if json_out:
        docs = []
        for line in so.splitlines():
            line = line.strip()
            if line.startswith("{") or line.startswith("[{"):  # ([...]: endpoint hashkv)
                docs.append(json.dumps(rel(json.loads(line)), sort_keys=True))
        text = "\n".join(docs)
    # The server's address and timings differ by nature; a revision in
    # etcdctl's text is relative to the section's start, as in its JSON.
    text = text.replace(endpoint, "<endpoint>")
    text = re.sub(r"compacted revision (\d+)", lambda m: f"compacted revision base+{int(m.group(1)) - base}", text)
    se = re.sub(r"took = [0-9.]+[µm]?s", "took = <t>", se.replace(endpoint, "<endpoint>"))
    out(check, f"rc={rc}")
    for line in text.splitlines():
        out(check, "  out " + line)
    for line in se.splitlines():
        if '"level":"warn"' in line:
            continue  # clientv3's retry log: timestamps and ports
        out(check, "  err " + line)
    return so


def learn_base(probe="base-probe", user=None):
    global base
    base = 0
    so = ctl("base", "get", probe, json_out=True, user=user, quiet=True)
    base = json.loads(so.splitlines()[0])["header"].get("revision", 0) if so.strip() else 0


def main_plain():
    learn_base()
    ctl("put", "put", "ctl/a", "1")
    ctl("put_prev_kv", "put", "ctl/a", "2", "--prev-kv")
    ctl("put_json", "put", "ctl/b", '{"x":1}')
    ctl("put_text", "put", "ctl/c", "hello world")
    ctl("get", "get", "ctl/a")
    ctl("get_json_output", "get", "ctl/a", json_out=True)
    ctl("get_prefix", "get", "ctl/", "--prefix")
    ctl("get_prefix_json", "get", "ctl/", "--prefix", json_out=True)
    ctl("get_range", "get", "ctl/a", "ctl/c")
    ctl("get_from_key", "get", "ctl/b", "--from-key")
    ctl("get_limit", "get", "ctl/", "--prefix", "--limit", "1", json_out=True)
    ctl("get_sort", "get", "ctl/", "--prefix", "--sort-by", "MODIFY", "--order", "DESCEND")
    ctl("get_keys_only", "get", "ctl/", "--prefix", "--keys-only")
    ctl("get_count_only", "get", "ctl/", "--prefix", "--count-only", json_out=True)
    ctl("get_print_value_only", "get", "ctl/b", "--print-value-only")
    ctl("get_rev", "get", "ctl/a", f"--rev={base + 1}")
    ctl("get_future_rev", "get", "ctl/a", f"--rev={base + 1000}")
    ctl("get_empty_key", "get", "")
    ctl("get_all", "get", "", "--prefix", "--keys-only")
    ctl("txn_success", "txn", stdin='value("ctl/a") = "2"\n\nput ctl/a 3\nget ctl/a\n\nget ctl/b\n\n', json_out=False)
    ctl("txn_failure", "txn", stdin='value("ctl/a") = "2"\n\nput ctl/a 4\n\nget ctl/b\nput ctl/d 4\n\n')
    ctl("txn_json", "txn", stdin='mod("ctl/a") > "0"\n\nget ctl/a\n\n\n', json_out=True)
    ctl("txn_duplicate", "txn", stdin='\nput ctl/e 1\nput ctl/e 2\n\n\n')
    ctl("get_serializable", "get", "ctl/a", "--consistency=s")
    ctl("get_sort_value_asc", "get", "ctl/", "--prefix", "--sort-by=VALUE", "--order=ASCEND")
    ctl("get_from_key_keys_only_limit", "get", "", "--from-key", "--keys-only", "--limit=2")
    ctl("put_stdin_value", "put", "ctl/s", stdin="from stdin")
    ctl("get_stdin_value", "get", "ctl/s", "--print-value-only")
    ctl("put_ignore_value", "put", "ctl/s", "--ignore-value")
    ctl("del_from_key", "del", "ctl/s", "--from-key", "--prev-kv")
    ctl("del", "del", "ctl/d")
    ctl("del_missing", "del", "ctl/missing")
    ctl("del_prev_kv", "del", "ctl/c", "--prev-kv")
    ctl("del_prefix", "del", "ctl/", "--prefix")
    ctl("del_prefix_json", "del", "ctl/", "--prefix", json_out=True)

    learn_base()
    start = base + 1
    ctl("watch_setup", "put", "cw/a", "1")
    ctl("watch_setup", "put", "cw/a", "2")
    ctl("watch_setup", "del", "cw/a")
    ctl("watch_history", "watch", "cw/", "--prefix", f"--rev={start}", "--prev-kv", timeout=2)
    ctl("watch_history_json", "watch", "cw/a", f"--rev={start + 1}", json_out=True, timeout=2)
    ctl("watch_compacted_or_future", "watch", "cw/a", f"--rev={start + 100}", timeout=2)

    learn_base()
    ctl("endpoint_status", "endpoint", "status", json_out=True)
    ctl("endpoint_health", "endpoint", "health")
    ctl("member_list_header", "member", "list", json_out=True)
    ctl("alarm_list", "alarm", "list")
    ctl("defrag", "defrag")
    ctl("hash_kv", "endpoint", "hashkv", json_out=True)
    ctl("lease_grant", "lease", "grant", "60")
    ctl("lease_list", "lease", "list")
    ctl("lease_revoke_unknown", "lease", "revoke", "12345")
    ctl("lease_put_unknown", "put", "ctl/l", "v", "--lease=12345")
    ctl("lease_lock", "lock", "mylock", "echo", "locked", timeout=10)

    learn_base()
    ctl("compact_setup", "put", "cc/a", "1")
    ctl("compact_setup", "put", "cc/a", "2")
    ctl("compact_setup", "put", "cc/a", "3")
    ctl("compaction", "compaction", str(base + 2))
    ctl("compaction_get_below", "get", "cc/a", f"--rev={base + 1}")
    ctl("compaction_again", "compaction", str(base + 2))
    ctl("compaction_future", "compaction", str(base + 100))
    ctl("compaction_watch_below", "watch", "cc/a", f"--rev={base + 1}", timeout=2)
    # HashKV under the floor: at the floor is compacted (unlike a get).
    ctl("hash_kv_after_compaction", "endpoint", "hashkv", json_out=True)
    ctl("hash_kv_at_floor", "endpoint", "hashkv", f"--rev={base + 2}")
    ctl("hash_kv_future", "endpoint", "hashkv", f"--rev={base + 100}")


def main_auth():
    ctl("auth_no_user_put", "put", "payments/a", "1")
    ctl("auth_wrong_password", "put", "payments/a", "1", user="ci:wrong-password")
    ctl("auth_unknown_user", "get", "payments/a", user=f"nobody:{password}")
    user = f"ci:{password}"
    learn_base("payments/base-probe", user=user)
    ctl("auth_put_in_scope", "put", "payments/a", "1", user=user)
    ctl("auth_get_in_scope", "get", "payments/", "--prefix", user=user)
    ctl("auth_put_outside_scope", "put", "other/a", "1", user=user)
    ctl("auth_get_outside_scope", "get", "other/a", user=user)
    ctl("auth_get_all", "get", "", "--prefix", user=user)
    ctl("auth_del_outside_scope", "del", "other/", "--prefix", user=user)
    ctl("auth_txn_outside_scope", "txn", stdin='\nput payments/b 1\nput other/b 1\n\n\n', user=user)
    ctl("auth_watch_outside_scope", "watch", "other/", "--prefix", user=user, timeout=2)
    ctl("auth_del_in_scope", "del", "payments/", "--prefix", user=user)


if __name__ == "__main__":
    if mode == "auth":
        main_auth()
    else:
        main_plain()
