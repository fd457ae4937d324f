-- GCRA over several buckets at once (an API key's and its tenant's): the
-- request is admitted only when every bucket has room, and then costs one
-- unit in each; a refused request changes nothing (so a client hammering at
-- its limit does not push its own reset further away).
-- KEYS[1]: the tenant's limit base (keys.rs LimitKeys).
-- ARGV: number of buckets, then per bucket: key suffix, emission interval ms
--   (1000 / per_second, fractional allowed), burst (requests at once).
-- Returns per bucket {allowed 0|1, burst, remaining, reset ms, retry-after ms}
-- flattened; `reset` = until the bucket is full again, `retry-after` = until
-- one request fits (0 when allowed).
local now = now_ms()
local n = tonumber(ARGV[1])
local out, tats, ok = {}, {}, true
for i = 1, n do
  local o = 2 + (i - 1) * 3
  local key = base .. ARGV[o]
  local interval, burst = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])
  local tat = tonumber(rcall('GET', key) or '0')
  if tat < now then tat = now end
  local new_tat = tat + interval
  -- Earliest time this request may arrive: burst intervals before its new TAT.
  local allow_at = new_tat - interval * burst
  local allowed, remaining, reset, retry = 1, 0, 0, 0
  if now < allow_at then
    allowed, ok = 0, false
    retry = math.ceil(allow_at - now)
    reset = math.ceil(tat - now)
  else
    remaining = math.floor((now - allow_at) / interval)
    reset = math.ceil(new_tat - now)
  end
  tats[i] = { key, new_tat }
  out[#out + 1] = allowed
  out[#out + 1] = burst
  out[#out + 1] = remaining
  out[#out + 1] = reset
  out[#out + 1] = retry
end
if ok then
  for _, t in ipairs(tats) do
    local ttl = math.ceil(t[2] - now)
    if ttl < 1 then ttl = 1 end
    rcall('SET', t[1], string.format('%.3f', t[2]), 'PX', ttl)
  end
else
  -- Refused: report each bucket's remaining as it stands, nothing consumed.
  for i = 1, n do
    local r = (i - 1) * 5
    if out[r + 1] == 1 then out[r + 3] = out[r + 3] + 1 end
  end
end
return out
