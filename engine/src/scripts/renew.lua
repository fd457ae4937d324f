-- Heartbeat of one worker: extend the leases it still holds (one per claim,
-- `<worker>|<seq>`, see claim.lua) and report which are still held and, per
-- held job, whether a cancel was asked.
-- ARGV: worker, lease ms, n, then n claim seqs, then the ids of the jobs held.
-- Returns n held flags (1/0), then one cancel flag (1/0) per id.
local now = now_ms()
local worker, lease = ARGV[1], tonumber(ARGV[2])
redis.call('ZADD', base .. 'wk', now, worker)
local n = tonumber(ARGV[3])
local out = {}
if n > 0 then
  local members = {}
  for i = 1, n do members[i] = worker .. '|' .. ARGV[3 + i] end
  local scores = redis.call('ZMSCORE', base .. 'l', unpack(members))
  local renew = {}
  for i = 1, n do
    if scores[i] then
      renew[#renew + 1] = now + lease
      renew[#renew + 1] = members[i]
      out[i] = 1
    else
      out[i] = 0
    end
  end
  if #renew > 0 then redis.call('ZADD', base .. 'l', 'XX', unpack(renew)) end
end
if #ARGV > 3 + n then
  local cancels = redis.call('SMISMEMBER', base .. 'cxr', unpack(ARGV, 4 + n))
  for i = 1, #cancels do out[n + i] = cancels[i] end
end
return out
