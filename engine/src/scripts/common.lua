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

-- Ready-list entries (`t:<prio>:<tenant>`) carry what a claim needs, so a
-- claim reads no job hash: 11 fields joined by NUL (ids, tenants and keys are
-- plain tokens and JSON text has no raw NUL; the payload comes last):
--   id, a (attempts so far), d (crashes), rk (rate key), rl (reserved rate
--   slot ms), k, ma, c, r, tp, p — '' where the job hash has no such field.
-- Built from the job hash whenever a job is made ready again, so the entry
-- and the hash agree while the job waits (nothing changes those fields then).
-- The hash fields read to build one, then the tenant, priority and status
-- (which the entry does not hold).
local ENTRY_FIELDS = { 'a', 'd', 'rk', 'rl', 'k', 'ma', 'c', 'r', 'tp', 'p', 't', 'pr', 's' }

-- The entry of job `id` from `f` = HMGET of ENTRY_FIELDS.
local function entry_of(id, f)
  return id .. '\0' .. (f[1] or '') .. '\0' .. (f[2] or '') .. '\0' .. (f[3] or '') .. '\0' .. (f[4] or '')
    .. '\0' .. f[5] .. '\0' .. (f[6] or '') .. '\0' .. (f[7] or '') .. '\0' .. (f[8] or '') .. '\0' .. (f[9] or '')
    .. '\0' .. (f[10] or 'null')
end

-- Puts an entry on its tenant's ready list (front = next to run) and adds the
-- tenant to the priority's round-robin ring when its list was empty.
-- `prio` nil = the default (the job hash has no `pr`).
local function push_ready(entry, tenant, prio, front)
  prio = prio or DEFAULT_PRIORITY
  local tl = base .. 't:' .. prio .. ':' .. tenant
  local n
  if front then n = redis.call('LPUSH', tl, entry) else n = redis.call('RPUSH', tl, entry) end
  if n == 1 then redis.call('RPUSH', base .. 'ring:' .. prio, tenant) end
end

-- Makes job `id` ready from its hash (written first by the caller); false when it is gone.
local function make_ready(id, front)
  local f = redis.call('HMGET', base .. 'j:' .. id, unpack(ENTRY_FIELDS))
  if not f[5] then return false end
  push_ready(entry_of(id, f), f[11], f[12], front)
  return true
end

-- A waiting job cancelled or deleted while its entry stays in its list is
-- counted in `cxq` (field `<id>|<created>`, one per such entry: a job
-- cancelled, retried and cancelled again has two); the claim that pops the
-- entry drops it and counts it down.
local function skip_waiting(id, created)
  redis.call('HINCRBY', base .. 'cxq', id .. '|' .. (created or ''), 1)
end

-- Whether a popped entry (`<id>|<created>`) is one to drop (see skip_waiting).
local function skipped(key)
  local cxq = base .. 'cxq'
  local n = redis.call('HGET', cxq, key)
  if not n then return false end
  if n == '1' then redis.call('HDEL', cxq, key) else redis.call('HINCRBY', cxq, key, -1) end
  return true
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
