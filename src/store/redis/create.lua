-- The second step of a login (see index.lua for ARGV, passed as `a`): the session, expiring
-- with its absolute deadline, and its details (a[13..17]: label, ip, user agent, data,
-- claims), each written only when not ''.
-- Sids are random: an existing session is this same one written by an earlier attempt whose
-- reply was lost, and it may have been revoked since. Never overwrite it. A key holding only
-- the revoked flag is the mark revoke_user left for a login it found in the index but not yet
-- here: the session is born revoked.
local details = {'l', 'ip', 'ua', 'm', 'x'}
local function create_session(key, a)
  local revoked = a[9]
  local existing = redis.call('HMGET', key, 'u', 'r')
  if existing[1] then return end
  if existing[2] == '1' then revoked = '1' end
  redis.call('HSET', key, 'u', a[2], 'c', a[3], 'i', a[4], 'a', a[5], 'j', a[6], 't', a[7],
    'p', a[8], 'r', revoked, 'b', a[11], 'k', a[12])
  for i, field in ipairs(details) do
    if a[12 + i] and a[12 + i] ~= '' then
      redis.call('HSET', key, field, a[12 + i])
    end
  end
  redis.call('EXPIRE', key, tonumber(a[10]))
end
