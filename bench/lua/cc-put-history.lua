-- cc-put-history.lua - wrk script that builds a long history for ONE key: PUT /v1/kv/<key> with
-- a different value every time ({"rollout":<counter>,"t":<thread>}, so no PUT is a no-op), and
-- stops each wrk thread once it has received its share of <count> responses (wrk -d is only the
-- upper time bound). Each PUT is one commit, so the key gets ~<count> versions / revisions.
-- args: [1] key (default "config/checkout/new-pricing")  [2] count over all threads (default 100000)
--       [3] number of wrk threads (-t, default 1): each thread stops after count/threads responses
tid = 0
local nthreads = 0
function setup(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end

local path, hdrs, share
local counter, got = 0, 0
function init(args)
  path = "/v1/kv/" .. (args[1] or "config/checkout/new-pricing")
  share = math.ceil(tonumber(args[2] or "100000") / tonumber(args[3] or "1"))
  hdrs = { ["Content-Type"] = "application/json" }
end

function request()
  counter = counter + 1
  return wrk.format("PUT", path, hdrs,
    string.format('{"value":{"enabled":true,"rollout":%d,"t":%d}}', counter, tid))
end

function response(status, headers, body)
  got = got + 1
  if got >= share then wrk.thread:stop() end
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
