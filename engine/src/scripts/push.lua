-- Enqueue a batch of jobs atomically.
-- ARGV: n, default idempotency TTL ms, number of groups, batch id ('' = none:
--   else every created job joins that open batch, see common.lua), then
--   each group: a header of 12 fields its jobs share: count, kind, tenant,
--   priority, max_attempts ('' = the default 5), run_at ms ('0' = now), rate
--   key (''), traceparent (''), idempotency TTL ms ('0' = the default), mode
--   (bit 1: caller-chosen ids, check for duplicates; bit 2: each job has an
--   idempotency key), concurrency key (''), after (a parent job id, '') —
--   then its jobs: id, payload [, idempotency key].
-- A job `after` a parent runs when the parent succeeds, with the parent's
-- result spliced into its payload as `parent_result`; until then it is
-- `scheduled` with `aw` set (in no list), and `cancelled` (reason
-- `parent_dead` / `parent_cancelled`) when the parent does not succeed.
-- Errors (nothing written): `batch_not_open`, `parent_not_found <id>`.
-- Fields at their default are not stored (`pr` normal, `ma` 5, no `r` for a
-- job due now): every reader defaults them.
-- Returns {now ms, then 4 values per job that created nothing: its position
-- in the batch (1-based), the existing job's id, its status, its run_at ms}.
-- Every other job was created: `queued`, or `scheduled` when run_at > now.
-- An optional last ARGV (after every group) caps each tenant's ready jobs in
-- this queue (all priorities): a batch that would take a tenant past it
-- creates nothing and returns {-1, tenant, ready now, cap}.
local now = now_ms()
do
  local o, adds, order = 5, {}, {}
  for _ = 1, tonumber(ARGV[3]) do
    local count, tenant, run_at, mode = tonumber(ARGV[o]), ARGV[o + 2], tonumber(ARGV[o + 5]), tonumber(ARGV[o + 9])
    if run_at <= now then
      if not adds[tenant] then order[#order + 1] = tenant end
      adds[tenant] = (adds[tenant] or 0) + count
    end
    if mode >= 2 then o = o + 12 + 3 * count else o = o + 12 + 2 * count end
  end
  local cap = tonumber(ARGV[o] or '0')
  if cap > 0 then
    for _, tenant in ipairs(order) do
      local ready = 0
      for _, prio in ipairs({ 'high', 'normal', 'low' }) do
        ready = ready + redis.call('LLEN', base .. 't:' .. prio .. ':' .. tenant)
      end
      if ready + adds[tenant] > cap then return { -1, tenant, ready, cap } end
    end
  end
end
local snow = tostring(now)
local jobs = base .. 'j:'
local out = { now }
local lists, order, sched = {}, {}, {}
local queued, created = 0, 0
local default_ttl = tonumber(ARGV[2])
local ngroups, batch = tonumber(ARGV[3]), ARGV[4]
local HEADER = 12
-- Checks first: an error must leave nothing written.
if batch ~= '' and redis.call('HGET', base .. 'b:' .. batch, 'state') ~= 'open' then
  return redis.error_reply('batch_not_open')
end
local parents = {}
do
  local q = 5
  for _ = 1, ngroups do
    local after = ARGV[q + 11]
    if after ~= '' and not parents[after] then
      local ps = redis.call('HGET', jobs .. after, 's')
      if not ps then return redis.error_reply('parent_not_found ' .. after) end
      parents[after] = ps
    end
    local per = 2
    if tonumber(ARGV[q + 9]) >= 2 then per = 3 end
    q = q + HEADER + per * tonumber(ARGV[q])
  end
end
local members, born_cancelled = {}, {}
local o, pos = 5, 0
for _ = 1, ngroups do
  local count, kind, tenant, prio, max_attempts = tonumber(ARGV[o]), ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local run_at, rkey, trace, ittl, mode =
    tonumber(ARGV[o + 5]), ARGV[o + 6], ARGV[o + 7], tonumber(ARGV[o + 8]), tonumber(ARGV[o + 9])
  local ckey, after = ARGV[o + 10], ARGV[o + 11]
  o = o + HEADER
  local check, keyed = mode % 2 == 1, mode >= 2
  if ittl <= 0 then ittl = default_ttl end
  local due = run_at
  if due < now then due = now end
  local status = 'queued'
  if due > now then status = 'scheduled' end
  -- A child: ready now with its parent's result, waiting, or cancelled.
  local pstate, presult = nil, nil
  if after ~= '' then
    pstate = parents[after]
    if pstate == 'succeeded' then
      presult = redis.call('HGET', jobs .. after, 'res') or 'null'
    elseif pstate == 'dead' or pstate == 'cancelled' then
      status = 'cancelled'
    else
      status = 'scheduled'
      pstate = 'waiting'
    end
  end
  local sdue = snow
  -- The shared fields; slot 6 takes each job's payload.
  local fields = { 'k', kind, 't', tenant, 'p', '', 'c', snow, 's', status }
  if prio ~= 'normal' then
    fields[#fields + 1] = 'pr'
    fields[#fields + 1] = prio
  end
  if max_attempts ~= '' then
    fields[#fields + 1] = 'ma'
    fields[#fields + 1] = max_attempts
  end
  if status == 'scheduled' and not pstate then
    sdue = tostring(due)
    fields[#fields + 1] = 'r'
    fields[#fields + 1] = sdue
  end
  if trace ~= '' then
    fields[#fields + 1] = 'tp'
    fields[#fields + 1] = trace
  end
  if rkey ~= '' then
    fields[#fields + 1] = 'rk'
    fields[#fields + 1] = rkey
  end
  if ckey ~= '' then
    fields[#fields + 1] = 'ck'
    fields[#fields + 1] = ckey
  end
  if after ~= '' then
    fields[#fields + 1] = 'af'
    fields[#fields + 1] = after
    if pstate == 'waiting' then
      fields[#fields + 1] = 'aw'
      fields[#fields + 1] = '1'
    elseif status == 'cancelled' then
      for _, v in ipairs({ 'rs', 'parent_' .. pstate, 'f', snow, 'e', 'parent job ' .. after .. ' ended ' .. pstate }) do
        fields[#fields + 1] = v
      end
    end
  end
  if batch ~= '' then
    fields[#fields + 1] = 'bt'
    fields[#fields + 1] = batch
  end
  local ik_slot = false
  if keyed then
    fields[#fields + 1] = 'ik'
    fields[#fields + 1] = ''
    ik_slot = #fields
  end
  -- A ready job's list entry (common.lua): id .. mid .. payload.
  local mid = '\0\0\0' .. rkey .. '\0\0' .. kind .. '\0' .. max_attempts .. '\0' .. snow .. '\0\0' .. trace .. '\0'
  local ids = false
  if status == 'queued' then
    local tl = base .. 't:' .. prio .. ':' .. tenant
    ids = lists[tl]
    if not ids then
      ids = {}
      lists[tl] = ids
      order[#order + 1] = { tl, tenant, prio }
    end
  end
  for _ = 1, count do
    pos = pos + 1
    local id, payload = ARGV[o], ARGV[o + 1]
    local prev = false
    if keyed then
      local ikey = ARGV[o + 2]
      o = o + 3
      local ik = base .. 'i:' .. tenant .. ':' .. ikey
      prev = redis.call('GET', ik)
      if not prev then redis.call('SET', ik, id, 'PX', ittl) end
      fields[ik_slot] = ikey
    else
      o = o + 2
    end
    if check and not prev and redis.call('EXISTS', jobs .. id) == 1 then prev = id end
    if prev then
      -- A job that retention already removed can only have been final.
      local f = redis.call('HMGET', jobs .. prev, 's', 'r', 'c')
      out[#out + 1] = pos
      out[#out + 1] = prev
      out[#out + 1] = f[1] or 'succeeded'
      out[#out + 1] = f[2] or f[3] or snow
    else
      if presult then payload = splice(payload, 'parent_result', presult) end
      fields[6] = payload
      redis.call('HSET', jobs .. id, unpack(fields))
      created = created + 1
      if batch ~= '' then members[#members + 1] = id end
      if ids then
        ids[#ids + 1] = id .. mid .. payload
      elseif status == 'cancelled' then
        redis.call('ZADD', base .. 'cx', now, id)
        born_cancelled[#born_cancelled + 1] = id
      elseif pstate == 'waiting' then
        redis.call('RPUSH', base .. 'kids:' .. after, id)
        redis.call('HSET', base .. 'fx', after, '1')
      else
        sched[#sched + 1] = sdue
        sched[#sched + 1] = id
      end
    end
  end
end
-- One RPUSH per tenant list (chunks of 500 stay under Lua's unpack limit).
for _, e in ipairs(order) do
  local tl, ids = e[1], lists[e[1]]
  queued = queued + #ids
  for s = 1, #ids, 500 do
    local e2 = math.min(s + 499, #ids)
    local len = redis.call('RPUSH', tl, unpack(ids, s, e2))
    if len == e2 - s + 1 then redis.call('RPUSH', base .. 'ring:' .. e[3], e[2]) end
  end
end
for s = 1, #sched, 500 do
  redis.call('ZADD', base .. 's', unpack(sched, s, math.min(s + 499, #sched)))
end
if queued > 0 then redis.call('HINCRBY', base .. 'm', 'queued', queued) end
if #members > 0 then
  local bk = base .. 'b:' .. batch
  redis.call('HINCRBY', bk, 'total', #members)
  redis.call('HINCRBY', bk, 'pending', #members)
  for s = 1, #members, 500 do
    local e = math.min(s + 499, #members)
    redis.call('RPUSH', base .. 'bm:' .. batch, unpack(members, s, e))
    local fx = {}
    for i = s, e do
      fx[#fx + 1] = members[i]
      fx[#fx + 1] = '1'
    end
    redis.call('HSET', base .. 'fx', unpack(fx))
  end
end
-- Born cancelled (their parent had failed): counted out of their batch.
for _, id in ipairs(born_cancelled) do
  if batch ~= '' then flow_final(id, 'cancelled', now) else redis.call('HDEL', base .. 'fx', id) end
end
wake(created)
return out
