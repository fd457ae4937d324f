-- Workflow and concurrency-limit actions (the data model is in common.lua).
-- ARGV[1] is the action:
--   open <bid> <tenant> <on_complete spec|''> <on_success spec|''>
--       → 'ok' | 'exists'  (a batch takes members until sealed)
--   seal <bid> → 'ok' | 'not_found' | 'not_open'  (completes an empty or
--       already finished batch at once)
--   cancel <bid> → number of members cancelled, or -1 when not found: seals
--       the batch and cancels its members that have not started (running
--       ones finish; the callbacks come when the last one does)
--   limit <key> <n> → 'ok': sets (n > 0) or removes (n = 0) the concurrency
--       limit of `key`, and un-parks jobs for the slots that a raise frees
local now = now_ms()
local action = ARGV[1]

if action == 'open' then
  local bk = base .. 'b:' .. ARGV[2]
  if redis.call('EXISTS', bk) == 1 then return 'exists' end
  local fields = { 'tenant', ARGV[3], 'state', 'open', 'total', 0, 'pending', 0, 'succeeded', 0,
    'dead', 0, 'cancelled', 0, 'c', tostring(now) }
  if ARGV[4] ~= '' then
    fields[#fields + 1] = 'oc'
    fields[#fields + 1] = ARGV[4]
    fields[#fields + 1] = 'oci'
    fields[#fields + 1] = cjson.decode(ARGV[4]).id
  end
  if ARGV[5] ~= '' then
    fields[#fields + 1] = 'os'
    fields[#fields + 1] = ARGV[5]
    fields[#fields + 1] = 'osi'
    fields[#fields + 1] = cjson.decode(ARGV[5]).id
  end
  redis.call('HSET', bk, unpack(fields))
  redis.call('ZADD', base .. 'bs', now, ARGV[2])
  return 'ok'
elseif action == 'seal' then
  local bk = base .. 'b:' .. ARGV[2]
  local st = redis.call('HGET', bk, 'state')
  if not st then return 'not_found' end
  if st ~= 'open' then return 'not_open' end
  redis.call('HSET', bk, 'state', 'sealed')
  batch_check(ARGV[2], now)
  return 'ok'
elseif action == 'cancel' then
  local bid = ARGV[2]
  local bk = base .. 'b:' .. bid
  local st = redis.call('HGET', bk, 'state')
  if not st then return -1 end
  redis.call('HSET', bk, 'cancel', '1')
  if st == 'done' then return 0 end
  local n = 0
  local members = redis.call('LRANGE', base .. 'bm:' .. bid, 0, -1)
  for _, id in ipairs(members) do
    local f = redis.call('HMGET', base .. 'j:' .. id, 's', 't', 'pr', 'ik', 'c')
    local s = f[1]
    if s == 'queued' or s == 'scheduled' or s == 'retrying' or s == 'failed' then
      cancel_waiting(id, f, now)
      n = n + 1
    end
  end
  if st == 'open' then redis.call('HSET', bk, 'state', 'sealed') end
  batch_check(bid, now)
  return n
elseif action == 'limit' then
  local key, n = ARGV[2], tonumber(ARGV[3])
  local field = 'cl:' .. key
  if n > 0 then redis.call('HSET', base .. 'm', field, n) else redis.call('HDEL', base .. 'm', field) end
  if key == '*' then
    wake(8)
    return 'ok'
  end
  -- Parked jobs wait on full keys (`cw:<ck>`, each listed in `cwk`); a key
  -- named by its prefix (`ocr` for `ocr:<tenant>`) has one list per full key.
  local lists = {}
  for _, ck in ipairs(redis.call('SMEMBERS', base .. 'cwk')) do
    if ck == key or string.sub(ck, 1, #key + 1) == key .. ':' then lists[#lists + 1] = ck end
  end
  for _, ck in ipairs(lists) do
    local free = 1000000000
    if n > 0 then free = n - redis.call('HLEN', base .. 'cc:' .. ck) end
    if free > 0 then unpark(ck, free) end
    if redis.call('LLEN', base .. 'cw:' .. ck) == 0 then redis.call('SREM', base .. 'cwk', ck) end
  end
  return 'ok'
end
return redis.error_reply('unknown action ' .. tostring(action))
