-- Insert a session (KEYS[1]), after its sid went into its user's index (index.lua).
-- ARGV: sid, user, created, idle, absolute, jti, iat, previous ('' for none), revoked, ttl,
-- client digest, DPoP key thumbprint (both hex, '' when not bound).
-- The key expires with the session's absolute deadline (ttl = absolute - now, in seconds).
-- Sids are random: an existing session is this same one written by an earlier attempt whose
-- reply was lost, and it may have been revoked since. Never overwrite it. A key holding only
-- the revoked flag is the mark revoke_user left for a login it saw in the index but not yet
-- here: the session is born revoked.
local revoked = ARGV[9]
local existing = redis.call('HMGET', KEYS[1], 'u', 'r')
if existing[1] then return 0 end
if existing[2] == '1' then revoked = '1' end
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'c', ARGV[3], 'i', ARGV[4], 'a', ARGV[5],
  'j', ARGV[6], 't', ARGV[7], 'p', ARGV[8], 'r', revoked, 'b', ARGV[11], 'k', ARGV[12])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[10]))
return 0
