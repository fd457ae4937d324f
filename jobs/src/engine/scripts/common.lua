-- Shared prelude of every engine script (prepended at load time).
-- KEYS[1] is the queue's base, e.g. "{tarefa:emails}:"; every key below it
-- shares the queue's hash tag, so a script touches one Redis Cluster slot.
local base = KEYS[1]
-- Hot loops call through a local (saves two table lookups per call).
local rcall = redis.call

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Job-hash fields at their default are not stored (push.lua): readers use these.
local DEFAULT_PRIORITY = 'normal'

-- The next attempt number as a string, from the stored `a` (nil = 0).
-- Numbers handed to redis.call are formatted with '%.17g', which costs more
-- than the call itself: per-job values are passed as strings.
local function next_attempt(a)
  if not a then return '1' end
  return tostring(tonumber(a) + 1)
end

-- Puts a job id on its tenant's ready list (front = next to run) and adds the
-- tenant to the priority's round-robin ring when its list was empty.
-- `prio` nil = the default (the job hash has no `pr`).
local function make_ready(id, tenant, prio, front)
  prio = prio or DEFAULT_PRIORITY
  local tl = base .. 't:' .. prio .. ':' .. tenant
  local n
  if front then n = redis.call('LPUSH', tl, id) else n = redis.call('RPUSH', tl, id) end
  if n == 1 then redis.call('RPUSH', base .. 'ring:' .. prio, tenant) end
end

-- Wakes up to n idle workers blocked on BLPOP of the wake list (capped so an
-- unattended queue does not grow the list without bound).
local function wake(n)
  local w = base .. 'w'
  if n > 8 then n = 8 end
  if n > 0 and redis.call('LLEN', w) < 64 then
    local tokens = {}
    for i = 1, n do tokens[i] = '1' end
    redis.call('RPUSH', w, unpack(tokens))
  end
end

-- Appends one failed attempt to the job's error history (field `eh`, a JSON
-- array of the last 20 {attempt, at, reason, error}); only failing jobs pay.
local function record_failure(jk, attempt, now, reason, err)
  local raw = redis.call('HGET', jk, 'eh')
  local list = {}
  if raw then list = cjson.decode(raw) end
  list[#list + 1] = { attempt = attempt, at = now, reason = reason, error = string.sub(err or '', 1, 500) }
  while #list > 20 do table.remove(list, 1) end
  redis.call('HSET', jk, 'eh', cjson.encode(list))
end
