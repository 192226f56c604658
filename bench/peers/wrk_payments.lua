-- wrk: POST /v1/payments through coffer-gateway, captured at once, each with a
-- fresh payment_id, from members 1..MEMBERS to merchant MERCHANT.
--   API_KEY=... MEMBERS=10000 MERCHANT=coffer-bench PREFIX=w1 \
--     wrk -t1 -c256 -d10s -s bench/peers/wrk_payments.lua http://127.0.0.1:8080
-- Prints one JSON line at the end (requests/s, latency percentiles in ms,
-- answers other than 2xx): gateway.sh reads it.
local threads = {}
local key = os.getenv("API_KEY") or ""
local members = tonumber(os.getenv("MEMBERS") or "10000")
local merchant = os.getenv("MERCHANT") or "coffer-bench"
local prefix = os.getenv("PREFIX") or tostring(os.time())

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local counter = 0
local headers
function init(args)
  math.randomseed(tid * 7919 + os.time())
  headers = {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"payment_id":"%s-%d-%d","member_id":%d,"merchant_id":"%s","amount":%d,"capture":true}',
    prefix, tid, counter, math.random(1, members), merchant, math.random(100, 10000))
  return wrk.format("POST", "/v1/payments", headers, body)
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"requests_per_s":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"p99_9_ms":%.3f,"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, s, summary.requests / s, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
