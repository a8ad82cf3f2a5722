#!/usr/bin/env python3
"""Patroni on chronoconf (issue 16): a PostgreSQL failover with chronoconf as the DCS.

Starts the DCS (chronoconf, or with --dcs etcd the real etcd-server, to check this
harness against the reference), two Patroni nodes (Debian's patroni, etcd3 DCS
through the JSON gateway) with their PostgreSQL 15 instances on loopback; waits for a
leader and a streaming replica; writes rows to the primary; kills the primary's
Patroni and PostgreSQL with SIGKILL; checks that the replica is promoted within
Patroni's TTL plus a margin and has the rows. On chronoconf it then checks the
history: every change of the leader key is an event with an actor, and the dead
leader's lease expired in a commit whose reason names it.

Usage: tests/patroni/failover.py --chronoconf build/chronoconf
       tests/patroni/failover.py --dcs etcd
Runs as root (PostgreSQL and Patroni run as the `postgres` user). Exit 0 on success.
"""
import argparse
import base64
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

TTL = 10          # Patroni's leader lease, seconds
LOOP_WAIT = 2
MARGIN = 15       # what a failover may take beyond the TTL
PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def log(msg):
    print(f"patroni-test: {msg}", flush=True)


def http_json(url, body=None, timeout=3):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, json.loads(r.read() or b"{}")


def role_of(api_port):
    """'master'/'primary', 'replica', or None when the node does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/patroni", timeout=2) as r:
            info = json.loads(r.read())
            return info.get("role"), info
    except Exception:  # noqa: BLE001 - a node that is down or starting
        return None, None


def wait_for(what, predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - not there yet (a table not replicated...)
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise SystemExit(f"patroni-test: FAIL: timed out after {timeout} s waiting for {what}")


class Cluster:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="patroni-test.")
        os.chmod(self.work, 0o755)
        self.procs = {}
        self.pg = pwd.getpwnam("postgres")

    def start_dcs(self):
        self.dcs_port = free_port()
        if self.args.dcs == "etcd":
            peer = free_port()
            cmd = ["etcd", "--data-dir", f"{self.work}/etcd",
                   "--listen-client-urls", f"http://127.0.0.1:{self.dcs_port}",
                   "--advertise-client-urls", f"http://127.0.0.1:{self.dcs_port}",
                   "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--log-level", "error"]
        else:
            cmd = [self.args.chronoconf, "serve", "--store", f"sqlite:{self.work}/events.db",
                   "--listen", f"127.0.0.1:{self.dcs_port}"]
        self.procs["dcs"] = subprocess.Popen(cmd, stdout=open(f"{self.work}/dcs.log", "w"),
                                             stderr=subprocess.STDOUT)
        wait_for("the DCS", lambda: self._dcs_up(), 20)
        log(f"{self.args.dcs} DCS on 127.0.0.1:{self.dcs_port}")

    def _dcs_up(self):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.dcs_port}/version", timeout=1)
            return True
        except Exception:  # noqa: BLE001
            return False

    def node_config(self, name):
        d = f"{self.work}/{name}"
        os.makedirs(d, exist_ok=True)
        os.chown(d, self.pg.pw_uid, self.pg.pw_gid)
        os.chmod(d, 0o700)
        api, pg = free_port(), free_port()
        cfg = {
            "scope": "chronoconf-patroni-test",
            "name": name,
            "log": {"level": "INFO"},
            "restapi": {"listen": f"127.0.0.1:{api}", "connect_address": f"127.0.0.1:{api}"},
            "etcd3": {"hosts": [f"127.0.0.1:{self.dcs_port}"], "protocol": "http"},
            "bootstrap": {
                "dcs": {
                    "ttl": TTL, "loop_wait": LOOP_WAIT, "retry_timeout": 5,
                    "maximum_lag_on_failover": 1048576,
                    "postgresql": {"use_pg_rewind": False,
                                   "parameters": {"wal_level": "replica", "hot_standby": "on",
                                                  "max_wal_senders": 5,
                                                  "max_replication_slots": 5}},
                },
                "initdb": [{"encoding": "UTF8"}],
                "pg_hba": ["host replication replicator 127.0.0.1/32 trust",
                           "host all all 127.0.0.1/32 trust",
                           "local all all trust"],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{pg}", "connect_address": f"127.0.0.1:{pg}",
                "data_dir": f"{d}/data", "bin_dir": PG_BIN, "pgpass": f"{d}/pgpass",
                "authentication": {"replication": {"username": "replicator", "password": "rep"},
                                   "superuser": {"username": "postgres", "password": "pg"}},
                "parameters": {"unix_socket_directories": d},
            },
        }
        path = f"{d}/patroni.json"  # YAML is a superset of JSON
        with open(path, "w") as f:
            json.dump(cfg, f, indent=1)
        return {"name": name, "dir": d, "api": api, "pg": pg, "config": path}

    def start_node(self, node):
        self.procs[node["name"]] = subprocess.Popen(
            ["patroni", node["config"]], user="postgres", cwd=node["dir"],
            stdout=open(f"{node['dir']}/patroni.log", "w"), stderr=subprocess.STDOUT,
            start_new_session=True)

    def psql(self, node, sql):
        out = subprocess.run([f"{PG_BIN}/psql", "-h", "127.0.0.1", "-p", str(node["pg"]),
                              "-U", "postgres", "-d", "postgres", "-Atc", sql],
                             user="postgres", capture_output=True, text=True, timeout=20)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip())
        return out.stdout.strip()

    def kill_node(self, node):
        """SIGKILL the node's Patroni and its PostgreSQL (postmaster and children)."""
        proc = self.procs.pop(node["name"])
        pid_file = f"{node['dir']}/data/postmaster.pid"
        postmaster = int(open(pid_file).readline()) if os.path.exists(pid_file) else None
        os.killpg(proc.pid, signal.SIGKILL)
        if postmaster:
            try:
                os.killpg(os.getpgid(postmaster), signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.kill(postmaster, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()

    def stop(self):
        for name, proc in list(self.procs.items()):
            try:
                os.killpg(proc.pid, signal.SIGTERM) if name != "dcs" else proc.terminate()
            except ProcessLookupError:
                pass
        time.sleep(2)
        for proc in self.procs.values():
            try:
                proc.kill()
            except ProcessLookupError:
                pass
        subprocess.run(["pkill", "-9", "-f", self.work], check=False)
        if self.args.keep:
            log(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def dump_logs(self):
        for root, _, files in os.walk(self.work):
            for f in files:
                if f.endswith(".log"):
                    path = os.path.join(root, f)
                    print(f"----- {path} (last 40 lines)")
                    print("".join(open(path, errors="replace").readlines()[-40:]))


def check_history(cluster):
    """The leader key's changes and the dead leader's lease expiry, in chronoconf's log."""
    base = f"http://127.0.0.1:{cluster.dcs_port}"
    key = "/service/chronoconf-patroni-test/leader"
    with urllib.request.urlopen(f"{base}/v1/history/{urllib.parse.quote(key, safe='')}?limit=100",
                                timeout=5) as r:
        events = json.loads(r.read())["events"]  # newest first
    for e in events:
        if not e.get("actor"):
            raise SystemExit(f"patroni-test: FAIL: a leader-key event without an actor: {e}")
    sets = [e["value"] for e in events if e["type"] == "ConfigSet"]
    if "node1" not in sets or sets[0] != "node2":
        raise SystemExit(f"patroni-test: FAIL: the leader key's values were {sets[::-1]}")
    expiry = [e for e in events if e["type"] == "ConfigDeleted" and e.get("previous_value") == "node1"]
    if not expiry or "expired" not in (expiry[0].get("reason") or ""):
        raise SystemExit(f"patroni-test: FAIL: node1's leader key did not end with its lease: {events}")
    log(f"chronoconf's history of the leader key: {len(events)} events; node1's ended at revision "
        f"{expiry[0]['revision']} by {expiry[0]['actor']!r}: {expiry[0]['reason']!r}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--chronoconf", default="build/chronoconf")
    p.add_argument("--dcs", choices=["chronoconf", "etcd"], default="chronoconf")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    if args.dcs == "chronoconf":
        args.chronoconf = os.path.abspath(args.chronoconf)
    cluster = Cluster(args)
    ok = False
    try:
        cluster.start_dcs()
        nodes = [cluster.node_config("node1"), cluster.node_config("node2")]
        cluster.start_node(nodes[0])
        leader = wait_for("node1 to lead", lambda: role_of(nodes[0]["api"])[0] in ("master", "primary"), 90)
        cluster.start_node(nodes[1])
        wait_for("node2 to stream from node1",
                 lambda: role_of(nodes[1]["api"])[1] and role_of(nodes[1]["api"])[1].get("state") == "running"
                 and role_of(nodes[1]["api"])[0] == "replica", 120)
        log("node1 leads, node2 is a running replica")
        cluster.psql(nodes[0], "CREATE TABLE orders (id int PRIMARY KEY, note text)")
        cluster.psql(nodes[0], "INSERT INTO orders SELECT g, 'row ' || g FROM generate_series(1, 100) g")
        # Synchronous enough: wait until the replica has the rows before the kill.
        wait_for("the replica to have the rows",
                 lambda: cluster.psql(nodes[1], "SELECT count(*) FROM orders") == "100", 30)
        log("100 rows written on node1 and replicated")
        killed_at = time.time()
        cluster.kill_node(nodes[0])
        log("node1's Patroni and PostgreSQL killed with SIGKILL")
        wait_for("node2 to be promoted",
                 lambda: role_of(nodes[1]["api"])[0] in ("master", "primary"), TTL + MARGIN)
        failover = time.time() - killed_at
        log(f"node2 promoted {failover:.1f} s after the kill (TTL {TTL} s)")
        count = cluster.psql(nodes[1], "SELECT count(*) FROM orders")
        if count != "100":
            raise SystemExit(f"patroni-test: FAIL: the new primary has {count} rows, not 100")
        cluster.psql(nodes[1], "INSERT INTO orders VALUES (101, 'after the failover')")
        log("the new primary has the 100 rows and takes writes")
        if args.dcs == "chronoconf":
            check_history(cluster)
        print(f"PATRONI-FAILOVER dcs={args.dcs} failover_s={failover:.1f} ttl_s={TTL}")
        ok = True
    finally:
        if not ok:
            cluster.dump_logs()
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
