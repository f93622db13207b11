-- A login's first step: its sid into the user's index (KEYS[1]), a sorted set scored by each
-- session's absolute deadline, so sessions that ended leave it in O(log n) without reading
-- them (they may live in other cluster slots). ARGV: now, absolute, sid, ttl.
-- The index lives as long as the user's last session.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return 0
