-- SessionStore::user_sessions in one step (one server, or a Sentinel-managed primary),
-- through the user's index (KEYS[1], a sorted set of sids scored by absolute deadline),
-- never a key scan. ARGV: the session key prefix (a session's key is it, then the sid in
-- braces), now, the idle key prefix (likewise). Sessions whose absolute deadline has come
-- leave the index, and so do sids whose session has gone. Replies, for each session
-- still held, 16 strings ('' for an absent field; the idle deadline the later of the
-- field's and the idle key's): the sid, then the fields u c i a j t p r b k l ip ua m x.
local fields = {'u', 'c', 'i', 'a', 'j', 't', 'p', 'r', 'b', 'k', 'l', 'ip', 'ua', 'm', 'x'}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local s = redis.call('HMGET', ARGV[1] .. '{' .. sid .. '}', unpack(fields))
  if not s[1] then
    redis.call('ZREM', KEYS[1], sid)
  else
    if s[3] then s[3] = string.format('%.0f', idle_of(s[3], ARGV[3] .. '{' .. sid .. '}')) end
    out[#out + 1] = sid
    for i = 1, #fields do
      out[#out + 1] = s[i] or ''
    end
  end
end
return out
