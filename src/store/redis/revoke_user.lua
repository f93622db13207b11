-- SessionStore::revoke_user_except. KEYS[1]: the user's set of sids, KEYS[2]: the user's
-- epoch. ARGV: now, seconds to remember the epoch, the session key prefix, the sid to spare
-- ('' for none). Epoch first, then every session of the set; sids whose session has gone
-- leave the set. Replies the sids it revoked.
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
local revoked = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[3] .. sid
  local flag = redis.call('HGET', key, 'r')
  if not flag then
    redis.call('SREM', KEYS[1], sid)
  elseif flag == '0' and sid ~= ARGV[4] then
    redis.call('HSET', key, 'r', '1')
    revoked[#revoked + 1] = sid
  end
end
return revoked
