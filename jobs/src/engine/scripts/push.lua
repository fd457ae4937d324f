-- Enqueue a batch of jobs atomically.
-- ARGV: n, default idempotency TTL ms, then 12 fields per job:
--   id, kind, tenant, payload, run_at ms (0 = now), priority, max_attempts,
--   idempotency key (''), idempotency TTL ms (0 = default), rate key (''),
--   check_dup ('1' when the caller chose the id), traceparent ('').
-- Returns 4 values per job: id, created (1/0), status, run_at ms.
local now = now_ms()
local n = tonumber(ARGV[1])
local default_ttl = tonumber(ARGV[2])
local F = 12
local out = {}
local lists, order = {}, {}
local queued, created = 0, 0
for i = 0, n - 1 do
  local o = 2 + i * F
  local id, kind, tenant, payload = ARGV[o + 1], ARGV[o + 2], ARGV[o + 3], ARGV[o + 4]
  local run_at, prio, max_attempts = tonumber(ARGV[o + 5]), ARGV[o + 6], ARGV[o + 7]
  local ikey, ittl, rkey, check = ARGV[o + 8], tonumber(ARGV[o + 9]), ARGV[o + 10], ARGV[o + 11]
  local prev = false
  if ikey ~= '' then
    local ik = base .. 'i:' .. tenant .. ':' .. ikey
    prev = redis.call('GET', ik)
    if not prev then
      if ittl <= 0 then ittl = default_ttl end
      redis.call('SET', ik, id, 'PX', ittl)
    end
  end
  if not prev and check == '1' and redis.call('EXISTS', base .. 'j:' .. id) == 1 then prev = id end
  if prev then
    -- A job that retention already removed can only have been final.
    local f = redis.call('HMGET', base .. 'j:' .. prev, 's', 'r', 'c')
    out[#out + 1] = prev
    out[#out + 1] = 0
    out[#out + 1] = f[1] or 'succeeded'
    out[#out + 1] = f[2] or f[3] or now
  else
    local due = run_at
    if due < now then due = now end
    local fields = { 'k', kind, 't', tenant, 'p', payload, 'pr', prio, 'ma', max_attempts, 'c', now }
    local trace = ARGV[o + 12]
    if trace ~= '' then
      fields[#fields + 1] = 'tp'
      fields[#fields + 1] = trace
    end
    local status
    if due > now then
      status = 'scheduled'
      fields[#fields + 1] = 'r'
      fields[#fields + 1] = due
      redis.call('ZADD', base .. 's', due, id)
    else
      status = 'queued'
      local tl = base .. 't:' .. prio .. ':' .. tenant
      if not lists[tl] then
        lists[tl] = {}
        order[#order + 1] = { tl, tenant, prio }
      end
      local l = lists[tl]
      l[#l + 1] = id
      queued = queued + 1
    end
    fields[#fields + 1] = 's'
    fields[#fields + 1] = status
    if ikey ~= '' then
      fields[#fields + 1] = 'ik'
      fields[#fields + 1] = ikey
    end
    if rkey ~= '' then
      fields[#fields + 1] = 'rk'
      fields[#fields + 1] = rkey
    end
    redis.call('HSET', base .. 'j:' .. id, unpack(fields))
    created = created + 1
    out[#out + 1] = id
    out[#out + 1] = 1
    out[#out + 1] = status
    out[#out + 1] = due
  end
end
-- One RPUSH per tenant list (chunks of 500 stay under Lua's unpack limit).
for _, e in ipairs(order) do
  local tl, ids = e[1], lists[e[1]]
  for s = 1, #ids, 500 do
    local e2 = math.min(s + 499, #ids)
    local len = redis.call('RPUSH', tl, unpack(ids, s, e2))
    if len == e2 - s + 1 then redis.call('RPUSH', base .. 'ring:' .. e[3], e[2]) end
  end
end
if queued > 0 then redis.call('HINCRBY', base .. 'm', 'queued', queued) end
wake(created)
return out
