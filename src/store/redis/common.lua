-- Shared by the session scripts: the rules of src/session.rs, on the `now` the engine passes
-- (never Redis's clock, so every host and a test's manual clock decide alike).
-- Reply codes: 0 ok, 1 unknown, 2 revoked, 3 expired (absolute), 4 idle, 5 reuse, 6 converged.

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
