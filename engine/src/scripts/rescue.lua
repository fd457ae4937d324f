-- Re-deliver jobs whose lease expired (their worker was killed, froze or was
-- cut off). A lease covers one claim's jobs (`<worker>|<seq>`, listed in
-- `lb:<worker>|<seq>`, see claim.lua); each of them still running under that
-- delivery (same attempt) is rescued, the ones already finished are not.
-- A job that already lost `max_deliveries` workers this way is poison: it
-- goes to `dead` with reason `crashed` instead of looping.
-- The others become suspects: they wait in `q`, and claim.lua hands each one
-- to an idle worker to run alone. A crash takes every job its process held,
-- so without this a poison job redelivered beside its neighbours would crash
-- them again and send innocent jobs to `dead/crashed` with it.
-- Also forgets workers that stopped heartbeating.
-- ARGV: max_deliveries, limit (leases per call), worker stale ms.
-- Returns {requeued, dead}.
local now = now_ms()
local max_deliveries, limit, stale = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local expired = redis.call('ZRANGEBYSCORE', base .. 'l', '-inf', now, 'LIMIT', 0, limit)
local requeued, dead, ended_running, ended_claimed = 0, 0, 0, 0

local function words(s)
  local out = {}
  for w in string.gmatch(s or '', '%S+') do out[#out + 1] = w end
  return out
end

for _, m in ipairs(expired) do
  redis.call('ZREM', base .. 'l', m)
  local ids, attempts
  -- Batch leases count in the meta `claimed`/`running`; per-job ones never did.
  local counted = string.match(m, '^[^|]+|[^|]+$') ~= nil
  if counted then
    local lb = base .. 'lb:' .. m
    local v = redis.call('GET', lb) or '\n'
    redis.call('DEL', lb)
    local sids, satts = string.match(v, '^(.-)\n(.*)$')
    ids, attempts = words(sids), words(satts)
  else
    -- A per-job lease `<id>|<worker>|<attempt>` (written before batch leases).
    ids = { string.match(m, '^([^|]+)|') }
    attempts = { string.match(m, '|(%d+)$') or '0' }
  end
  for i, id in ipairs(ids) do
    local jk = base .. 'j:' .. id
    local f = redis.call('HMGET', jk, 't', 's', 'a')
    -- `claimed` too: a job whose start the worker had not written yet may
    -- have been running (and crashed it); it is a suspect like the others.
    if f[1] and (f[2] == 'running' or f[2] == 'claimed') and f[3] == attempts[i] then
      if counted then
        if f[2] == 'running' then ended_running = ended_running + 1 else ended_claimed = ended_claimed + 1 end
      end
      -- Its concurrency slots come back with the lease (common.lua).
      release_slots(id)
      local crashes = redis.call('HINCRBY', jk, 'd', 1)
      record_failure(jk, tonumber(attempts[i]), now, 'crashed', 'the worker running it disappeared (lease expired)')
      if crashes >= max_deliveries then
        redis.call('HSET', jk, 's', 'dead', 'rs', 'crashed', 'f', now,
          'e', 'the worker running it disappeared ' .. crashes .. ' times (killed, crashed or lost)')
        redis.call('ZADD', base .. 'dead', now, id)
        dead = dead + 1
        flow_final(id, 'dead', now)
      else
        redis.call('HSET', jk, 's', 'queued')
        redis.call('RPUSH', base .. 'q', id)
        requeued = requeued + 1
      end
    end
  end
end
if ended_running > 0 then redis.call('HINCRBY', base .. 'm', 'running', -ended_running) end
if ended_claimed > 0 then redis.call('HINCRBY', base .. 'm', 'claimed', -ended_claimed) end
if requeued > 0 then
  redis.call('HINCRBY', base .. 'm', 'queued', requeued)
  wake(requeued)
end
redis.call('ZREMRANGEBYSCORE', base .. 'wk', '-inf', now - stale)
return { requeued, dead }
