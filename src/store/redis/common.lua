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

-- session::slide + touch_needed: write only when the idle deadline moves, so touches within
-- the same second coalesce into none.
local function slide(key, idle, absolute, now, idle_timeout)
  local moved = math.min(now + idle_timeout, absolute)
  if moved > idle then
    redis.call('HSET', key, 'i', string.format('%.0f', moved))
  end
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
