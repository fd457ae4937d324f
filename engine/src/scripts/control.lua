-- Ops actions on one job: cancel, retry (dead/cancelled → queued with a fresh
-- attempt budget) and delete. ARGV: action, id. Returns a status word.
local now = now_ms()
local action, id = ARGV[1], ARGV[2]
local jk = base .. 'j:' .. id
local f = redis.call('HMGET', jk, 's', 't', 'pr', 'ik', 'c')
local s, tenant = f[1], f[2]
if not s then return 'not_found' end

-- Takes a waiting job out of wherever it waits. A ready job's entry stays in
-- its tenant list (finding it would cost O(list)): it is marked for the claim
-- that pops it to drop (common.lua `skip_waiting`).
local function unlink()
  if s == 'scheduled' then
    redis.call('ZREM', base .. 's', id)
  elseif s == 'retrying' or s == 'failed' then -- `failed`: written by an older engine
    redis.call('ZREM', base .. 'r', id)
  elseif s == 'queued' then
    redis.call('HINCRBY', base .. 'm', 'queued', -1)
    -- A suspect waiting to run alone (see rescue.lua) is listed by id.
    if redis.call('LREM', base .. 'q', 1, id) == 0 then skip_waiting(id, f[5]) end
  end
end

if action == 'cancel' then
  if s == 'succeeded' or s == 'dead' or s == 'cancelled' then return 'already_final' end
  if s == 'running' or s == 'claimed' then
    -- Held by a worker: its lease keeper fires the job's token (a claimed
    -- job then never starts, a running one is asked to stop).
    redis.call('SADD', base .. 'cxr', id)
    redis.call('HSET', jk, 'cx', 1)
    -- Workers listening fire the token at once; the next renewal is the fallback.
    redis.call('PUBLISH', base .. 'cxp', id)
    return 'cancel_requested'
  end
  unlink()
  redis.call('HSET', jk, 's', 'cancelled', 'rs', 'cancelled', 'f', now)
  redis.call('ZADD', base .. 'cx', now, id)
  return 'cancelled'
elseif action == 'retry' then
  if s ~= 'dead' and s ~= 'cancelled' then return 'not_retryable' end
  redis.call('ZREM', base .. 'dead', id)
  redis.call('ZREM', base .. 'cx', id)
  redis.call('HDEL', jk, 'd', 'e', 'rs', 'f', 'res', 'cx', 'pg', 'pm')
  redis.call('HSET', jk, 's', 'queued', 'a', 0)
  make_ready(id, false)
  redis.call('HINCRBY', base .. 'm', 'queued', 1)
  wake(1)
  return 'queued'
elseif action == 'delete' then
  if s == 'running' or s == 'claimed' then return 'running' end
  unlink()
  if s == 'succeeded' then redis.call('LREM', base .. 'ok', 1, id) end
  redis.call('ZREM', base .. 'dead', id)
  redis.call('ZREM', base .. 'cx', id)
  if f[4] then
    local ik = base .. 'i:' .. tenant .. ':' .. f[4]
    if redis.call('GET', ik) == id then redis.call('DEL', ik) end
  end
  redis.call('DEL', jk)
  return 'deleted'
end
return 'unknown_action'
