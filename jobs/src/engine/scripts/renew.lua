-- Heartbeat of one worker: extend the leases it still holds and report, per
-- lease member, whether it is still held and whether a cancel was asked.
-- ARGV: worker, lease ms, then lease members `<id>|<worker>|<attempt>`.
-- Returns 2 values per member: held (1/0), cancel requested (1/0).
local now = now_ms()
local worker, lease = ARGV[1], tonumber(ARGV[2])
redis.call('ZADD', base .. 'wk', now, worker)
local n = #ARGV - 2
if n == 0 then return {} end
local members, ids = {}, {}
for i = 1, n do
  members[i] = ARGV[i + 2]
  ids[i] = string.match(members[i], '^([^|]+)|')
end
local scores = redis.call('ZMSCORE', base .. 'l', unpack(members))
local renew = {}
for i = 1, n do
  if scores[i] then
    renew[#renew + 1] = now + lease
    renew[#renew + 1] = members[i]
  end
end
if #renew > 0 then redis.call('ZADD', base .. 'l', 'XX', unpack(renew)) end
local cancels = redis.call('SMISMEMBER', base .. 'cxr', unpack(ids))
local out = {}
for i = 1, n do
  out[#out + 1] = scores[i] and 1 or 0
  out[#out + 1] = cancels[i]
end
return out
