-- Record the outcomes of a batch of runs by one worker.
-- ARGV: worker, n, then 6 fields per outcome:
--   id, attempt, outcome (ok | retry | snooze | dead | cancelled | release),
--   text (result JSON for ok, error otherwise), reason, delay ms (retry).
-- An outcome counts only while its lease `<id>|<worker>|<attempt>` is still
-- held: a worker that lost its lease (it froze, the job was re-delivered)
-- cannot overwrite the newer run. Returns 1 (applied) or 0 (stale) per outcome.
local now = now_ms()
local worker, n = ARGV[1], tonumber(ARGV[2])
local F = 6
local members = {}
for i = 0, n - 1 do
  local o = 2 + i * F
  members[i + 1] = ARGV[o + 1] .. '|' .. worker .. '|' .. ARGV[o + 2]
end
local scores = redis.call('ZMSCORE', base .. 'l', unpack(members))
local held, done, retry, dead, cancelled, ids, snoozed = {}, {}, {}, {}, {}, {}, {}
local results = {}
local requeued = 0
for i = 0, n - 1 do
  local o = 2 + i * F
  local id, attempt, outcome, text, reason, delay =
    ARGV[o + 1], tonumber(ARGV[o + 2]), ARGV[o + 3], ARGV[o + 4], ARGV[o + 5], tonumber(ARGV[o + 6])
  if scores[i + 1] then
    local jk = base .. 'j:' .. id
    held[#held + 1] = members[i + 1]
    ids[#ids + 1] = id
    if outcome == 'ok' then
      if text ~= '' and text ~= 'null' then
        redis.call('HSET', jk, 's', 'succeeded', 'f', now, 'res', text)
      else
        redis.call('HSET', jk, 's', 'succeeded', 'f', now)
      end
      done[#done + 1] = id
    elseif outcome == 'retry' then
      redis.call('HSET', jk, 's', 'failed', 'e', text, 'rs', reason)
      record_failure(jk, attempt, now, reason, text)
      retry[#retry + 1] = now + delay
      retry[#retry + 1] = id
    elseif outcome == 'snooze' then
      -- Not a failure: wait (quiet hours, a slot) without spending an attempt.
      redis.call('HSET', jk, 's', 'scheduled', 'a', attempt - 1, 'r', now + delay)
      snoozed[#snoozed + 1] = now + delay
      snoozed[#snoozed + 1] = id
    elseif outcome == 'dead' then
      redis.call('HSET', jk, 's', 'dead', 'e', text, 'rs', reason, 'f', now)
      record_failure(jk, attempt, now, reason, text)
      dead[#dead + 1] = now
      dead[#dead + 1] = id
    elseif outcome == 'cancelled' then
      redis.call('HSET', jk, 's', 'cancelled', 'rs', 'cancelled', 'f', now)
      cancelled[#cancelled + 1] = now
      cancelled[#cancelled + 1] = id
    else -- release: back to the front of its list, the attempt not counted
      local f = redis.call('HMGET', jk, 't', 'pr')
      redis.call('HSET', jk, 's', 'queued', 'a', attempt - 1)
      make_ready(id, f[1], f[2], true)
      requeued = requeued + 1
    end
    results[i + 1] = 1
  else
    results[i + 1] = 0
  end
end
if #held > 0 then
  redis.call('ZREM', base .. 'l', unpack(held))
  redis.call('SREM', base .. 'cxr', unpack(ids))
end
if #done > 0 then redis.call('LPUSH', base .. 'ok', unpack(done)) end
if #retry > 0 then redis.call('ZADD', base .. 'r', unpack(retry)) end
if #snoozed > 0 then redis.call('ZADD', base .. 's', unpack(snoozed)) end
if #dead > 0 then redis.call('ZADD', base .. 'dead', unpack(dead)) end
if #cancelled > 0 then redis.call('ZADD', base .. 'cx', unpack(cancelled)) end
if requeued > 0 then redis.call('HINCRBY', base .. 'm', 'queued', requeued) end
if #retry > 0 or #snoozed > 0 or requeued > 0 then wake(1 + requeued) end
return results
