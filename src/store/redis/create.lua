-- Insert a session (KEYS[1]) and index its sid in its user's set (KEYS[2]).
-- ARGV: sid, user, created, idle, absolute, jti, iat, previous ('' for none), revoked, ttl,
-- client digest, DPoP key thumbprint (both hex, '' when not bound), then the details: label,
-- ip, user agent, data (JSON), claims (JSON); each '' when absent, and then not written.
-- Both keys expire with the session's absolute deadline (ttl = absolute - now, in seconds).
-- Sids are random: an existing key is this same session written by an earlier attempt whose
-- reply was lost, and it may have been revoked since. Never overwrite it.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = tonumber(ARGV[10])
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'c', ARGV[3], 'i', ARGV[4], 'a', ARGV[5],
  'j', ARGV[6], 't', ARGV[7], 'p', ARGV[8], 'r', ARGV[9], 'b', ARGV[11], 'k', ARGV[12])
local details = {'l', 'ip', 'ua', 'm', 'x'}
for i, field in ipairs(details) do
  if ARGV[12 + i] and ARGV[12 + i] ~= '' then
    redis.call('HSET', KEYS[1], field, ARGV[12 + i])
  end
end
redis.call('EXPIRE', KEYS[1], ttl)
local size = redis.call('SADD', KEYS[2], ARGV[1]) == 1 and redis.call('SCARD', KEYS[2]) or 0
if redis.call('TTL', KEYS[2]) < ttl then
  redis.call('EXPIRE', KEYS[2], ttl)
end
-- Amortized pruning of ended sessions from a busy user's set: O(1) per login.
if size > 0 and size % 64 == 0 then
  local prefix = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[1])
  for _, sid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('EXISTS', prefix .. sid) == 0 then
      redis.call('SREM', KEYS[2], sid)
    end
  end
end
return 0
