#!/usr/bin/env python3
"""PUT to a hot key and to new keys in turn, on one keep-alive connection, and
print the p50/p90 of each: both kinds see the same load of a shared machine,
so their ratio holds even when the absolute figures move (issue 14, SPEC §6).

Usage: bench/put_interleaved.py URL HOT_KEY [-n 2000] [--machine]
With --machine it also prints, for bench/run.sh:
  PAIRS ratio=… hot_p50_ms=… new_p50_ms=… hot_p90_ms=… new_p90_ms=… n=…
"""
import argparse
import http.client
import json
import statistics
import time
import urllib.parse

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("url")
ap.add_argument("hot_key")
ap.add_argument("-n", type=int, default=2000, help="PUTs of each kind")
ap.add_argument("--machine", action="store_true", help="also print a PAIRS line")
args = ap.parse_args()
u = urllib.parse.urlsplit(args.url)
conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
stamp = int(time.time())


def put(key, value):
    body = json.dumps({"value": value}).encode()
    start = time.perf_counter()
    conn.request("PUT", "/v1/kv/" + key, body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    took = (time.perf_counter() - start) * 1000
    if r.status // 100 != 2:
        raise SystemExit(f"PUT {key}: {r.status}")
    return took


hot, new = [], []
for i in range(args.n):
    value = {"service": "checkout", "enabled": True, "rollout": i}
    hot.append(put(args.hot_key, value))
    new.append(put(f"bench/interleaved/{stamp}/{i:07d}", value))
for name, t in (("hot key", hot), ("new keys", new)):
    t.sort()
    print("%-9s p50 %.3f ms  p90 %.3f ms  mean %.3f ms  (%d PUTs)" %
          (name, statistics.median(t), t[int(len(t) * 0.9)], statistics.fmean(t), len(t)))
ratio = statistics.median(hot) / statistics.median(new)
print("ratio of p50s (hot / new): %.2f" % ratio)
if args.machine:
    print(f"PAIRS ratio={ratio:.3f} hot_p50_ms={statistics.median(hot):.3f} new_p50_ms={statistics.median(new):.3f}"
          f" hot_p90_ms={hot[int(len(hot) * 0.9)]:.3f} new_p90_ms={new[int(len(new) * 0.9)]:.3f} n={args.n}")
