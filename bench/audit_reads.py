#!/usr/bin/env python3
"""Reads whose cost must not grow with the log (SPEC §6, issue 14 item 4).

Fills a running server (memory store recommended) with 100 imports of 5,000
keys and 100 single-event commits of one key, then times, best of N:
  - GET /v1/history/<a key of the imports>?limit=100
  - GET /v1/history/<the single-event key>?limit=100
  - GET /v1/events?actor=nobody           (500,100 events, none match)
  - GET /v1/events?since=<in the future>  (the same)

Usage: bench/audit_reads.py http://127.0.0.1:7700
"""
import json
import sys
import time
import urllib.request

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:7700"


def req(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(base + path, method=method, data=data,
                               headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(r).read()


def best_ms(path, n=20):
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        req("GET", path)
        best = min(best, time.perf_counter() - start)
    return best * 1000


for i in range(100):
    req("POST", "/v1/import", {"values": {f"big/k{j:05d}": i for j in range(5000)}})
for i in range(100):
    req("PUT", "/v1/kv/small", {"value": i})
print("history, key of 100 imports of 5,000 keys, limit=100  %8.2f ms" %
      best_ms("/v1/history/big%2Fk02500?limit=100"))
print("history, key of single-event commits, limit=100       %8.2f ms" %
      best_ms("/v1/history/small?limit=100"))
print("events?actor=nobody over 500,100 events               %8.2f ms" %
      best_ms("/v1/events?actor=nobody", 5))
print("events?since=<future> over 500,100 events             %8.2f ms" %
      best_ms("/v1/events?since=2030-01-01T00:00:00Z", 5))
