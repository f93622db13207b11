-- SessionStore::touch. KEYS[1]: the session. ARGV: now, idle_timeout, slide ('1' or '0').
local s = redis.call('HMGET', KEYS[1], 'r', 'i', 'a')
if not s[3] then return 1 end
local now, idle, absolute = tonumber(ARGV[1]), tonumber(s[2]), tonumber(s[3])
local code = alive(s[1], idle, absolute, now)
if code == 0 and ARGV[3] == '1' then
  slide(KEYS[1], idle, absolute, now, tonumber(ARGV[2]))
end
return code
