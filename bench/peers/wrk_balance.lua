-- wrk: GET /v1/members/{id}/balance through coffer-gateway, members chosen
-- uniformly from 1..MEMBERS.
--   API_KEY=... MEMBERS=10000 wrk -t1 -c256 -d10s -s bench/peers/wrk_balance.lua http://127.0.0.1:8080
-- Prints one JSON line at the end, like wrk_payments.lua.
local threads = {}
local key = os.getenv("API_KEY") or ""
local members = tonumber(os.getenv("MEMBERS") or "10000")

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local headers
function init(args)
  math.randomseed(tid * 104729 + os.time())
  headers = { ["Authorization"] = "Bearer " .. key }
end

function request()
  return wrk.format("GET", "/v1/members/" .. math.random(1, members) .. "/balance", headers)
end

-- done(): the shared summary, from the file beside this one.
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "wrk_summary.lua")
