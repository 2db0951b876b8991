-- wrk script: the cache-miss path of Keyward's /auth.
--
--   wrk -t T -s bench/miss.lua http://127.0.0.1:PORT/auth -- KEYS_FILE [T] [OFFSET]
--
-- Sends every key of KEYS_FILE once, in order, as "Authorization: Bearer <key>": thread i of T
-- takes its own contiguous share of the keys from line OFFSET+1 on, so no key is sent twice and
-- every request makes the server look the key up in its store (start the server fresh, so its
-- cache is cold). T must be the -t given to wrk (wrk does not tell scripts how many threads it
-- runs). The values may also come from the environment: BENCH_KEYS_FILE, BENCH_WRK_THREADS,
-- BENCH_MISS_OFFSET.
--
-- When a thread runs out of keys it starts its share again: those requests are cache hits, and
-- done() says so ("WRAPPED"). Give it more keys (or a shorter run) when that happens.

local keys = {}
local check_request_pending = false
local next_index = 1
sent = 0
wraps = 0
share = 0

local function fail(message)
  io.stderr:write("miss.lua: " .. message .. "\n")
  os.exit(2)
end

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  local path = args[1] or os.getenv("BENCH_KEYS_FILE")
  if not path or path == "" then fail("no keys file: pass it after -- or set BENCH_KEYS_FILE") end
  local count = tonumber(args[2] or os.getenv("BENCH_WRK_THREADS") or "1")
  local offset = tonumber(args[3] or os.getenv("BENCH_MISS_OFFSET") or "0")
  if not count or count < 1 then fail("the thread count must be a positive number") end
  if not offset or offset < 0 then fail("the offset must not be negative") end
  if thread_index >= count then
    fail(string.format("wrk runs more threads than the %d this script was told of", count))
  end

  local file, err = io.open(path, "r")
  if not file then fail("cannot open keys file: " .. tostring(err)) end
  local all = {}
  for line in file:lines() do
    if line ~= "" then all[#all + 1] = line end
  end
  file:close()
  local available = #all - offset
  if available < count then fail(path .. " holds too few keys after the offset") end
  -- Thread i takes lines [offset + i*available/count, offset + (i+1)*available/count).
  local from = offset + math.floor(thread_index * available / count) + 1
  local to = offset + math.floor((thread_index + 1) * available / count)
  for i = from, to do keys[#keys + 1] = all[i] end
  share = #keys
  -- wrk calls request() of its first thread once before the run, to check the request; that key
  -- is never sent, so it is not counted either.
  check_request_pending = thread_index == 0
end

function request()
  if check_request_pending then
    check_request_pending = false
  else
    sent = sent + 1
  end
  if next_index > #keys then
    next_index = 1
    wraps = wraps + 1
  end
  local key = keys[next_index]
  next_index = next_index + 1
  return wrk.format("GET", wrk.path, { ["Authorization"] = "Bearer " .. key })
end

function done(summary, latency, requests)
  local total_sent, total_share, total_wraps = 0, 0, 0
  for _, thread in ipairs(threads) do
    total_sent = total_sent + (thread:get("sent") or 0)
    total_share = total_share + (thread:get("share") or 0)
    total_wraps = total_wraps + (thread:get("wraps") or 0)
  end
  if total_wraps > 0 then
    io.write(string.format(
        "miss.lua: WRAPPED: %d requests over %d keys, keys reused %d times; " ..
        "later requests were cache hits\n", total_sent, total_share, total_wraps))
  else
    io.write(string.format("miss.lua: %d keys sent once each (of %d available)\n",
                           total_sent, total_share))
  end
end
