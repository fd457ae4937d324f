-- Ops actions on one job: cancel, retry (dead/cancelled → queued with a fresh
-- attempt budget) and delete. ARGV: action, id. Returns a status word.
local now = now_ms()
local action, id = ARGV[1], ARGV[2]
local jk = base .. 'j:' .. id
local f = redis.call('HMGET', jk, 's', 't', 'pr', 'ik', 'c')
local s, tenant = f[1], f[2]
if not s then return 'not_found' end

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
  -- Out of wherever it waits (common.lua), its batch and children told.
  cancel_waiting(id, f, now)
  return 'cancelled'
elseif action == 'retry' then
  if s ~= 'dead' and s ~= 'cancelled' then return 'not_retryable' end
  redis.call('ZREM', base .. 'dead', id)
  redis.call('ZREM', base .. 'cx', id)
  flow_unfinal(id, s)
  redis.call('HDEL', jk, 'd', 'e', 'rs', 'f', 'res', 'cx', 'pg', 'pm', 'aw')
  redis.call('HSET', jk, 's', 'queued', 'a', 0)
  make_ready(id, false)
  redis.call('HINCRBY', base .. 'm', 'queued', 1)
  wake(1)
  return 'queued'
elseif action == 'delete' then
  if s == 'running' or s == 'claimed' then return 'running' end
  if s ~= 'succeeded' and s ~= 'dead' and s ~= 'cancelled' then
    -- A waiting job deleted counts as cancelled for its batch and children.
    unlink_waiting(id, f)
    flow_final(id, 'cancelled', now)
  end
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
