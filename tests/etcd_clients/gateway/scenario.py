"""etcd's JSON gateway scenario of chronoconf's etcd differential tests
(tests/etcd_clients/diff.py), over plain HTTP as Patroni, APISIX and
python-etcd3gw speak it: etcd serves it on its client URL, chronoconf on its
HTTP port (SPEC §7). Prints "check: text" lines: the HTTP status and the JSON
body with revisions relative to the section's start, bytes decoded and the ids
SPEC §7 says differ labelled for the harness to mask.

Usage: python3 scenario.py http://HOST:PORT plain|auth [PASSWORD]
"""
import base64
import json
import socket
import sys
import urllib.error
import urllib.request

url, mode = sys.argv[1], sys.argv[2]
password = sys.argv[3] if len(sys.argv) > 3 else ""
base = 0
token = None
REV = ("revision", "create_revision", "mod_revision", "compact_revision", "raftIndex", "raftAppliedIndex")


def out(check, text):
    print(f"{check}: {text}", flush=True)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def rel(obj):
    if isinstance(obj, dict):
        res = {}
        for k, v in obj.items():
            if k in REV and isinstance(v, str) and v.lstrip("-").isdigit():
                n = int(v)
                res[k] = str(n - base) if n > 0 and k not in ("raftIndex", "raftAppliedIndex") else ("<index>" if n > 0 else v)
            elif k in ("key", "value", "range_end") and isinstance(v, str):
                try:
                    res[k] = base64.b64decode(v).decode()
                except Exception:
                    res[k] = v
            elif k in ("cluster_id", "member_id", "raft_term", "ID", "leader", "raftTerm", "dbSize", "dbSizeInUse", "token"):
                res[k] = "<masked>"
            elif k in ("name", "peerURLs", "clientURLs"):
                res[k] = "<node>"
            elif k == "version" and isinstance(v, str) and "." in v:
                res[k] = "3.4+" if tuple(int(x) for x in v.split(".")[:2]) >= (3, 4) else v
            elif k in ("etcdserver", "etcdcluster") and isinstance(v, str):
                res[k] = "3.4+" if tuple(int(x) for x in v.split(".")[:2]) >= (3, 4) else v
            else:
                res[k] = rel(v)
        return res
    if isinstance(obj, list):
        return [rel(x) for x in obj]
    return obj


def call(check, path, body=None, method="POST", quiet=False):
    data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode(errors="replace")
    except Exception as e:
        status, text = "error", type(e).__name__
    try:
        doc = json.loads(text)
        shown = json.dumps(rel(doc), sort_keys=True)
    except Exception:
        doc, shown = None, text.strip()[:200]
    if not quiet:
        out(check, f"{status} {shown}")
    return doc


def learn_base(probe="base-probe"):
    global base
    base = 0
    doc = call("base", "/v3/kv/range", {"key": b64(probe)}, quiet=True)
    try:
        base = int(doc["header"].get("revision", "0"))
    except Exception:
        base = 0


def watch(check, body, lines, timeout=3):
    """POST /v3/watch and read up to `lines` JSON lines of the stream."""
    host, port = url[len("http://"):].split(":")
    data = json.dumps(body).encode()
    s = socket.create_connection((host, int(port)), timeout=timeout)
    auth = f"Authorization: {token}\r\n" if token else ""
    s.sendall(f"POST /v3/watch HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{auth}"
              f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    buf = b""
    try:
        while buf.count(b"\n{") + (1 if b"\r\n\r\n{" in buf else 0) < lines + 1:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except socket.timeout:
        pass
    s.close()
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].decode(errors="replace") if head else "no answer"
    out(check, status.split(" ", 1)[1] if " " in status else status)
    n = 0
    for line in rest.decode(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("{") and n < lines:
            try:
                out(check, json.dumps(rel(json.loads(line)), sort_keys=True))
            except Exception:
                out(check, line[:200])
            n += 1


def plain():
    learn_base()
    call("gateway_put", "/v3/kv/put", {"key": b64("g/a"), "value": b64("1")})
    call("gateway_put_prev_kv", "/v3/kv/put", {"key": b64("g/a"), "value": b64("2"), "prev_kv": True})
    call("gateway_put_json", "/v3/kv/put", {"key": b64("g/b"), "value": b64('{"x":1}')})
    call("gateway_range", "/v3/kv/range", {"key": b64("g/a")})
    call("gateway_range_prefix", "/v3/kv/range", {"key": b64("g/"), "range_end": b64("g0")})
    call("gateway_range_limit_sort", "/v3/kv/range", {"key": b64("g/"), "range_end": b64("g0"), "limit": 1,
                                                      "sort_order": "DESCEND", "sort_target": "KEY"})
    call("gateway_range_revision", "/v3/kv/range", {"key": b64("g/a"), "revision": str(base + 1)})
    call("gateway_range_future", "/v3/kv/range", {"key": b64("g/a"), "revision": str(base + 1000)})
    call("gateway_range_v3beta", "/v3beta/kv/range", {"key": b64("g/a")})
    # (Not /v3alpha/: SPEC §7 promises it, but etcd 3.4 answers it 404, so
    # there is nothing to compare it with.)
    call("gateway_txn", "/v3/kv/txn", {
        "compare": [{"key": b64("g/a"), "target": "VALUE", "result": "EQUAL", "value": b64("2")}],
        "success": [{"request_put": {"key": b64("g/a"), "value": b64("3")}}, {"request_range": {"key": b64("g/a")}}],
        "failure": [{"request_range": {"key": b64("g/b")}}]})
    call("gateway_txn_failure", "/v3/kv/txn", {
        "compare": [{"key": b64("g/a"), "target": "VERSION", "result": "LESS", "version": "1"}],
        "success": [], "failure": [{"request_range": {"key": b64("g/b")}}]})
    call("gateway_txn_nested", "/v3/kv/txn", {"success": [{"request_txn": {
        "compare": [{"key": b64("g/a"), "target": "VALUE", "result": "EQUAL", "value": b64("3")}],
        "success": [{"request_put": {"key": b64("g/n"), "value": b64("1")}}, {"request_range": {"key": b64("g/n")}}]}}]})
    call("gateway_put_empty_key", "/v3/kv/put", {"value": b64("x")})
    call("gateway_bad_json", "/v3/kv/put", None)
    call("gateway_deleterange", "/v3/kv/deleterange", {"key": b64("g/b"), "prev_kv": True})
    call("gateway_member_list", "/v3/cluster/member/list", {})
    call("gateway_status", "/v3/maintenance/status", {})
    call("gateway_version", "/version", method="GET")
    call("gateway_authenticate_auth_off", "/v3/auth/authenticate", {"name": "ci", "password": "x"})
    learn_base()
    start = base + 1
    call("gateway_watch_setup", "/v3/kv/put", {"key": b64("gw/a"), "value": b64("1")})
    call("gateway_watch_setup", "/v3/kv/put", {"key": b64("gw/a"), "value": b64("2")})
    watch("gateway_watch_history", {"create_request": {"key": b64("gw/"), "range_end": b64("gw0"),
                                                       "start_revision": str(start), "prev_kv": True}}, 2)
    call("gateway_compaction_future", "/v3/kv/compaction", {"revision": str(base + 1000)})
    call("gateway_deleterange_prefix", "/v3/kv/deleterange", {"key": b64("g"), "range_end": b64("h")})
    # Each op of a Txn answers with the revision as of that op.
    call("gateway_txn_op_revisions", "/v3/kv/txn", {"success": [
        {"request_range": {"key": b64("gw/a")}}, {"request_delete_range": {"key": b64("gw/none")}},
        {"request_put": {"key": b64("gw/t"), "value": b64("1")}}, {"request_range": {"key": b64("gw/t")}}]})
    watch("gateway_watch_empty_range", {"create_request": {"key": b64("b"), "range_end": b64("a")}}, 1)
    # A watch from below the floor: created, then canceled naming the floor.
    learn_base()
    call("gateway_compaction", "/v3/kv/compaction", {"revision": str(base)})
    watch("gateway_watch_compacted", {"create_request": {"key": b64("gw/"), "range_end": b64("gw0"),
                                                         "start_revision": str(start)}}, 2)
    # A Range below the floor fails a Txn only on the branch taken.
    exists = [{"key": b64("gw/t"), "target": "VERSION", "result": "GREATER", "version": "0"}]
    old_range = {"request_range": {"key": b64("gw/t"), "revision": str(start)}}
    call("gateway_txn_compacted_untaken", "/v3/kv/txn", {
        "compare": exists, "success": [{"request_range": {"key": b64("gw/t")}}], "failure": [old_range]})
    call("gateway_txn_compacted_taken", "/v3/kv/txn", {"compare": exists, "success": [old_range]})
    leases()


def without_revision(check, doc):
    if doc:
        doc.get("header", {}).pop("revision", None)
        doc.get("result", {}).get("header", {}).pop("revision", None)
    out(check, json.dumps(rel(doc), sort_keys=True) if doc else "error")


def leases():
    """The lease routes Patroni uses. A grant is a commit in chronoconf (SPEC
    §7: leases are events), so it takes a revision where etcd's takes none:
    a grant's header revision is left out, and revisions count from after it."""
    lid = "4660"
    without_revision("gateway_lease_grant",
                     call("gateway_lease_grant", "/v3/lease/grant", {"TTL": "60", "ID": lid}, quiet=True))
    learn_base()
    call("gateway_lease_grant_again", "/v3/lease/grant", {"TTL": "60", "ID": lid})
    call("gateway_lease_put", "/v3/kv/put", {"key": b64("gl/a"), "value": b64("v"), "lease": lid})
    call("gateway_lease_put_unknown", "/v3/kv/put", {"key": b64("gl/b"), "value": b64("v"), "lease": "99"})
    call("gateway_lease_range", "/v3/kv/range", {"key": b64("gl/a")})
    for check, path in (("gateway_lease_timetolive", "/v3/lease/timetolive"),
                        ("gateway_kv_lease_timetolive", "/v3/kv/lease/timetolive")):
        doc = call(check, path, {"ID": lid, "keys": True}, quiet=True) or {}
        ttl = int(doc.get("TTL", "0"))
        out(check, f"granted={doc.get('grantedTTL')} in_range={50 < ttl <= 60} keys={doc.get('keys')}")
    call("gateway_lease_keepalive", "/v3/lease/keepalive", {"ID": lid})
    call("gateway_lease_leases", "/v3/lease/leases", {})
    call("gateway_kv_lease_revoke", "/v3/kv/lease/revoke", {"ID": lid})
    call("gateway_lease_revoked_key_gone", "/v3/kv/range", {"key": b64("gl/a")})
    call("gateway_lease_revoke_unknown", "/v3/lease/revoke", {"ID": lid})
    call("gateway_lease_keepalive_unknown", "/v3/lease/keepalive", {"ID": lid})
    call("gateway_lease_timetolive_unknown", "/v3/lease/timetolive", {"ID": lid})
    call("gateway_lease_grant_too_large", "/v3/lease/grant", {"TTL": "10000000000"})
    call("gateway_v3beta_lease_leases", "/v3beta/lease/leases", {})


def auth():
    global token
    call("gateway_auth_no_token", "/v3/kv/range", {"key": b64("payments/a")})
    call("gateway_auth_wrong_password", "/v3/auth/authenticate", {"name": "ci", "password": "wrong"})
    # Taken on an empty store: etcd's header says revision 1, chronoconf's 0
    # (left out of the JSON), the offset SPEC §7 allows; the revision is
    # compared from the first write on.
    doc = call("gateway_auth_authenticate_raw", "/v3/auth/authenticate", {"name": "ci", "password": password},
               quiet=True)
    token = (doc or {}).get("token")
    if doc:
        doc.get("header", {}).pop("revision", None)
        doc["token"] = "<token>" if doc.get("token") else doc.get("token")
    out("gateway_auth_authenticate", "200 " + json.dumps(rel(doc), sort_keys=True) if doc else "error")
    learn_base("payments/base-probe")
    call("gateway_auth_put_in_scope", "/v3/kv/put", {"key": b64("payments/a"), "value": b64("1")})
    call("gateway_auth_put_outside_scope", "/v3/kv/put", {"key": b64("other/a"), "value": b64("1")})
    call("gateway_auth_range_all", "/v3/kv/range", {"key": b64("\0"), "range_end": b64("\0")})
    call("gateway_auth_delete_in_scope", "/v3/kv/deleterange", {"key": b64("payments/"), "range_end": b64("payments0")})


if __name__ == "__main__":
    auth() if mode == "auth" else plain()
