-- mixed.lua: GET /users/42 from two origins in turn, for runtime.sh.
-- Counts the answers that are not 2xx, and those that mix two policies:
-- policy A allows https://a.example with X-A exposed, policy B allows
-- https://b.example with X-B exposed; any other pairing is mixed.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  n, non2xx, mixed, allowed = 0, 0, 0, 0
  origins = { "https://a.example", "https://b.example" }
end

function request()
  n = n + 1
  return wrk.format("GET", "/users/42", { ["Origin"] = origins[(n % 2) + 1] })
end

local function header(headers, name)
  for k, v in pairs(headers) do
    if string.lower(k) == name then return v end
  end
  return nil
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  local acao = header(headers, "access-control-allow-origin")
  local expose = header(headers, "access-control-expose-headers")
  local ok = (acao == nil and expose == nil)
    or (acao == "https://a.example" and expose == "X-A")
    or (acao == "https://b.example" and expose == "X-B")
  if not ok then mixed = mixed + 1 end
  if acao ~= nil then allowed = allowed + 1 end
end

function done(summary, latency, requests)
  local bad, mix, ok = 0, 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    mix = mix + t:get("mixed")
    ok = ok + t:get("allowed")
  end
  io.write(string.format("counts: requests %d non2xx %d mixed %d allowed %d\n", summary.requests, bad, mix, ok))
end
