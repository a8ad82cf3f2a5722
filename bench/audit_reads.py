#!/usr/bin/env python3
"""Reads whose cost must not grow with the log (SPEC §6, issue 14 item 4).

Fills a running server with IMPORTS imports of IMPORT_KEYS keys (big/k00000..)
and SINGLES single-event commits of one key (small), then times each request
N times, one at a time on one connection (keep-alive), and prints the best and
the p50:
  - GET /v1/history/<a key of the imports>?limit=100
  - GET /v1/history/<the single-event key>?limit=100
  - GET /v1/events?actor=nobody             (no event matches)
  - GET /v1/events?since=<in the future>    (none)
  - GET /v1/events?until=<before the log>   (none)
  - GET /v1/events?since=S&until=U          (the SINGLES commits of `small`:
                                             a window at the log's end)
Whatever the server held before (bench/run.sh first appends single-event
commits with `chronoconf bench load`, so that the log has 1,000,000 events)
counts in "events in the log"; the two empty time filters are placed before
the server's first commit and after its last.

Usage: bench/audit_reads.py URL [--imports 100] [--import-keys 5000]
                                [--singles 100] [-n 20] [--no-fill]
Defaults: 100 imports of 5,000 keys and 100 single-event commits (500,100
events on an empty server), 20 requests each. With --machine it also prints
one line per request for bench/run.sh:
  AUDIT <name> p50_ms=… best_ms=… p90_ms=… n=… returned=… log_events=…
"""
import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("url", nargs="?", default="http://127.0.0.1:7700")
ap.add_argument("--imports", type=int, default=100)
ap.add_argument("--import-keys", type=int, default=5000)
ap.add_argument("--singles", type=int, default=100)
ap.add_argument("-n", type=int, default=20, help="requests per measurement")
ap.add_argument("--no-fill", action="store_true", help="measure only (the server was filled before)")
ap.add_argument("--machine", action="store_true", help="also print AUDIT lines")
ap.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
args = ap.parse_args()

u = urllib.parse.urlsplit(args.url)
conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=args.timeout)


def req(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    out = r.read()
    if r.status // 100 != 2:
        sys.exit(f"{method} {path}: {r.status} {out[:200]!r}")
    return out


def now_rfc3339(delta=timedelta(0)):
    return (datetime.now(timezone.utc) + delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def status():
    return json.loads(req("GET", "/v1/status"))


def measure(name, label, path, expect):
    times, returned = [], None
    for _ in range(args.n):
        start = time.perf_counter()
        body = req("GET", path)
        times.append((time.perf_counter() - start) * 1000)
        returned = len(json.loads(body)["events"])
    if expect is not None and returned != expect:
        sys.exit(f"{path}: {returned} events, expected {expect}")
    times.sort()
    p50 = statistics.median(times)
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print("%-58s p50 %8.2f ms  best %8.2f ms  (%d events returned)" % (label, p50, times[0], returned))
    if args.machine:
        print(f"AUDIT {name} p50_ms={p50:.3f} best_ms={times[0]:.3f} p90_ms={p90:.3f} n={args.n}"
              f" returned={returned} log_events={log_events} log_commits={log_commits}")
    sys.stdout.flush()


first_commit = None
if status()["revision"] == 0:
    first_commit = now_rfc3339(timedelta(seconds=-1))
else:
    first = json.loads(req("GET", "/v1/revisions/1"))
    first_commit = first["timestamp"]
t0 = datetime.strptime(first_commit, "%Y-%m-%dT%H:%M:%S.%fZ") - timedelta(seconds=1)
before_log = t0.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

if not args.no_fill:
    start = time.perf_counter()
    for i in range(args.imports):
        req("POST", "/v1/import", {"values": {f"big/k{j:05d}": i for j in range(args.import_keys)}})
    window_since = now_rfc3339()
    for i in range(args.singles):
        req("PUT", "/v1/kv/small", {"value": i})
    window_until = now_rfc3339()
    print("filled: %d imports of %d keys, %d single-event commits in %.1f s" %
          (args.imports, args.import_keys, args.singles, time.perf_counter() - start))
st = status()
log_events, log_commits = st["events"], st["revision"]
print(f"the log: {log_events:,} events in {log_commits:,} commits")

big = "big%%2Fk%05d" % (args.import_keys // 2)
measure("history_imports", f"history, key of {args.imports} imports of {args.import_keys:,} keys, limit=100",
        f"/v1/history/{big}?limit=100", min(100, args.imports))
measure("history_single", "history, key of single-event commits, limit=100",
        "/v1/history/small?limit=100", min(100, args.singles))
measure("events_actor", f"events?actor=nobody over {log_events:,} events", "/v1/events?actor=nobody", 0)
measure("events_since", f"events?since=<future> over {log_events:,} events",
        "/v1/events?since=" + now_rfc3339(timedelta(days=365)), 0)
measure("events_until", f"events?until=<before the log> over {log_events:,} events",
        "/v1/events?until=" + before_log, 0)
if not args.no_fill:
    measure("events_window", f"events?since=S&until=U ({args.singles} commits at the end)",
            f"/v1/events?since={window_since}&until={window_until}", args.singles)
