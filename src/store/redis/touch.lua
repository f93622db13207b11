-- SessionStore::touch. KEYS[1]: the session. ARGV: now, idle_timeout, slide ('1' or '0'),
-- check the binding ('1' or '0'), then binding()'s mode, client digest and key thumbprint.
local s = redis.call('HMGET', KEYS[1], 'r', 'i', 'a', 'b', 'k')
if not s[3] then return 1 end
if ARGV[4] == '1' then
  local mismatch = binding(KEYS[1], s[4], s[5], ARGV[5], ARGV[6], ARGV[7])
  if mismatch ~= 0 then return mismatch end
end
local now, idle, absolute = tonumber(ARGV[1]), tonumber(s[2]), tonumber(s[3])
local code = alive(s[1], idle, absolute, now)
if code == 0 and ARGV[3] == '1' then
  slide(KEYS[1], idle, absolute, now, tonumber(ARGV[2]))
end
return code
