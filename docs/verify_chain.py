#!/usr/bin/env python3
"""Recompute chronoconf's hash chain from a SQLite store, without chronoconf.

    python3 docs/verify_chain.py chronoconf-data/events.db

For every commit, in revision order:
    commit_bytes = {"revision":R,"timestamp":"...","actor":"...","reason":...,
                    "request_id":...,"events":[{"index":0,"type":"...","key":"...",
                    "version":N,"value":<text|null>,"previous_value":<text|null>
                    [,"lease":ID]}]}      ("lease" only on a put made with an etcd lease)
    hash = SHA-256(prev_hash as 32 raw bytes || commit_bytes)     (SPEC §1.1)
Value texts are inserted exactly as stored. Events of system streams are
hashed like any event: lease events (LeaseGranted, LeaseRevoked, LeaseExpired)
in "\x01lease/<id>", schema events (SchemaSet, SchemaDeleted) in
"\x01schemas", review policies (PolicySet, PolicyDeleted) in "\x01policies"
and review changes (ChangeProposed, ChangeApproved, ChangeRejected,
ChangeApplied) in "\x01change/<id>" (SPEC §8). Exit 0 when every hash matches.
"""
import hashlib
import sqlite3
import sys


def quote(s):
    """JSON string, escaped minimally as SPEC §1.1 says."""
    if s is None:
        return "null"
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t\b\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def main(path):
    db = sqlite3.connect(path)
    prev = "0" * 64
    n = 0
    for rev, at, actor, reason, req, prev_hash, stored in db.execute(
            "SELECT revision, committed_at, actor, reason, request_id, prev_hash, hash"
            " FROM commits ORDER BY revision"):
        # A store from before leases (schema 3) has no lease column.
        columns = [r[1] for r in db.execute("PRAGMA table_info(events)")]
        lease = "lease" if "lease" in columns else "NULL"
        events = db.execute(
            "SELECT idx, type, key, version, value, previous_value, %s FROM events"
            " WHERE revision = ? ORDER BY idx" % lease, (rev,)).fetchall()
        body = ",".join(
            '{"index":%d,"type":%s,"key":%s,"version":%d,"value":%s,"previous_value":%s%s}'
            % (i, quote(t), quote(k), v, val if val is not None else "null",
               pv if pv is not None else "null",
               ',"lease":%d' % ls if ls is not None else "")
            for i, t, k, v, val, pv, ls in events)
        commit = '{"revision":%d,"timestamp":%s,"actor":%s,"reason":%s,"request_id":%s,"events":[%s]}' % (
            rev, quote(at), quote(actor), quote(reason), quote(req), body)
        digest = hashlib.sha256(bytes.fromhex(prev) + commit.encode("utf-8")).hexdigest()
        if prev_hash != prev or digest != stored:
            print("revision %d: hash mismatch (stored %s, computed %s)" % (rev, stored, digest))
            return 1
        prev = digest
        n += 1
    print("ok: %d commits, head hash %s" % (n, prev))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "chronoconf-data/events.db"))
