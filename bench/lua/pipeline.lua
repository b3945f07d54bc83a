-- wrk script for make bench: one connection per thread (run wrk with -t equal
-- to -c), so each thread is one client going through a small state machine.
--
-- BENCH_MODE   post       POST creates back to back (closed loop)
--              poll       POST a create, then GET its job until finished, repeat
--              wait       the same, each GET with ?wait=20 (Orderly: the answer comes when the job finishes)
--              prefer     POST with `Prefer: respond-async, wait=20`: one request, answered 200 with the
--                         finished job (a 202 falls back to GET ?wait=20)
--              lifecycle  create, pay, ship, deliver one order, polling each job
--              get        GET BENCH_PATH back to back
--              get_pair   GET the two paths of BENCH_PATH ("A|B") one after the other; a pair is one read
--              graphql    POST BENCH_BODY to BENCH_PATH back to back (a 200 without "errors" is one read)
-- BENCH_TARGET orderly | bare (the paths and bodies of each API)
-- BENCH_KEY    the API key (Orderly)
--
-- done() prints one line "BENCH {json}" with the counts and latency percentiles.
local mode = os.getenv("BENCH_MODE") or "post"
local target = os.getenv("BENCH_TARGET") or "orderly"
local key = os.getenv("BENCH_KEY")
local get_path = os.getenv("BENCH_PATH") or "/"
local first_path, second_path = get_path:match("^([^|]+)|(.+)$")
local graphql_body = os.getenv("BENCH_BODY") or ""
local pair_half = 1

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local headers = { ["Content-Type"] = "application/json" }
if key then
  headers["Authorization"] = "Bearer " .. key
end

local prefer_headers = {}
for name, value in pairs(headers) do
  prefer_headers[name] = value
end
prefer_headers["Prefer"] = "respond-async, wait=20"

local steps = { "create", "pay", "ship", "deliver" }
local create_body = '{"currency":"USD","items":[{"sku":"B-1","quantity":1,"unit_price_cents":999}]}'

-- Per-thread counters, read by done() through thread:get().
accepted, refused, completed, failed, polls, unexpected = 0, 0, 0, 0, 0, 0
local state, job, order, step = "post", nil, nil, 1

local function post_request()
  local command = steps[step]
  if target == "orderly" then
    if command == "create" then
      return wrk.format("POST", "/api/v1/orders", mode == "prefer" and prefer_headers or headers, create_body)
    end
    return wrk.format("POST", "/api/v1/orders/" .. order .. "/commands", headers, '{"command":"' .. command .. '"}')
  end
  local body = '{"command":"' .. command .. '","version":' .. (step - 1)
  if order and command ~= "create" then
    body = body .. ',"order_id":"' .. order .. '"'
  end
  return wrk.format("POST", "/jobs", headers, body .. "}")
end

function request()
  if mode == "get" then
    return wrk.format("GET", get_path, headers)
  end
  if mode == "get_pair" then
    return wrk.format("GET", pair_half == 1 and first_path or second_path, headers)
  end
  if mode == "graphql" then
    return wrk.format("POST", get_path, headers, graphql_body)
  end
  if state == "poll" then
    polls = polls + 1
    local prefix = target == "orderly" and "/api/v1/jobs/" or "/jobs/"
    local suffix = (mode == "wait" or mode == "prefer") and "?wait=20" or ""
    return wrk.format("GET", prefix .. job .. suffix, headers)
  end
  return post_request()
end

local function finished(body)
  local status = body:match('"status"%s*:%s*"(%a+)"')
  if status ~= "succeeded" and status ~= "failed" and status ~= "cancelled" then
    return
  end
  state = "post"
  if status == "succeeded" then
    completed = completed + 1
  else
    failed = failed + 1
  end
  if mode == "lifecycle" then
    if step == 1 then
      order = body:match('"order_id"%s*:%s*"([^"]+)"')
    end
    step = (status == "succeeded") and (step % 4 + 1) or 1
  end
end

function response(status, _, body)
  if mode == "get" then
    if status == 200 then accepted = accepted + 1 else unexpected = unexpected + 1 end
  elseif mode == "get_pair" then
    if status ~= 200 then
      unexpected = unexpected + 1
      pair_half = 1
    elseif pair_half == 1 then
      pair_half = 2
    else
      accepted = accepted + 1
      pair_half = 1
    end
  elseif mode == "graphql" then
    if status == 200 and not body:find('"errors"', 1, true) then accepted = accepted + 1 else unexpected = unexpected + 1 end
  elseif state == "post" then
    if status == 200 and mode == "prefer" then
      accepted = accepted + 1
      finished(body)
    elseif status == 202 then
      accepted = accepted + 1
      if mode ~= "post" then
        job = body:match('"id"%s*:%s*"([^"]+)"')
        state = "poll"
      end
    elseif status == 429 or status == 503 then
      refused = refused + 1
    else
      unexpected = unexpected + 1
    end
  elseif status == 200 then
    finished(body)
  else
    unexpected = unexpected + 1
  end
end

function done(summary, latency, _)
  local totals = { accepted = 0, refused = 0, completed = 0, failed = 0, polls = 0, unexpected = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  local parts = {}
  for name, value in pairs(totals) do
    table.insert(parts, string.format('"%s":%d', name, value))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {%s,"requests":%d,"duration_us":%d,"socket_errors":%d,' ..
      '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    table.concat(parts, ","), summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
end
