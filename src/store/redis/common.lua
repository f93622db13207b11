-- Shared by the session scripts: the rules of src/session.rs, on the `now` the engine passes
-- (never Redis's clock, so every host and a test's manual clock decide alike).
-- Reply codes: 0 ok, 1 unknown, 2 revoked, 3 expired (absolute), 4 idle, 5 reuse, 6 converged,
-- 7 client mismatch, 8 DPoP proof required, 9 DPoP proof from another key.

-- session::check_alive: revoked, then absolute, then idle.
local function alive(revoked, idle, absolute, now)
  if revoked == '1' then return 2 end
  if now >= absolute then return 3 end
  if now >= idle then return 4 end
  return 0
end

-- The idle deadline: the session's own field `i` (set at login) or, once it has slid, the
-- idle key's value, whichever is later. Slides go to the idle key, which the near cache does
-- not track, so a touch does not make every process drop its cached copy of the session.
local function idle_of(field, idle_key)
  local slid = tonumber(redis.call('GET', idle_key) or '0')
  return math.max(tonumber(field), slid)
end

-- session::slide + touch_needed: write only when the idle deadline moves, so touches within
-- the same second coalesce into none. The idle key expires with the session. Returns the
-- idle deadline after the slide.
local function slide(idle_key, idle, absolute, now, idle_timeout)
  local moved = math.min(now + idle_timeout, absolute)
  if moved > idle then
    redis.call('SET', idle_key, string.format('%.0f', moved), 'EX',
      string.format('%.0f', math.max(absolute - now, 1)))
    return moved
  end
  return idle
end

-- session::check_binding. bound_client, bound_key: the session's client digest and DPoP key
-- thumbprint ('' or absent: not bound). mode: '0' client not checked, '1' required, '2'
-- required and a mismatch revokes. client, jkt: what the request presents ('' for none).
local function binding(key, bound_client, bound_key, mode, client, jkt)
  if bound_client and bound_client ~= '' and mode ~= '0' and bound_client ~= client then
    if mode == '2' then redis.call('HSET', key, 'r', '1') end
    return 7
  end
  if bound_key and bound_key ~= '' then
    if jkt == '' then return 8 end
    if bound_key ~= jkt then return 9 end
  end
  return 0
end
