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

-- ---------------------------------------------------------------------------
-- Global concurrency limits (see concurrency.rs). The queue meta holds the
-- limits, `cl:<key>` = n (`cl:*`: the whole queue). A job whose `ck` (or its
-- part before the first ':') has a limit takes one slot of that key at claim:
-- `cc:<key>` HASH holder id → "<worker alias>|<since ms>", and `ch` HASH
-- holder id → the keys it holds, space-separated. The slot is released when
-- the delivery ends (ack.lua: any outcome; rescue.lua: its lease expired).
-- A job whose key is full waits parked in `cw:<key>` (LIST of
-- "<id>|<created>", oldest first); each released slot puts one parked job
-- back at the front of its tenant's ready list.

-- Puts up to n parked jobs of `key` back on their ready lists; returns how many.
local function unpark(key, n)
  local cw = base .. 'cw:' .. key
  local moved = 0
  while moved < n do
    local e = redis.call('LPOP', cw)
    if not e then
      redis.call('SREM', base .. 'cwk', key)
      break
    end
    local id = string.match(e, '^([^|]*)|')
    -- Cancelled or deleted while parked: counted in `cxq` (skip_waiting).
    if not skipped(e) then
      if redis.call('HGET', base .. 'j:' .. id, 's') == 'queued' and make_ready(id, true) then
        moved = moved + 1
      end
    end
  end
  if moved > 0 then wake(moved) end
  return moved
end

-- Releases the concurrency slots job `id` holds (none: one HGET).
local function release_slots(id)
  local held = redis.call('HGET', base .. 'ch', id)
  if not held then return end
  redis.call('HDEL', base .. 'ch', id)
  for key in string.gmatch(held, '%S+') do
    if redis.call('HDEL', base .. 'cc:' .. key, id) == 1 then
      if key == '*' then wake(1) else unpark(key, 1) end
    end
  end
end

-- ---------------------------------------------------------------------------
-- Workflows (see flows.rs): batches and chains. Both live in the queue's
-- slot: a batch's members, its callbacks and a chain's parent and children
-- are all jobs of one queue, so the script that records a member's final
-- outcome also counts it and, at zero, pushes the callbacks (exactly once).
-- `fx` HASH: id → '1' for each job with a flow hook not yet run (a batch
-- member, or a parent with waiting children). `b:<bid>` HASH: a batch (tenant,
-- total, pending, succeeded, dead, cancelled, state open|sealed|done,
-- cancel, oc/os callback specs, oci/osi their ids, c, f). `bm:<bid>` LIST:
-- its member ids. `kids:<id>` LIST: children waiting for job `id` to succeed
-- (each `scheduled` with `aw` = 1 and `af` = parent id).

-- Inserts `"name":value` as the first member of a JSON object's text.
local function splice(obj, name, value)
  local rest = string.match(obj, '^%s*{%s*(.*)$')
  if not rest then return obj end
  if string.sub(rest, 1, 1) == '}' then return '{"' .. name .. '":' .. value .. rest end
  return '{"' .. name .. '":' .. value .. ',' .. rest
end

-- Creates a callback job from its spec (JSON: id, fields = the hash fields
-- besides payload/created/status, p = payload text) with `batch` spliced in.
local function push_callback(spec, batch_json, now)
  local s = cjson.decode(spec)
  local jk = base .. 'j:' .. s.id
  if redis.call('EXISTS', jk) == 1 then return end
  local fields = s.fields
  fields[#fields + 1] = 'p'
  fields[#fields + 1] = splice(s.p, 'batch', batch_json)
  fields[#fields + 1] = 'c'
  fields[#fields + 1] = tostring(now)
  fields[#fields + 1] = 's'
  fields[#fields + 1] = 'queued'
  redis.call('HSET', jk, unpack(fields))
  make_ready(s.id, false)
  redis.call('HINCRBY', base .. 'm', 'queued', 1)
  wake(1)
end

-- Completes batch `bid` when it is sealed and nothing is pending: state
-- `done` and its callbacks pushed, in this script (so exactly once).
local function batch_check(bid, now)
  local bk = base .. 'b:' .. bid
  local f = redis.call('HMGET', bk, 'state', 'pending', 'total', 'succeeded', 'dead', 'cancelled', 'oc', 'os')
  if f[1] ~= 'sealed' or tonumber(f[2] or '0') > 0 then return end
  redis.call('HSET', bk, 'state', 'done', 'f', tostring(now))
  local bj = '{"id":"' .. bid .. '","total":' .. (f[3] or '0') .. ',"succeeded":' .. (f[4] or '0')
    .. ',"dead":' .. (f[5] or '0') .. ',"cancelled":' .. (f[6] or '0') .. '}'
  if f[7] then push_callback(f[7], bj, now) end
  if f[8] and (f[5] or '0') == '0' and (f[6] or '0') == '0' then push_callback(f[8], bj, now) end
end

-- Runs the flow hooks of jobs that just reached a final state (outcome
-- succeeded | dead | cancelled), once per final state (`fx` guards it):
-- counts batch members and completes their batch, releases or cancels
-- waiting children (a cancelled child's own hooks run in turn).
local function flow_final(id, outcome, now)
  local work = { id, outcome }
  local i = 1
  while i < #work do
    local jid, out = work[i], work[i + 1]
    i = i + 2
    if redis.call('HDEL', base .. 'fx', jid) == 1 then
      local jk = base .. 'j:' .. jid
      local f = redis.call('HMGET', jk, 'bt', 'res')
      if f[1] then
        local bk = base .. 'b:' .. f[1]
        redis.call('HINCRBY', bk, 'pending', -1)
        redis.call('HINCRBY', bk, out, 1)
        batch_check(f[1], now)
      end
      local kl = base .. 'kids:' .. jid
      local kids = redis.call('LRANGE', kl, 0, -1)
      redis.call('DEL', kl)
      for _, kid in ipairs(kids) do
        local kk = base .. 'j:' .. kid
        local g = redis.call('HMGET', kk, 's', 'aw', 'p')
        if g[1] == 'scheduled' and g[2] then
          redis.call('HDEL', kk, 'aw')
          if out == 'succeeded' then
            redis.call('HSET', kk, 's', 'queued', 'p', splice(g[3] or '{}', 'parent_result', f[2] or 'null'))
            make_ready(kid, false)
            redis.call('HINCRBY', base .. 'm', 'queued', 1)
            wake(1)
          else
            local why = 'parent_' .. out
            redis.call('HSET', kk, 's', 'cancelled', 'rs', why, 'f', tostring(now),
              'e', 'parent job ' .. jid .. ' ended ' .. out)
            redis.call('ZADD', base .. 'cx', now, kid)
            work[#work + 1] = kid
            work[#work + 1] = 'cancelled'
          end
        end
      end
    end
  end
end

-- A final job made waiting again (control retry): a batch that is not done
-- counts it pending again; a done batch is not reopened.
local function flow_unfinal(id, was)
  local bid = redis.call('HGET', base .. 'j:' .. id, 'bt')
  if not bid then return end
  local bk = base .. 'b:' .. bid
  local st = redis.call('HGET', bk, 'state')
  if st and st ~= 'done' then
    local field = 'succeeded'
    if was == 'dead' then field = 'dead' elseif was == 'cancelled' then field = 'cancelled' end
    redis.call('HINCRBY', bk, field, -1)
    redis.call('HINCRBY', bk, 'pending', 1)
    redis.call('HSET', base .. 'fx', id, '1')
  end
end

-- Cancels a job that waits (scheduled, queued, retrying; not claimed or
-- running): out of wherever it waits, `cancelled`, its flow hooks run.
-- `f` = HMGET of s, t, pr, ik, c. A ready job's entry stays in its tenant list
-- (finding it would cost O(list)): it is marked for the claim that pops it
-- to drop (`skip_waiting`); so is a parked one (unpark drops it).
local function unlink_waiting(id, f)
  local s = f[1]
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

local function cancel_waiting(id, f, now)
  unlink_waiting(id, f)
  redis.call('HSET', base .. 'j:' .. id, 's', 'cancelled', 'rs', 'cancelled', 'f', tostring(now))
  redis.call('ZADD', base .. 'cx', now, id)
  flow_final(id, 'cancelled', now)
end
