-- wrk script: POST SePay notifications (API-key auth), each with an id used once.
-- Arguments after "--": run prefix, API key, account number, transaction date.
-- Ids are <run><thread><7-digit counter>, so a thread's ids are 1..issued in order and the
-- check afterwards can tell every id it sent. Used by bench/loadmix.py.

local threads = {}
local run, key, account, when
tid = 0
issued = 0
acked = 0
unexpected = 0

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  run, key, account, when = args[1], args[2], args[3], args[4]
end

function request()
  issued = issued + 1
  local id = string.format("%s%d%07d", run, tid, issued)
  local body = string.format(
    '{"id":%s,"gateway":"Vietcombank","transactionDate":"%s","accountNumber":"%s",'
      .. '"code":null,"content":"LOAD %s","transferType":"in","transferAmount":%d,'
      .. '"accumulated":0,"subAccount":null,"referenceCode":"LOAD.%s",'
      .. '"description":"BankAPINotify LOAD %s"}',
    id, when, account, id, 1000 + issued % 500, id, id)
  local headers = {}
  headers["Authorization"] = "Apikey " .. key
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/webhooks/sepay", headers, body)
end

function response(status, headers, body)
  if status == 200 and string.find(body, '"duplicate":false', 1, true) then
    acked = acked + 1
  else
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
    io.write(string.format("webhook thread %d issued %d acked %d\n",
      thread:get("tid"), thread:get("issued"), thread:get("acked")))
  end
  io.write(string.format("unexpected: %d\n", total))
end
