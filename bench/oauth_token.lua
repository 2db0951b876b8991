-- wrk script: POST /oauth/token, the client_credentials grant, as Pulsar's and Trino's OAuth2
-- clients send it (RFC 6749 §4.4, client_secret_post).
--
--   wrk -s bench/oauth_token.lua http://127.0.0.1:PORT/oauth/token -- CLIENT_ID SECRET_FILE [AUDIENCE]
--
-- CLIENT_ID is the key owner's user id; SECRET_FILE holds the API key (a file, so that the key
-- is not on a command line); AUDIENCE defaults to the server's default audience. Every request
-- is the same form body: the server signs a fresh token for each.

local request_text

local function fail(message)
  io.stderr:write("oauth_token.lua: " .. message .. "\n")
  os.exit(2)
end

local function urlencode(s)
  return (s:gsub("[^A-Za-z0-9%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

function init(args)
  local client_id, secret_file, audience = args[1], args[2], args[3]
  if not client_id or not secret_file then fail("usage: -- CLIENT_ID SECRET_FILE [AUDIENCE]") end
  local file, err = io.open(secret_file, "r")
  if not file then fail("cannot open the secret file: " .. tostring(err)) end
  local secret = (file:read("*l") or ""):gsub("%s+$", "")
  file:close()
  if secret == "" then fail(secret_file .. " is empty") end
  local body = "grant_type=client_credentials&client_id=" .. urlencode(client_id) ..
    "&client_secret=" .. urlencode(secret)
  if audience and audience ~= "" then body = body .. "&audience=" .. urlencode(audience) end
  request_text = wrk.format("POST", wrk.path,
    { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

function request()
  return request_text
end
