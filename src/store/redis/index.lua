-- The first of a login's two steps (create.lua holds the second); one script runs both
-- where every key is on one server. ARGV (both steps): sid, user, created, idle,
-- absolute, jti, iat, previous ('' for none), revoked, ttl (absolute - now, at least 1),
-- client digest, DPoP key thumbprint (both hex, '' when not bound), then the session's
-- details (see create.lua).

-- First, its sid into the user's index (a sorted set scored by each session's absolute
-- deadline, so sessions that ended leave it in O(log n) without reading them: on a Cluster
-- they live in other slots). The index lives as long as the user's last session.
-- ZADD comes first: Redis refuses a script's writes when it is out of memory only until its
-- first write, and a login must then fail closed, not half happen.
local function index_session(index, a)
  redis.call('ZADD', index, a[5], a[1])
  -- Sessions whose absolute deadline has come (at or before now = absolute - ttl).
  redis.call('ZREMRANGEBYSCORE', index, '-inf', tonumber(a[5]) - tonumber(a[10]))
  if redis.call('TTL', index) < tonumber(a[10]) then
    redis.call('EXPIRE', index, a[10])
  end
end
