-- wrk script: GET the paths given after "--" in turn; count answers other than 200, and
-- among them the 429s of a rate limit apart ("limited").
-- Used by bench/loadmix.py (pay page, QR image, dashboard, export).

local threads = {}
local paths = {}
local next_index = 0
unexpected = 0
limited = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for _, path in ipairs(args) do
    table.insert(paths, path)
  end
end

function request()
  next_index = next_index % #paths + 1
  return wrk.format("GET", paths[next_index])
end

function response(status, headers, body)
  if status == 429 then
    limited = limited + 1
  elseif status ~= 200 then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total, total_limited = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
    total_limited = total_limited + thread:get("limited")
  end
  io.write(string.format("unexpected: %d\n", total))
  io.write(string.format("limited: %d\n", total_limited))
end
