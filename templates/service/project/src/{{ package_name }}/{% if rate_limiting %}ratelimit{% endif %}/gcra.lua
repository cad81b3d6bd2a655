-- GCRA (generic cell rate algorithm): one check-and-update per call, atomic because Redis runs
-- a script without interleaving any other command. The key holds one number, the theoretical
-- arrival time (TAT) of the next request, in microseconds of Redis' own clock (TIME), so every
-- app instance shares one clock. Needs Redis 5+ (scripts replicate their effects, so TIME is
-- allowed before a write).
--
-- KEYS[1]  the bucket: {prefix}:rl:{policy}:{identity}
-- KEYS[2]  optional: a key the request will read next (the `read_ahead` extension point); when
--          the request is admitted its value is returned too, saving the read a round trip
-- ARGV[1]  emission interval T in whole microseconds (window / limit)
-- ARGV[2]  burst b: how many requests may arrive back to back (the tolerance is b * T)
--
-- Returns {allowed, remaining, retry_after_us, next_unit_us}:
--   allowed         1 when the request is admitted, 0 when it is limited
--   remaining       requests that would be admitted right now, after this one
--   retry_after_us  when limited: the wait until a request is admitted again (else 0)
--   next_unit_us    the wait until `remaining` grows by one (the RateLimit `t` parameter)
-- and, admitted with KEYS[2], a fifth: that key's value (nil when it does not exist).
-- Every value is a whole number of microseconds, so the arithmetic below is exact in doubles.

local emission = tonumber(ARGV[1])
local tolerance = emission * tonumber(ARGV[2])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
    tat = now
end

local new_tat = tat + emission
local allow_at = new_tat - tolerance
if allow_at > now then
    local wait = allow_at - now
    return {0, 0, wait, wait}
end

-- The key lives exactly as long as it carries state: once now passes new_tat the bucket is
-- full again, which is what a missing key means.
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)

local slack = now - allow_at
local remaining = math.floor(slack / emission)
local next_unit = emission - (slack - remaining * emission)
if KEYS[2] then
    -- pcall: a key of another type must not fail a check that has counted (nil instead)
    local value = redis.pcall('GET', KEYS[2])
    if type(value) == 'table' then
        value = false
    end
    return {1, remaining, 0, next_unit, value}
end
return {1, remaining, 0, next_unit}
