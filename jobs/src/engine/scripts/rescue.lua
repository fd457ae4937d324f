-- Re-deliver jobs whose lease expired (their worker was killed, froze or was
-- cut off). A job that already lost `max_deliveries` workers this way is
-- poison: it goes to `dead` with reason `crashed` instead of looping.
-- The others become suspects: they wait in `q`, and claim.lua hands each one
-- to an idle worker to run alone. A crash takes every job its process held,
-- so without this a poison job redelivered beside its neighbours would crash
-- them again and send innocent jobs to `dead/crashed` with it.
-- Also forgets workers that stopped heartbeating.
-- ARGV: max_deliveries, limit, worker stale ms.
-- Returns {requeued, dead}.
local now = now_ms()
local max_deliveries, limit, stale = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local expired = redis.call('ZRANGEBYSCORE', base .. 'l', '-inf', now, 'LIMIT', 0, limit)
local requeued, dead = 0, 0
for _, m in ipairs(expired) do
  redis.call('ZREM', base .. 'l', m)
  local id = string.match(m, '^([^|]+)|')
  local jk = base .. 'j:' .. id
  local f = redis.call('HMGET', jk, 't', 's')
  if f[1] and f[2] == 'running' then
    local crashes = redis.call('HINCRBY', jk, 'd', 1)
    local attempt = tonumber(string.match(m, '|(%d+)$') or '0')
    record_failure(jk, attempt, now, 'crashed', 'the worker running it disappeared (lease expired)')
    if crashes >= max_deliveries then
      redis.call('HSET', jk, 's', 'dead', 'rs', 'crashed', 'f', now,
        'e', 'the worker running it disappeared ' .. crashes .. ' times (killed, crashed or lost)')
      redis.call('ZADD', base .. 'dead', now, id)
      dead = dead + 1
    else
      redis.call('HSET', jk, 's', 'queued')
      redis.call('RPUSH', base .. 'q', id)
      requeued = requeued + 1
    end
  end
end
if requeued > 0 then
  redis.call('HINCRBY', base .. 'm', 'queued', requeued)
  wake(requeued)
end
redis.call('ZREMRANGEBYSCORE', base .. 'wk', '-inf', now - stale)
return { requeued, dead }
