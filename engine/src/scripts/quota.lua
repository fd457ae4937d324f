-- A daily byte quota: adds ARGV[2] to the counter KEYS[1] .. ARGV[1] unless
-- that would pass ARGV[3] (0 = unlimited); a refused charge adds nothing.
-- The counter expires ARGV[4] ms after its first charge (two days: the UTC
-- day it counts plus slack).
-- Returns {1 charged | 0 refused, bytes used after the call}.
local key = base .. ARGV[1]
local add, max, ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local used = tonumber(rcall('GET', key) or '0')
if max > 0 and used + add > max then return { 0, used } end
used = rcall('INCRBY', key, add)
if used == add then rcall('PEXPIRE', key, ttl) end
return { 1, used }
