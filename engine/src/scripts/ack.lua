-- Record the starts and outcomes of a batch of runs by one worker.
-- ARGV: worker, worker alias, b claims touched, then 2 fields each: claim
--   seq, '1' when this batch finishes that claim (its lease is dropped);
--   then k starts of jobs still running, 3 fields each: id, attempt, age
--   (ms since the handler started: `st` = now - age, so the worker's clock
--   does not matter); `claimed` → `running`;
--   then n plain successes (no result to keep), 3 fields each: id, attempt,
--   start (see below);
--   then m other outcomes, 7 fields each: id, attempt, outcome (ok | retry |
--   snooze | dead | cancelled | release), text (result JSON for ok, error
--   otherwise), reason, delay ms (retry, snooze), start.
--   start: 'r' when the job's start was written by an earlier batch (it is
--   counted `running`); an age in ms when it started and ends in this batch
--   (its `st` is written now; it was counted `claimed`); '' when it never
--   started (released unstarted at shutdown; counted `claimed`).
-- An outcome counts only while its delivery still holds: a worker that lost
-- its lease (it froze, the job was re-delivered) cannot overwrite the newer
-- run. While every touched claim's lease `<worker>|<seq>` is there, all its
-- jobs are held (only the rescuer takes jobs from a lease, and it takes the
-- whole lease); when one is gone (rare), a job counts as held when its hash
-- still names this delivery (`claimed` or `running`, this attempt, this
-- worker's alias).
-- Returns the 1-based positions (successes first, then the others) of the
-- stale outcomes that were ignored; empty when all were applied. (A stale
-- start is ignored silently: the job's outcome is stale too.)
local now = now_ms()
local snow = tostring(now)
local worker, alias = ARGV[1], ARGV[2]
local jobs = base .. 'j:'
local b = tonumber(ARGV[3])
local members, finished, finished_seq = {}, {}, {}
for i = 0, b - 1 do
  local member = worker .. '|' .. ARGV[4 + 2 * i]
  members[i + 1] = member
  if ARGV[5 + 2 * i] == '1' then
    finished[#finished + 1] = member
    finished_seq[#finished] = ARGV[4 + 2 * i]
  end
end
local o0 = 4 + 2 * b
local k = tonumber(ARGV[o0])
local o1 = o0 + 1 + 3 * k
local n = tonumber(ARGV[o1])
local o2 = o1 + 1 + 3 * n
local m = tonumber(ARGV[o2])
local all_held = true
if b > 0 then
  local scores = redis.call('ZMSCORE', base .. 'l', unpack(members))
  for i = 1, b do
    if not scores[i] then all_held = false end
  end
end

-- Whether position i (id, attempt) still held its lease (see above).
local stale = {}
local function holds(id, attempt)
  if all_held then return true end
  local f = redis.call('HMGET', jobs .. id, 's', 'a', 'w')
  return (f[1] == 'running' or f[1] == 'claimed') and f[2] == attempt and f[3] == alias
end
local function held(i, id, attempt)
  if holds(id, attempt) then return true end
  stale[#stale + 1] = i
  return false
end

-- Concurrency slots held and flow hooks pending (common.lua): most queues
-- have neither, and then no outcome pays for them.
local holders = redis.call('HLEN', base .. 'ch') > 0
local flows = redis.call('HLEN', base .. 'fx') > 0

-- Counter moves: claimed → running at a start, out of either at an outcome.
local dclaimed, drunning = 0, 0
for i = 0, k - 1 do
  local o = o0 + 1 + 3 * i
  local id = ARGV[o]
  if holds(id, ARGV[o + 1]) then
    rcall('HSET', jobs .. id, 's', 'running', 'st', now - tonumber(ARGV[o + 2]))
    dclaimed = dclaimed - 1
    drunning = drunning + 1
  end
end
-- The extra fields an outcome writes for its start, and the counter it leaves.
local function started(start)
  if start == 'r' then
    drunning = drunning - 1
    return nil
  end
  dclaimed = dclaimed - 1
  if start == '' then return nil end
  return now - tonumber(start)
end

local done, retry, dead, cancelled, ids, snoozed = {}, {}, {}, {}, {}, {}
local requeued = 0
local ndone = 0
for i = 0, n - 1 do
  local o = o1 + 1 + 3 * i
  local id = ARGV[o]
  if held(i + 1, id, ARGV[o + 1]) then
    local st = started(ARGV[o + 2])
    if st then
      rcall('HSET', jobs .. id, 's', 'succeeded', 'f', snow, 'st', st)
    else
      rcall('HSET', jobs .. id, 's', 'succeeded', 'f', snow)
    end
    ndone = ndone + 1
    done[ndone] = id
    if holders then release_slots(id) end
    if flows then flow_final(id, 'succeeded', now) end
  end
end
for i = 0, m - 1 do
  local o = o2 + 1 + 7 * i
  local id, sattempt, outcome, text, reason, delay =
    ARGV[o], ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4], tonumber(ARGV[o + 5])
  if held(n + i + 1, id, sattempt) then
    local jk = jobs .. id
    local st = started(ARGV[o + 6])
    if st then redis.call('HSET', jk, 'st', st) end
    local attempt = tonumber(sattempt)
    if outcome ~= 'ok' then ids[#ids + 1] = id end
    -- Every outcome ends this delivery: its slots go back first (a
    -- released job must not find its own slot taken).
    if holders then release_slots(id) end
    if outcome == 'ok' then
      if text ~= '' and text ~= 'null' then
        redis.call('HSET', jk, 's', 'succeeded', 'f', snow, 'res', text)
      else
        redis.call('HSET', jk, 's', 'succeeded', 'f', snow)
      end
      done[#done + 1] = id
      if flows then flow_final(id, 'succeeded', now) end
    elseif outcome == 'retry' then
      redis.call('HSET', jk, 's', 'retrying', 'e', text, 'rs', reason)
      record_failure(jk, attempt, now, reason, text)
      retry[#retry + 1] = now + delay
      retry[#retry + 1] = id
    elseif outcome == 'snooze' then
      -- Not a failure: wait (quiet hours, a slot) without spending an attempt.
      redis.call('HSET', jk, 's', 'scheduled', 'a', attempt - 1, 'r', now + delay)
      snoozed[#snoozed + 1] = now + delay
      snoozed[#snoozed + 1] = id
    elseif outcome == 'dead' then
      redis.call('HSET', jk, 's', 'dead', 'e', text, 'rs', reason, 'f', snow)
      record_failure(jk, attempt, now, reason, text)
      dead[#dead + 1] = now
      dead[#dead + 1] = id
      if flows then flow_final(id, 'dead', now) end
    elseif outcome == 'cancelled' then
      redis.call('HSET', jk, 's', 'cancelled', 'rs', 'cancelled', 'f', snow)
      cancelled[#cancelled + 1] = now
      cancelled[#cancelled + 1] = id
      if flows then flow_final(id, 'cancelled', now) end
    else -- release: back to the front of its list, the attempt not counted
      redis.call('HSET', jk, 's', 'queued', 'a', attempt - 1)
      if make_ready(id, true) then requeued = requeued + 1 end
    end
  end
end
-- Cancel requests of finished runs (rare: skip the id list when there are none).
local cxr = base .. 'cxr'
if redis.call('SCARD', cxr) > 0 then
  for _, id in ipairs(done) do ids[#ids + 1] = id end
  if #ids > 0 then redis.call('SREM', cxr, unpack(ids)) end
end
if #finished > 0 then
  -- Every other job of a finished claim had its outcome written by an earlier
  -- batch, as far as the worker knows. After a failover under asynchronous
  -- replication an earlier batch may be missing here: such a job still shows
  -- this delivery (`claimed`/`running`, this worker's alias, this claim's
  -- seq `l`). Its lease then expires now instead of going away, so the
  -- rescuer re-queues it rather than leaving it `running` with no lease.
  local gone = {}
  for j, member in ipairs(finished) do
    local lb = base .. 'lb:' .. member
    local sids = string.match(redis.call('GET', lb) or '', '^(.-)\n') or ''
    local orphan = false
    for id in string.gmatch(sids, '%S+') do
      local f = redis.call('HMGET', jobs .. id, 's', 'w', 'l')
      if (f[1] == 'running' or f[1] == 'claimed') and f[2] == alias and f[3] == finished_seq[j] then
        orphan = true
        break
      end
    end
    if orphan then
      redis.call('ZADD', base .. 'l', 0, member)
    else
      redis.call('ZREM', base .. 'l', member)
      gone[#gone + 1] = lb
    end
  end
  if #gone > 0 then redis.call('DEL', unpack(gone)) end
end
if dclaimed ~= 0 then redis.call('HINCRBY', base .. 'm', 'claimed', dclaimed) end
if drunning ~= 0 then redis.call('HINCRBY', base .. 'm', 'running', drunning) end
if #done > 0 then redis.call('LPUSH', base .. 'ok', unpack(done)) end
if #retry > 0 then redis.call('ZADD', base .. 'r', unpack(retry)) end
if #snoozed > 0 then redis.call('ZADD', base .. 's', unpack(snoozed)) end
if #dead > 0 then redis.call('ZADD', base .. 'dead', unpack(dead)) end
if #cancelled > 0 then redis.call('ZADD', base .. 'cx', unpack(cancelled)) end
if requeued > 0 then redis.call('HINCRBY', base .. 'm', 'queued', requeued) end
if #retry > 0 or #snoozed > 0 or requeued > 0 then wake(1 + requeued) end
return stale
