-- SessionStore::update_claims, second half: the engine read the claims (`x`), merged the
-- changes, and writes the outcome only if `x` is still what it read (a compare-and-set, so
-- two merges racing never lose one). KEYS[1]: the session. ARGV: now, the claims read ('' for
-- none), the merged claims (JSON). Replies 0 written, 10 changed meanwhile (read again), or
-- alive()'s code.
local s = redis.call('HMGET', KEYS[1], 'r', 'i', 'a', 'x')
if not s[3] then return 1 end
local code = alive(s[1], tonumber(s[2]), tonumber(s[3]), tonumber(ARGV[1]))
if code ~= 0 then return code end
if (s[4] or '') ~= ARGV[2] then return 10 end
redis.call('HSET', KEYS[1], 'x', ARGV[3])
return 0
