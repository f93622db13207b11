-- SessionStore::revoke_user_except in one step (one server, or a Sentinel-managed primary).
-- KEYS[1]: the user's index, KEYS[2]: the user's epoch.
-- ARGV: now, seconds to remember the epoch, the session key prefix (a session's key is it,
-- then the sid in braces), the sid to spare ('' for none).
-- Replies the sids it revoked (live until then).
local now = tonumber(ARGV[1])
local listed = epoch_and_index(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
local revoked = {}
for i = 1, #listed, 2 do
  local sid = listed[i]
  if sid ~= ARGV[4] then
    local key = ARGV[3] .. '{' .. sid .. '}'
    if revoke_listed(key, now, tonumber(listed[i + 1])) == 1 then
      revoked[#revoked + 1] = sid
    end
  end
end
return revoked
