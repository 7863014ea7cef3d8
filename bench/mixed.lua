-- wrk script: cycle through the paths in PATHS (one per line, from the environment)
-- and count server errors (5xx) across all threads.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in string.gmatch(os.getenv("PATHS") or "/", "[^\n]+") do
    table.insert(paths, line)
  end
  counter = 0
  server_errors = 0
  client_errors = 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function response(status, headers, body)
  if status >= 500 then
    server_errors = server_errors + 1
  elseif status >= 400 then
    client_errors = client_errors + 1
  end
end

function done(summary, latency, requests)
  local s5, s4 = 0, 0
  for _, thread in ipairs(threads) do
    s5 = s5 + thread:get("server_errors")
    s4 = s4 + thread:get("client_errors")
  end
  io.write(string.format(
    "RESULT requests=%d rps=%.1f p50_ms=%.1f p99_ms=%.1f server_errors=%d client_errors=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, s5, s4,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  ))
end
