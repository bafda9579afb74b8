-- A wrk script for the todo API: a mix of list / get / create requests,
-- optionally paced, that counts every status code and remembers the id of
-- every task the server said it created (201 + Location), so a scenario can
-- check afterwards that each acknowledged write is really in the database.
--
-- Settings come from the environment (wrk passes no arguments to `init`
-- in a way that survives threads, and env keeps the command line short):
--   LOAD_MIX       shares of list:get:create, e.g. "45:45:10" (default)
--   LOAD_DELAY_MS  pause per connection between requests (0 = flat out)
--   LOAD_GET_MAX   `get` asks for ids LOAD_GET_MIN..LOAD_GET_MAX (default 1..100)
--   LOAD_LIST_PATH what `list` asks for (default /api/todos?limit=100, so a
--                  mix that creates tasks keeps listing pages of 100)
--   LOAD_OUT       file to write the JSON summary to (default: stdout)
--   LOAD_STOP_AFTER  each thread stops once it has seen this many tasks
--                  created (201s); 0, the default, runs for the duration

local function split_mix(raw)
  local parts = {}
  for n in string.gmatch(raw, "%d+") do parts[#parts + 1] = tonumber(n) end
  local list, get, create = parts[1] or 45, parts[2] or 45, parts[3] or 10
  local total = list + get + create
  return list / total, (list + get) / total
end

local list_cut, get_cut = split_mix(os.getenv("LOAD_MIX") or "45:45:10")
local delay_ms = tonumber(os.getenv("LOAD_DELAY_MS") or "0")
local get_min = tonumber(os.getenv("LOAD_GET_MIN") or "1")
local get_max = tonumber(os.getenv("LOAD_GET_MAX") or "100")
local list_path = os.getenv("LOAD_LIST_PATH") or "/api/todos?limit=100"
local stop_after = tonumber(os.getenv("LOAD_STOP_AFTER") or "0")

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  threads[#threads + 1] = thread
end

-- Per-thread state (each wrk thread has its own Lua state).
statuses = {}
created = {}
created_n = 0
counter = 0
unavailable_without_retry_after = 0

-- The command line's headers (-H, e.g. Authorization) on creates too.
local json_headers = { ["Content-Type"] = "application/json" }
for name, value in pairs(wrk.headers) do
  if json_headers[name] == nil then json_headers[name] = value end
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function request()
  counter = counter + 1
  local r = math.random()
  if r < list_cut then
    return wrk.format("GET", list_path)
  elseif r < get_cut then
    return wrk.format("GET", "/api/todos/" .. math.random(get_min, get_max))
  else
    local body = string.format('{"title":"load %d-%d","priority":%d}',
                               thread_id or 0, counter, math.random(1, 5))
    return wrk.format("POST", "/api/todos", json_headers, body)
  end
end

if delay_ms > 0 then
  function delay() return delay_ms end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and not (headers["Retry-After"] or headers["retry-after"]) then
    unavailable_without_retry_after = unavailable_without_retry_after + 1
  end
  if status == 201 then
    local location = headers["Location"] or headers["location"] or ""
    local id = string.match(location, "/api/todos/(%d+)$")
    if id then
      created_n = created_n + 1
      created[created_n] = tonumber(id)
    end
    if stop_after > 0 and created_n >= stop_after then
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local merged, ids, bare_503 = {}, {}, 0
  for _, thread in ipairs(threads) do
    bare_503 = bare_503 + (thread:get("unavailable_without_retry_after") or 0)
    for status, n in pairs(thread:get("statuses") or {}) do
      merged[status] = (merged[status] or 0) + n
    end
    for _, id in ipairs(thread:get("created") or {}) do ids[#ids + 1] = id end
  end
  local status_parts = {}
  for status, n in pairs(merged) do
    status_parts[#status_parts + 1] = string.format('"%d":%d', status, n)
  end
  local id_parts = {}
  for i, id in ipairs(ids) do id_parts[i] = string.format("%d", id) end
  local e = summary.errors
  local out = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d},' ..
    '"statuses":{%s},"unavailable_without_retry_after":%d,"created_ids":[%s]}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max,
    table.concat(status_parts, ","), bare_503, table.concat(id_parts, ","))
  local path = os.getenv("LOAD_OUT")
  if path and path ~= "" then
    local f = assert(io.open(path, "w"))
    f:write(out)
    f:close()
  else
    io.write(out)
  end
end
