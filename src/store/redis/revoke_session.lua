-- SessionStore::revoke_session. KEYS[1]: the session.
-- Replies 0 unknown, 1 revoked now, 2 revoked before.
local revoked = redis.call('HGET', KEYS[1], 'r')
if not revoked then return 0 end
if revoked == '1' then return 2 end
redis.call('HSET', KEYS[1], 'r', '1')
return 1
