-- Shared by the revoke_user scripts.

-- The user's epoch (KEY epoch) set to now for epoch_ttl seconds, and the sessions of the
-- index (KEY index) that have not ended, as a flat list: sid, absolute deadline, ...
local function epoch_and_index(index, epoch, now, epoch_ttl)
  redis.call('SET', epoch, now, 'EX', epoch_ttl)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  return redis.call('ZRANGE', index, 0, -1, 'WITHSCORES')
end

-- Revoke one session of the index: 1 if it was live. A session not there yet is a login
-- between its two steps: leave a revoked mark, expiring with the session's absolute
-- deadline, that create_session (index.lua) honours.
local function revoke_listed(key, now, absolute)
  local flag = redis.call('HGET', key, 'r')
  if not flag then
    redis.call('HSET', key, 'r', '1')
    redis.call('EXPIRE', key, math.max(1, absolute - now))
    return 0
  end
  if flag == '0' then
    redis.call('HSET', key, 'r', '1')
    return 1
  end
  return 0
end
