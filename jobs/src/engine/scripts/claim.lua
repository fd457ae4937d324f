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
-- Returns {1 (or 2: a suspect, alone), next_due_ms or -1, then 10 values per job:
--   id, kind, tenant, payload, attempt, max_attempts, created, run_at, priority,
--   traceparent ('' when none)}.
local now = now_ms()
local worker, want, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local idle = ARGV[4] == '1'
local alias = ARGV[5]
local meta = base .. 'm'
local mf = redis.call('HMGET', meta, 'paused', 'rl:*')
if mf[1] == '1' then return { -1, -1 } end

for _, z in ipairs({ 's', 'r' }) do
  local zk = base .. z
  local due = redis.call('ZRANGEBYSCORE', zk, '-inf', now, 'LIMIT', 0, 500)
  if #due > 0 then
    redis.call('ZREM', zk, unpack(due))
    local promoted = 0
    for _, id in ipairs(due) do
      local jk = base .. 'j:' .. id
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
    local jk = base .. 'j:' .. id
    local f = redis.call('HMGET', jk, 'k', 't', 'p', 'a', 'ma', 'c', 'r', 's', 'pr', 'tp')
    -- Anything else was cancelled or deleted meanwhile (control.lua unlinks it too).
    if f[1] and f[8] == 'queued' then
      redis.call('HINCRBY', meta, 'queued', -1)
      local attempt = tonumber(f[4] or '0') + 1
      redis.call('HSET', jk, 's', 'running', 'st', now, 'a', attempt, 'w', alias)
      redis.call('HDEL', jk, 'rl')
      redis.call('ZADD', base .. 'l', now + lease, id .. '|' .. worker .. '|' .. attempt)
      return { 2, -1, id, f[1], f[2], f[3], attempt, f[5], f[6], f[7] or f[6], f[9] or 'normal', f[10] or '' }
    end
  end
end

local queue_limit = mf[2]

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
local leases = {}
local taken, popped, diverted = 0, 0, 0
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
        for _, id in ipairs(ids) do
          local jk = base .. 'j:' .. id
          local f = redis.call('HMGET', jk, 'k', 't', 'p', 'a', 'ma', 'c', 'r', 'rk', 'rl', 'd', 'tp')
          if f[1] and f[10] then
            -- A suspect back in a ready list (released at shutdown, due for a
            -- retry): it waits for an idle worker like the others (still queued).
            redis.call('RPUSH', suspects, id)
            diverted = diverted + 1
          elseif f[1] then
            local slot = 0
            if f[9] then
              -- Its reserved slot has come: it already paid for it.
              redis.call('HDEL', jk, 'rl')
            elseif queue_limit then
              slot = rate_slot('*', queue_limit)
            end
            if slot == 0 and f[8] and not f[9] then
              local spec = limit_for(f[8])
              if spec then slot = rate_slot(f[8], spec) end
            end
            if slot > 0 then
              redis.call('ZADD', base .. 's', slot, id)
              redis.call('HSET', jk, 's', 'scheduled', 'r', slot, 'rl', slot)
            else
              local attempt = tonumber(f[4] or '0') + 1
              redis.call('HSET', jk, 's', 'running', 'st', now, 'a', attempt, 'w', alias)
              leases[#leases + 1] = now + lease
              leases[#leases + 1] = id .. '|' .. worker .. '|' .. attempt
              local n = #out
              out[n + 1] = id
              out[n + 2] = f[1]
              out[n + 3] = f[2]
              out[n + 4] = f[3]
              out[n + 5] = attempt
              out[n + 6] = f[5]
              out[n + 7] = f[6]
              out[n + 8] = f[7] or f[6]
              out[n + 9] = prio
              out[n + 10] = f[11] or ''
              taken = taken + 1
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
if #leases > 0 then redis.call('ZADD', base .. 'l', unpack(leases)) end
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
