-- SessionStore::revoke_user in one step (one server, or a Sentinel-managed primary).
-- KEYS[1]: the user's index, KEYS[2]: the user's epoch.
-- ARGV: now, seconds to remember the epoch, the session key prefix (a session's key is it,
-- then the sid in braces).
local now = tonumber(ARGV[1])
local listed = epoch_and_index(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
local revoked = 0
for i = 1, #listed, 2 do
  local key = ARGV[3] .. '{' .. listed[i] .. '}'
  revoked = revoked + revoke_listed(key, now, tonumber(listed[i + 1]))
end
return revoked
