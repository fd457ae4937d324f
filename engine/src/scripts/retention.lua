-- Remove finished jobs past their retention. Safe to run from many processes
-- at once: each call is atomic and only removes what is past the cutoff.
-- `ok` is newest-first, so the oldest succeeded jobs sit at its tail.
-- ARGV: succeeded cutoff ms, dead/cancelled cutoff ms, limit.
-- Returns the number of jobs removed.
local ok_cutoff, dead_cutoff, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local removed = 0
local tail = redis.call('LRANGE', base .. 'ok', -limit, -1)
local trimmed = 0
for i = #tail, 1, -1 do
  local jk = base .. 'j:' .. tail[i]
  local f = redis.call('HMGET', jk, 'f', 's')
  if f[1] and f[2] == 'succeeded' and tonumber(f[1]) > ok_cutoff then break end
  if f[2] == 'succeeded' then
    redis.call('DEL', jk)
    removed = removed + 1
  end
  trimmed = trimmed + 1
end
if trimmed > 0 then redis.call('LTRIM', base .. 'ok', 0, -(trimmed + 1)) end
for _, z in ipairs({ 'dead', 'cx' }) do
  local zk = base .. z
  local ids = redis.call('ZRANGEBYSCORE', zk, '-inf', dead_cutoff, 'LIMIT', 0, limit)
  if #ids > 0 then
    for _, id in ipairs(ids) do
      local jk = base .. 'j:' .. id
      local s = redis.call('HGET', jk, 's')
      if s == 'dead' or s == 'cancelled' then
        redis.call('DEL', jk)
        removed = removed + 1
      end
    end
    redis.call('ZREM', zk, unpack(ids))
  end
end
-- Batches: a `done` one goes with the dead/cancelled cutoff (open or sealed
-- ones stay: their members still run).
local old = redis.call('ZRANGEBYSCORE', base .. 'bs', '-inf', dead_cutoff, 'LIMIT', 0, limit)
for _, bid in ipairs(old) do
  local bk = base .. 'b:' .. bid
  local st = redis.call('HGET', bk, 'state')
  if st == 'done' or not st then
    redis.call('DEL', bk, base .. 'bm:' .. bid)
    redis.call('ZREM', base .. 'bs', bid)
  end
end
return removed
