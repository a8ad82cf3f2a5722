"""The several-nodes scenario of chronoconf's etcd differential tests
(tests/etcd_clients/diff.py --client cluster): etcdctl against a 3-member etcd
cluster and against 3 chronoconf nodes sharing one PostgreSQL store. Prints
"check: text" lines; revisions relative to the start.

Usage: python3 scenario.py HOST:PORT,HOST:PORT,HOST:PORT
"""
import base64
import json
import os
import subprocess
import sys

endpoints = sys.argv[1].split(",")
ENV = dict(os.environ, ETCDCTL_API="3")
base = 0


def out(check, text):
    print(f"{check}: {text}", flush=True)


def ctl(ep, *args, timeout=15, stdin=None):
    argv = ["etcdctl", "--endpoints", ep, "--dial-timeout", "5s", "--command-timeout", "5s", "-w", "json"] + list(args)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=ENV, input=stdin)
        return r.returncode, r.stdout, r.stderr.strip()
    except subprocess.TimeoutExpired as e:
        so = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return "timeout", so, ""


def docs(text):
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def main():
    global base
    rc, so, _ = ctl(endpoints[0], "get", "base-probe")
    base = int(docs(so)[0]["header"].get("revision", 0)) if rc == 0 else 0

    # Every member lists every member.
    lists = []
    for i, ep in enumerate(endpoints):
        rc, so, se = ctl(ep, "member", "list")
        if rc != 0:
            out("member_list_several_nodes", f"node{i} rc={rc} {se}")
            continue
        members = docs(so)[0].get("members", [])
        lists.append(sorted(m["ID"] for m in members))
        out("member_list_several_nodes", f"node{i} members={len(members)} "
            f"client_urls={[len(m.get('clientURLs', [])) for m in members]} "
            f"names_unique={len(set(m.get('name') for m in members)) == len(members)}")
    out("member_list_several_nodes", f"every node lists the same members: {len(lists) == len(endpoints) and all(l == lists[0] for l in lists)}")

    # Writes through different nodes, one history.
    revs = []
    for i, ep in enumerate(endpoints):
        rc, so, se = ctl(ep, "put", f"cl/n{i}", f"v{i}")
        rev = int(docs(so)[0]["header"]["revision"]) if rc == 0 else 0
        revs.append(rev)
        out("cluster_put_each_node", f"node{i} rc={rc} rev={rev - base if rev else se}")
    # A Txn on another node compares with the revision a write through node 0 got.
    rc, so, se = ctl(endpoints[1], "txn", stdin=f'mod("cl/n0") = "{revs[0]}"\n\nget cl/n0\n\nput cl/failed x\n\n')
    out("cluster_txn_other_node_compares_mod", f"rc={rc} " + (json.dumps({"succeeded": docs(so)[0].get("succeeded", False)}) if rc == 0 else se))
    # A watch on the last node, from the start, sees every node's writes in order.
    rc, so, se = ctl(endpoints[-1], "watch", "cl/", "--prefix", f"--rev={base + 1}", timeout=3)
    events = []
    for d in docs(so):
        for e in d.get("Events", []):
            kv = e["kv"]
            events.append(f"{base64.b64decode(kv['key']).decode()}@{kv['mod_revision'] - base}")
    out("cluster_watch_sees_every_node", " ".join(events))
    rc, so, se = ctl(endpoints[2], "del", "cl/", "--prefix")
    out("cluster_delete_prefix_other_node", f"rc={rc} deleted={docs(so)[0].get('deleted', 0) if rc == 0 else se}")


main()
