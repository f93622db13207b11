-- A login's two steps, shared by its scripts. ARGV (both steps): sid, user, created, idle,
-- absolute, jti, iat, previous ('' for none), revoked, ttl, client digest, DPoP key
-- thumbprint (both hex, '' when not bound), now.

-- First, its sid into the user's index (a sorted set scored by each session's absolute
-- deadline, so sessions that ended leave it in O(log n) without reading them: on a Cluster
-- they live in other slots). The index lives as long as the user's last session.
-- ZADD comes first: Redis refuses a script's writes when it is out of memory only until its
-- first write, and a login must then fail closed, not half happen.
local function index_session(index, a)
  redis.call('ZADD', index, a[5], a[1])
  redis.call('ZREMRANGEBYSCORE', index, '-inf', a[13])
  if redis.call('TTL', index) < tonumber(a[10]) then
    redis.call('EXPIRE', index, a[10])
  end
end

-- Then the session, expiring with its absolute deadline. Sids are random: an existing
-- session is this same one written by an earlier attempt whose reply was lost, and it may
-- have been revoked since. Never overwrite it. A key holding only the revoked flag is the
-- mark revoke_user left for a login it found in the index but not yet here: the session is
-- born revoked.
local function create_session(key, a)
  local revoked = a[9]
  local existing = redis.call('HMGET', key, 'u', 'r')
  if existing[1] then return end
  if existing[2] == '1' then revoked = '1' end
  redis.call('HSET', key, 'u', a[2], 'c', a[3], 'i', a[4], 'a', a[5], 'j', a[6], 't', a[7],
    'p', a[8], 'r', revoked, 'b', a[11], 'k', a[12])
  redis.call('EXPIRE', key, tonumber(a[10]))
end
