-- wrk script: POSTs the documents of BODIES (a JSONL file, one request body a line) to /link in
-- turn, and prints p50/p99 latency, requests/s and failures.
local bodies = {}
local next_body = 1

init = function(args)
  for line in io.lines(os.getenv("BODIES")) do
    bodies[#bodies + 1] = line
  end
end

request = function()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/link", {["Content-Type"] = "application/json"}, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d failed=%d (connect %d read %d write %d status %d timeout %d) " ..
    "p50_ms=%.2f p99_ms=%.2f rps=%.1f\n",
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
