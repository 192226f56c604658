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

-- done(): the shared summary, from the file beside this one.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "wrk_summary.lua")
