-- wrk: the one-line JSON summary that gateway.sh reads (requests/s, latency
-- percentiles in ms, answers other than 2xx). Used alone for a plain GET of the
-- URL given (the nginx ceiling row), and loaded by wrk_payments.lua and
-- wrk_balance.lua.
function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"requests_per_s":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"p99_9_ms":%.3f,"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, s, summary.requests / s, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
