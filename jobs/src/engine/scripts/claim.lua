-- Claim up to `batch` jobs for one worker.
-- 1. A paused queue returns {-1, -1}.
-- 2. Due scheduled jobs and due retries are promoted to their ready lists.
-- 3. Ready jobs are taken highest priority first and, inside a priority,
--    round-robin over tenants (each tenant gets an equal share of the batch),
--    so a tenant with a huge backlog delays another's job by one batch at most.
-- 4. A job over a shared rate limit reserves its slot and waits in `s`.
-- 5. Each claimed job gets a lease `<id>|<worker>|<attempt>` in `l`.
-- 6. Suspects (jobs whose last worker vanished, see rescue.lua) run alone:
--    one at a time, and only on a worker that holds nothing else (`idle`),
--    so a suspect that crashes its process again takes no neighbour with it
--    and the crash count blames it alone. While suspects wait, a busy
--    worker gets nothing ({2, -1}): it drains, then comes back idle for one.
-- ARGV: worker, batch, lease ms, idle ('1' when the worker holds no job),
--   worker alias (a short number stored on the job instead of the long id).
-- Returns {1 (or 2: a suspect, alone), next_due_ms or -1, then one string per
--   job: 10 fields joined by NUL (no field holds one: ids and tenants are plain
--   tokens, payloads JSON text): id, kind, tenant, payload, attempt,
--   max_attempts ('' = the default 5), created, run_at ('' = created),
--   priority, traceparent ('' when none)}. One value per job, not ten, keeps
--   the reply cheap to build and to parse.
local now = now_ms()
local snow = tostring(now)
local worker, want, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local idle = ARGV[4] == '1'
local alias = ARGV[5]
local meta = base .. 'm'
local jobs = base .. 'j:'
-- Every lease of this call: the same deadline, members `<id>|<worker>|<attempt>`.
local sdeadline = tostring(now + lease)
local wsuffix = '|' .. worker .. '|'
-- Queue meta: paused, and whether any rate limit is set (`rl:<key>` fields;
-- without one, no job needs its `rk`/`rl` fields read).
local paused, queue_limit, limited = false, false, false
local mh = redis.call('HGETALL', meta)
for i = 1, #mh, 2 do
  local k = mh[i]
  if k == 'paused' then
    paused = mh[i + 1] == '1'
  elseif string.sub(k, 1, 3) == 'rl:' then
    limited = true
    if k == 'rl:*' then queue_limit = mh[i + 1] end
  end
end
if paused then return { -1, -1 } end

for _, z in ipairs({ 's', 'r' }) do
  local zk = base .. z
  local due = redis.call('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, 500)
  if #due > 0 then
    redis.call('ZREM', zk, unpack(due))
    local promoted = 0
    for _, id in ipairs(due) do
      local jk = jobs .. id
      local f = redis.call('HMGET', jk, 't', 'pr')
      if f[1] then
        make_ready(id, f[1], f[2], false)
        redis.call('HSET', jk, 's', 'queued')
        promoted = promoted + 1
      end
    end
    redis.call('HINCRBY', meta, 'queued', promoted)
  end
end

local suspects = base .. 'q'
if redis.call('LLEN', suspects) > 0 then
  if not idle then return { 2, -1 } end
  while true do
    local id = redis.call('LPOP', suspects)
    if not id then break end
    local jk = jobs .. id
    local f = redis.call('HMGET', jk, 'k', 't', 'p', 'a', 'ma', 'c', 'r', 's', 'pr', 'tp')
    -- Anything else was cancelled or deleted meanwhile (control.lua unlinks it too).
    if f[1] and f[8] == 'queued' then
      redis.call('HINCRBY', meta, 'queued', -1)
      local attempt = next_attempt(f[4])
      redis.call('HSET', jk, 's', 'running', 'st', snow, 'a', attempt, 'w', alias)
      redis.call('HDEL', jk, 'rl')
      redis.call('ZADD', base .. 'l', sdeadline, id .. wsuffix .. attempt)
      return { 2, -1, id .. '\0' .. f[1] .. '\0' .. f[2] .. '\0' .. (f[3] or 'null') .. '\0' .. attempt .. '\0' .. (f[5] or '')
        .. '\0' .. (f[6] or '0') .. '\0' .. (f[7] or '') .. '\0' .. (f[9] or DEFAULT_PRIORITY) .. '\0' .. (f[10] or '') }
    end
  end
end


-- GCRA with a burst of one: returns 0 when the job may run now, else the
-- reserved due time (ms) of its slot.
local function rate_slot(rk, spec)
  local count, per = string.match(spec, '^(%d+):(%d+)$')
  if not count then return 0 end
  local interval = tonumber(per) / tonumber(count)
  local key = base .. 'rl:' .. rk
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  redis.call('SET', key, tostring(tat + interval), 'PX', math.ceil(tat + interval - now) + 1000)
  if tat <= now then return 0 end
  return math.ceil(tat)
end

local function limit_for(rk)
  local spec = redis.call('HGET', meta, 'rl:' .. rk)
  if not spec then
    local p = string.match(rk, '^([^:]+):')
    if p then spec = redis.call('HGET', meta, 'rl:' .. p) end
  end
  return spec
end

local out = { 1, -1 }
local nout = 2
local leases = {}
local nleases = 0
local taken, popped, diverted = 0, 0, 0

-- Leases one ready job (HMGET `f` below) to this worker and adds it to the reply.
local function take(id, jk, f, tenant, prio)
  local attempt = f[3]
  if attempt then attempt = tostring(tonumber(attempt) + 1) else attempt = '1' end
  rcall('HSET', jk, 's', 'running', 'st', snow, 'a', attempt, 'w', alias)
  leases[nleases + 1] = sdeadline
  leases[nleases + 2] = id .. wsuffix .. attempt
  nleases = nleases + 2
  nout = nout + 1
  out[nout] = id .. '\0' .. f[1] .. '\0' .. tenant .. '\0' .. (f[2] or 'null') .. '\0' .. attempt .. '\0' .. (f[4] or '')
    .. '\0' .. (f[5] or '0') .. '\0' .. (f[6] or '') .. '\0' .. prio .. '\0' .. (f[7] or '')
  taken = taken + 1
end

-- Rate-limited jobs are moved aside without a slot; stop after examining 4 batches' worth.
local budget = want * 4
for _, prio in ipairs({ 'high', 'normal', 'low' }) do
  local ring = base .. 'ring:' .. prio
  while taken < want and popped < budget do
    local nt = redis.call('LLEN', ring)
    if nt == 0 then break end
    local got_any = false
    for _ = 1, nt do
      if taken >= want or popped >= budget then break end
      local share = math.ceil((want - taken) / nt)
      local tenant = redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
      local tl = base .. 't:' .. prio .. ':' .. tenant
      local ids = redis.call('LPOP', tl, share)
      if (not ids) or #ids < share or redis.call('LLEN', tl) == 0 then
        redis.call('LREM', ring, -1, tenant)
      end
      if ids then
        popped = popped + #ids
        for i = 1, #ids do
          local id = ids[i]
          local jk = jobs .. id
          -- The tenant is the ring's; `d`, `rk` and `rl` are absent on most
          -- jobs, and the last two matter only while a rate limit is set.
          local f
          if limited then
            f = rcall('HMGET', jk, 'k', 'p', 'a', 'ma', 'c', 'r', 'tp', 'd', 'rk', 'rl')
          else
            f = rcall('HMGET', jk, 'k', 'p', 'a', 'ma', 'c', 'r', 'tp', 'd')
          end
          if not f[1] then
            -- Deleted meanwhile: nothing to run.
          elseif not (f[8] or f[9] or f[10] or queue_limit) then
            -- The common case: no rate limit, not a suspect.
            take(id, jk, f, tenant, prio)
            got_any = true
          elseif f[8] then
            -- A suspect back in a ready list (released at shutdown, due for a
            -- retry): it waits for an idle worker like the others (still queued).
            redis.call('RPUSH', suspects, id)
            diverted = diverted + 1
          else
            local slot = 0
            if f[10] then
              -- Its reserved slot has come: it already paid for it.
              redis.call('HDEL', jk, 'rl')
            elseif queue_limit then
              slot = rate_slot('*', queue_limit)
            end
            if slot == 0 and f[9] and not f[10] then
              local spec = limit_for(f[9])
              if spec then slot = rate_slot(f[9], spec) end
            end
            if slot > 0 then
              redis.call('ZADD', base .. 's', slot, id)
              redis.call('HSET', jk, 's', 'scheduled', 'r', slot, 'rl', slot)
            else
              take(id, jk, f, tenant, prio)
              got_any = true
            end
          end
        end
      end
    end
    if not got_any and redis.call('LLEN', ring) == 0 then break end
  end
end
if popped > diverted then redis.call('HINCRBY', meta, 'queued', diverted - popped) end
if nleases > 0 then redis.call('ZADD', base .. 'l', unpack(leases, 1, nleases)) end
if taken < want then
  local next_due = -1
  for _, z in ipairs({ 's', 'r' }) do
    local first = redis.call('ZRANGE', base .. z, 0, 0, 'WITHSCORES')
    if first[2] then
      local d = tonumber(first[2])
      if next_due < 0 or d < next_due then next_due = d end
    end
  end
  if next_due >= 0 then out[2] = math.max(0, next_due - now) end
end
return out
