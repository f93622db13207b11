-- SessionStore::rotate as one compare-and-swap. KEYS[1]: the session.
-- ARGV: presented jti, next jti, now, idle_timeout, grace, then binding()'s mode, client
-- digest and key thumbprint.
-- Replies {code} or, on success, {code, absolute, current jti, current iat, claims}: the
-- session's claims as JSON, '' when it keeps none.
local s = redis.call('HMGET', KEYS[1], 'r', 'i', 'a', 'j', 't', 'p', 'b', 'k', 'x')
if not s[3] then return {1} end
local mismatch = binding(KEYS[1], s[7], s[8], ARGV[6], ARGV[7], ARGV[8])
if mismatch ~= 0 then return {mismatch} end
local now, idle, absolute = tonumber(ARGV[3]), tonumber(s[2]), tonumber(s[3])
local presented = ARGV[1]
-- session::decide_rotation. A replay is reported as one even once the session is revoked
-- (e.g. by the replay that raced it): liveness only matters to a legitimate rotation.
local rotate = presented == s[4]
local converge = not rotate and presented == s[6] and now < tonumber(s[5]) + tonumber(ARGV[5])
if rotate or converge then
  local code = alive(s[1], idle, absolute, now)
  if code ~= 0 then return {code} end
end
if rotate then
  redis.call('HSET', KEYS[1], 'p', s[4], 'j', ARGV[2], 't', ARGV[3])
  slide(KEYS[1], idle, absolute, now, tonumber(ARGV[4]))
  return {0, s[3], ARGV[2], ARGV[3], s[9] or ''}
end
if converge then
  slide(KEYS[1], idle, absolute, now, tonumber(ARGV[4]))
  return {6, s[3], s[4], s[5], s[9] or ''}
end
redis.call('HSET', KEYS[1], 'r', '1')
return {5}
