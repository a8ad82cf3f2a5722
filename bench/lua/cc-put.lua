-- cc-put.lua - wrk script: PUT /v1/kv/<prefix><thread>/<counter> with {"value":<99-byte JSON>}.
-- Every request writes a DISTINCT key (one new key = one commit = one revision), the chronoconf
-- twin of ../shared/bench/lua/etcd-put.lua (same 99-byte config-like value text).
-- A 201 (created) counts as success; anything outside 2xx/3xx is a wrk status error.
-- args: [1] key prefix (default "bench/put/"; must be a valid chronoconf key prefix)
tid = 0            -- overwritten per thread by setup()
local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end

local prefix, body, hdrs
local counter = 0
function init(args)
  prefix = args[1] or "bench/put/"
  -- 99 bytes of config-like JSON, as in etcd-put.lua (a valid JSON object of exactly 99 bytes)
  local v = '{"service":"checkout","feature":"new-pricing","enabled":true,"rollout":25,"owner":"team-payments"}'
  v = v:sub(1, #v - 1) .. string.rep(" ", 99 - #v) .. "}"
  body = '{"value":' .. v .. '}'
  hdrs = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  return wrk.format("PUT", string.format("/v1/kv/%s%d/%010d", prefix, tid, counter), hdrs, body)
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, s, summary.requests / s,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, e.connect, e.read, e.write, e.status, e.timeout))
end
