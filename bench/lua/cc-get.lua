-- cc-get.lua - wrk script: GET the URL's path over and over (keep-alive) and print one
-- machine-readable "WRK ..." line (the same format as ../shared/bench/lua/report.lua).
-- Used for GET /v1/kv/{key} and GET /v1/kv/{key}?at_revision=R (time travel).
-- An optional argument replaces the path: wrk ... -s cc-get.lua http://127.0.0.1:PORT -- /v1/kv/k?at_revision=2
function init(args)
  if args[1] then wrk.path = args[1] end
  wrk.method = "GET"
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
