-- wrk script for scripts/bench/api.py. Configured through the environment:
--   BENCH_MODE    "quick" (POST a quick record) or "ping" (GET the URL as given)
--   BENCH_TOKEN   bearer token (quick)
--   BENCH_BODY    JSON body (quick)
--   BENCH_RUN     prefix making every Idempotency-Key of this run unique
--   BENCH_OUT     file that done() writes its JSON summary to
-- Every request of every thread gets its own Idempotency-Key "<run>-<thread>-<n>".
-- Per thread it counts requests generated ("sent") and responses by status class, so the
-- caller can reconcile the database with what wrk saw (wrk abandons the requests still in
-- flight when its duration ends: sent - received of them may or may not have been committed).

local mode = os.getenv("BENCH_MODE") or "ping"
local run = os.getenv("BENCH_RUN") or "run"
local token = os.getenv("BENCH_TOKEN") or ""
local body = os.getenv("BENCH_BODY") or "{}"

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   sent = 0
   got201 = 0
   got2xx = 0
   got3xx = 0
   got4xx = 0
   got5xx = 0
   if mode == "quick" then
      wrk.method = "POST"
      wrk.body = body
      wrk.headers["Content-Type"] = "application/json"
      wrk.headers["Authorization"] = "Bearer " .. token
   end
   prefix = run .. "-" .. tostring(tid) .. "-"
end

function request()
   sent = sent + 1
   if mode == "quick" then
      wrk.headers["Idempotency-Key"] = prefix .. sent
   end
   return wrk.format()
end

function response(status, headers, body)
   if status == 201 then
      got201 = got201 + 1
      got2xx = got2xx + 1
   elseif status < 300 then
      got2xx = got2xx + 1
   elseif status < 400 then
      got3xx = got3xx + 1
   elseif status < 500 then
      got4xx = got4xx + 1
   else
      got5xx = got5xx + 1
   end
end

function done(summary, latency, requests)
   local t = {sent = 0, got201 = 0, got2xx = 0, got3xx = 0, got4xx = 0, got5xx = 0}
   for _, thread in ipairs(threads) do
      for k, _ in pairs(t) do
         t[k] = t[k] + (thread:get(k) or 0)
      end
   end
   local e = summary.errors
   local parts = {
      string.format('"duration_us":%d', summary.duration),
      string.format('"requests":%d', summary.requests),
      string.format('"bytes":%d', summary.bytes),
      string.format('"err_connect":%d', e.connect),
      string.format('"err_read":%d', e.read),
      string.format('"err_write":%d', e.write),
      string.format('"err_timeout":%d', e.timeout),
      string.format('"err_status":%d', e.status),
      string.format('"lat_mean_us":%.1f', latency.mean),
      string.format('"lat_max_us":%d', latency.max),
      string.format('"p50_us":%d', latency:percentile(50)),
      string.format('"p90_us":%d', latency:percentile(90)),
      string.format('"p99_us":%d', latency:percentile(99)),
      string.format('"p999_us":%d', latency:percentile(99.9)),
   }
   for k, v in pairs(t) do
      table.insert(parts, string.format('"%s":%d', k, v))
   end
   local out = "{" .. table.concat(parts, ",") .. "}\n"
   local path = os.getenv("BENCH_OUT")
   if path and path ~= "" then
      local f = assert(io.open(path, "w"))
      f:write(out)
      f:close()
   else
      io.write("BENCH_JSON " .. out)
   end
end
