-- wrk script: the cache-hit path of Keyward's /auth.
--
--   wrk -s bench/auth.lua http://127.0.0.1:PORT/auth -- KEYS_FILE [N]
--
-- Sends GET <path of the URL> with "Authorization: Bearer <key>", rotating over the first N keys
-- (default 1000) of KEYS_FILE, one key per line as keyward_seed_keys writes them. The file and N
-- may also come from the environment: BENCH_KEYS_FILE, BENCH_HIT_KEYS. After the first N
-- requests every key is in the server's cache, so this measures HTTP + checksum + SHA-256 +
-- cache lookup. The requests are built once in init(), so wrk itself does little per request.

local requests = {}
local next_index = 1

local function fail(message)
  io.stderr:write("auth.lua: " .. message .. "\n")
  os.exit(2)
end

local function read_keys(path, limit)
  local file, err = io.open(path, "r")
  if not file then fail("cannot open keys file: " .. tostring(err)) end
  local keys = {}
  for line in file:lines() do
    if #keys >= limit then break end
    if line ~= "" then keys[#keys + 1] = line end
  end
  file:close()
  if #keys == 0 then fail(path .. " holds no keys") end
  return keys
end

local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  local path = args[1] or os.getenv("BENCH_KEYS_FILE")
  if not path or path == "" then fail("no keys file: pass it after -- or set BENCH_KEYS_FILE") end
  local limit = tonumber(args[2] or os.getenv("BENCH_HIT_KEYS") or "1000")
  if not limit or limit < 1 then fail("the number of keys must be a positive number") end
  local keys = read_keys(path, limit)
  for i, key in ipairs(keys) do
    requests[i] = wrk.format("GET", wrk.path, { ["Authorization"] = "Bearer " .. key })
  end
  -- Threads start at different keys so they do not all ask for the same key at once.
  next_index = ((thread_index or 0) * 97) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end
