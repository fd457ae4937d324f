-- Claim up to `batch` jobs for one worker.
-- 1. A paused queue returns {-1, -1}.
-- 2. Due scheduled jobs and due retries are promoted to their ready lists.
-- 3. Ready jobs are taken highest priority first and, inside a priority,
--    round-robin over tenants (each tenant gets an equal share of the batch),
--    so a tenant with a huge backlog delays another's job by one batch at most.
-- 4. A job over a shared rate limit reserves its slot and waits in `s`.
-- 5. The claimed jobs share one lease `<worker>|<seq>` in `l` (score = its
--    deadline); `lb:<worker>|<seq>` lists them ("<ids>\n<attempts>", space-
--    separated) for the rescuer, and the meta `claimed` count grows by them.
--    They are `claimed` (not `running`): each waits in the worker's prefetch
--    until its handler starts; the worker then writes `running` and the start
--    time `st` (ack.lua), so `st` is when the handler started, not the claim.
-- 6. Suspects (jobs whose last worker vanished, see rescue.lua) run alone:
--    one at a time, and only on a worker that holds nothing else (`idle`),
--    so a suspect that crashes its process again takes no neighbour with it
--    and the crash count blames it alone. While suspects wait, a busy
--    worker gets nothing ({2, -1}): it drains, then comes back idle for one.
-- A ready job is read from its list entry (common.lua), not its hash: the
-- hash is only written (claimed, attempt, worker; `st` of an earlier attempt cleared).
-- ARGV: worker, batch, lease ms, idle ('1' when the worker holds no job),
--   worker alias (a short number stored on the job instead of the long id),
--   seq (this claim's number in the worker: names its lease).
-- Returns {1 (or 2: a suspect, alone), next_due_ms or -1, then for each run
--   of jobs of one tenant and priority a header "\0<tenant>\0<priority>"
--   followed by their entries as stored (the attempt being run is a + 1)}.
local now = now_ms()
local worker, want, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local idle = ARGV[4] == '1'
local alias = ARGV[5]
local member = worker .. '|' .. ARGV[6]
local meta = base .. 'm'
local jobs = base .. 'j:'
local sdeadline = tostring(now + lease)

-- Leases the jobs of this claim (ids and attempts in claim order). A claim
-- the client sent again after a lost reply (its node failed over, the first
-- run had replicated) finds its lease there: the first run's jobs stay listed,
-- so the ack of the claim's last job finds them unacked (ack.lua) and the
-- rescuer re-queues them.
local function lease_batch(ids, attempts)
  local lb = base .. 'lb:' .. member
  local v = table.concat(ids, ' ') .. '\n' .. table.concat(attempts, ' ')
  local prev = redis.call('GET', lb)
  if prev then
    local pids, patts = string.match(prev, '^(.-)\n(.*)$')
    v = (pids or '') .. ' ' .. table.concat(ids, ' ') .. '\n' .. (patts or '') .. ' ' .. table.concat(attempts, ' ')
  end
  redis.call('SET', lb, v)
  redis.call('ZADD', base .. 'l', sdeadline, member)
  redis.call('HINCRBY', meta, 'claimed', #ids)
end
-- Queue meta: paused, and whether any rate limit is set (`rl:<key>` fields;
-- without one, no job's `rk`/`rl` matter).
-- Concurrency limits (`cl:<key>`, common.lua): `cl:*` caps the queue's
-- claimed-or-running jobs; any other makes each job's `ck` worth reading.
local paused, queue_limit, limited = false, false, false
local qcap, klimits = false, {}
local klimited = false
local mh = redis.call('HGETALL', meta)
for i = 1, #mh, 2 do
  local k = mh[i]
  if k == 'paused' then
    paused = mh[i + 1] == '1'
  elseif string.sub(k, 1, 3) == 'rl:' then
    limited = true
    if k == 'rl:*' then queue_limit = mh[i + 1] end
  elseif string.sub(k, 1, 3) == 'cl:' then
    if k == 'cl:*' then
      qcap = tonumber(mh[i + 1])
    else
      klimited = true
      klimits[string.sub(k, 4)] = tonumber(mh[i + 1])
    end
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
      if make_ready(id, false) then
        redis.call('HSET', jobs .. id, 's', 'queued')
        promoted = promoted + 1
      end
    end
    redis.call('HINCRBY', meta, 'queued', promoted)
  end
end

-- The whole-queue cap: claim no more than its free slots (a freed slot
-- wakes a worker, common.lua `release_slots`).
if qcap then
  local free = qcap - redis.call('HLEN', base .. 'cc:*')
  if free <= 0 then return { 1, -1 } end
  if want > free then want = free end
end

-- The concurrency key a limit applies to for job `id` (its `ck`, or the
-- part before its first ':' names the limit and each full key has its own
-- slots), with that limit; nil when none applies.
local function ckey_of(id)
  local ck = redis.call('HGET', jobs .. id, 'ck')
  if not ck then return nil end
  local n = klimits[ck]
  if not n then
    local p = string.match(ck, '^([^:]+):')
    if p then n = klimits[p] end
  end
  if not n then return nil end
  return ck, n
end

-- Whether `ck` has a free slot; when not, job `id` (created `c`) is parked.
local function slot_free(id, c, ck, n)
  if redis.call('HLEN', base .. 'cc:' .. ck) < n then return true end
  if not c or c == '' then c = redis.call('HGET', jobs .. id, 'c') or '' end
  if redis.call('RPUSH', base .. 'cw:' .. ck, id .. '|' .. c) == 1 then redis.call('SADD', base .. 'cwk', ck) end
  return false
end

-- Takes the slots job `id` needs (`ck` or nil): the queue's and its key's.
local holder = alias .. '|' .. now
local function acquire(id, ck)
  local held = nil
  if qcap then
    redis.call('HSET', base .. 'cc:*', id, holder)
    held = '*'
  end
  if ck then
    redis.call('HSET', base .. 'cc:' .. ck, id, holder)
    if held then held = held .. ' ' .. ck else held = ck end
  end
  if held then redis.call('HSET', base .. 'ch', id, held) end
end

local suspects = base .. 'q'
if redis.call('LLEN', suspects) > 0 then
  if not idle then return { 2, -1 } end
  while true do
    local id = redis.call('LPOP', suspects)
    if not id then break end
    local jk = jobs .. id
    local f = redis.call('HMGET', jk, unpack(ENTRY_FIELDS))
    -- Anything else was cancelled or deleted meanwhile (control.lua unlinks it too).
    local ck, n = nil, nil
    if klimited and f[13] == 'queued' then ck, n = ckey_of(id) end
    if ck and not slot_free(id, f[7] or '', ck, n) then
      -- Parked (still queued): it comes back when a slot of its key frees.
      f[13] = 'parked'
    end
    if f[13] == 'queued' then
      acquire(id, ck)
      redis.call('HINCRBY', meta, 'queued', -1)
      local attempt = next_attempt(f[1])
      redis.call('HSET', jk, 's', 'claimed', 'st', '', 'a', attempt, 'w', alias, 'l', ARGV[6])
      redis.call('HDEL', jk, 'rl')
      lease_batch({ id }, { attempt })
      return { 2, -1, '\0' .. f[11] .. '\0' .. (f[12] or DEFAULT_PRIORITY), entry_of(id, f) }
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
local bids, batts = {}, {}
local taken, popped, diverted = 0, 0, 0
-- Entries of cancelled or deleted jobs wait to be dropped (rare: look only then).
local skips = redis.call('HLEN', base .. 'cxq') > 0

-- Leases one ready job to this worker and adds its entry to the reply.
local function take(id, a, entry)
  local attempt = next_attempt(a ~= '' and a or nil)
  rcall('HSET', jobs .. id, 's', 'claimed', 'st', '', 'a', attempt, 'w', alias, 'l', ARGV[6])
  taken = taken + 1
  bids[taken] = id
  batts[taken] = attempt
  nout = nout + 1
  out[nout] = entry
end

-- The fields of an entry a claim looks at: id, a, d, rk, rl, c (the common
-- case, a first delivery without rate key or crash, costs one find).
local function head(entry)
  local q = string.find(entry, '\0', 1, true)
  if not q then return nil end
  local id = string.sub(entry, 1, q - 1)
  if string.sub(entry, q + 1, q + 4) == '\0\0\0\0' and not skips then return id, '', '', '', '' end
  local a, d, rk, rl, c = string.match(entry, '^([^%z]*)%z([^%z]*)%z([^%z]*)%z([^%z]*)%z[^%z]*%z[^%z]*%z([^%z]*)%z', q + 1)
  return id, a, d, rk, rl, c
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
      local entries = redis.call('LPOP', tl, share)
      if (not entries) or #entries < share or redis.call('LLEN', tl) == 0 then
        redis.call('LREM', ring, -1, tenant)
      end
      if entries then
        popped = popped + #entries
        nout = nout + 1
        out[nout] = '\0' .. tenant .. '\0' .. prio
        local header = nout
        for i = 1, #entries do
          local entry = entries[i]
          local id, a, d, rk, rl, c = head(entry)
          if not id then
            -- A bare id (written before entries existed): read its hash.
            id = entry
            local f = redis.call('HMGET', jobs .. id, unpack(ENTRY_FIELDS))
            if f[13] == 'queued' then
              entry = entry_of(id, f)
              id, a, d, rk, rl, c = head(entry)
            else
              -- Cancelled or deleted meanwhile (counted then).
              if skips and f[7] then skipped(id .. '|' .. f[7]) end
              id = nil
            end
          end
          if not id or (skips and skipped(id .. '|' .. c)) then
            -- Cancelled or deleted while waiting: control.lua counted it out.
            diverted = diverted + 1
          elseif d == '' and not queue_limit and not qcap and not klimited and (not limited or (rk == '' and rl == '')) then
            -- The common case: no rate limit, not a suspect.
            take(id, a, entry)
            got_any = true
          elseif d ~= '' then
            -- A suspect back in a ready list (released at shutdown, due for a
            -- retry): it waits for an idle worker like the others (still queued).
            redis.call('RPUSH', suspects, id)
            diverted = diverted + 1
          else
            local jk = jobs .. id
            local slot = 0
            -- A job over its concurrency limit is parked before it spends a
            -- rate-limit slot (a reserved one, `rl`, stays reserved).
            local ck, n = nil, nil
            if klimited then ck, n = ckey_of(id) end
            if ck and not slot_free(id, c, ck, n) then
              slot = -1
              diverted = diverted + 1
            elseif rl ~= '' then
              -- Its reserved slot has come: it already paid for it.
              redis.call('HDEL', jk, 'rl')
            elseif queue_limit then
              slot = rate_slot('*', queue_limit)
            end
            if slot == 0 and rk ~= '' and rl == '' then
              local spec = limit_for(rk)
              if spec then slot = rate_slot(rk, spec) end
            end
            if slot > 0 then
              redis.call('ZADD', base .. 's', slot, id)
              redis.call('HSET', jk, 's', 'scheduled', 'r', slot, 'rl', slot)
            elseif slot == 0 then
              take(id, a, entry)
              acquire(id, ck)
              got_any = true
            end
          end
        end
        if nout == header then
          -- Nothing of this run was taken: no header either.
          out[nout] = nil
          nout = nout - 1
        end
      end
    end
    if not got_any and redis.call('LLEN', ring) == 0 then break end
  end
end
if popped > diverted then redis.call('HINCRBY', meta, 'queued', diverted - popped) end
if taken > 0 then lease_batch(bids, batts) end
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
