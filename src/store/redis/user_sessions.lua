-- SessionStore::user_sessions, through the user's set of sids (KEYS[1]), never a key scan.
-- ARGV: the session key prefix, now. Sids whose session has gone leave the set. Replies,
-- for each session alive at now, 16 strings ('' for an absent field): the sid, then the
-- fields u c i a j t p r b k l ip ua m x.
local now = tonumber(ARGV[2])
local fields = {'u', 'c', 'i', 'a', 'j', 't', 'p', 'r', 'b', 'k', 'l', 'ip', 'ua', 'm', 'x'}
local out = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local s = redis.call('HMGET', ARGV[1] .. sid, unpack(fields))
  if not s[1] then
    redis.call('SREM', KEYS[1], sid)
  elseif alive(s[8], tonumber(s[3]), tonumber(s[4]), now) == 0 then
    out[#out + 1] = sid
    for i = 1, #fields do
      out[#out + 1] = s[i] or ''
    end
  end
end
return out
