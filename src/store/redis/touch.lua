-- SessionStore::touch. KEYS[1]: the session, KEYS[2]: its idle key. ARGV: now, idle_timeout,
-- slide ('1' or '0'), check the binding ('1' or '0'), then binding()'s mode, client digest
-- and key thumbprint.
-- Replies {1} for an unknown session, else {code, revoked, idle deadline (after the slide),
-- absolute deadline, client digest, key thumbprint}: what the near cache keeps.
local s = redis.call('HMGET', KEYS[1], 'r', 'i', 'a', 'b', 'k')
if not s[3] then return {1} end
local now, absolute = tonumber(ARGV[1]), tonumber(s[3])
local idle = idle_of(s[2], KEYS[2])
local function reply(code)
  return {code, s[1] or '0', string.format('%.0f', idle), s[3], s[4] or '', s[5] or ''}
end
if ARGV[4] == '1' then
  local mismatch = binding(KEYS[1], s[4], s[5], ARGV[5], ARGV[6], ARGV[7])
  if mismatch ~= 0 then
    if mismatch == 7 and ARGV[5] == '2' then s[1] = '1' end
    return reply(mismatch)
  end
end
local code = alive(s[1], idle, absolute, now)
if code == 0 and ARGV[3] == '1' then
  idle = slide(KEYS[2], idle, absolute, now, tonumber(ARGV[2]))
end
return reply(code)
