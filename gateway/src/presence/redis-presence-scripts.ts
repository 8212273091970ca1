/**
 * The Lua scripts of the Redis presence store. Each runs atomically, so two gateways that change
 * the same user's presence at once still produce one `joined` (or one `left`), never two or none.
 *
 * Keys (`<prefix>` is `presence:`):
 * - `<prefix>gateways`: sorted set, gateway id → time of its last heartbeat (Redis's clock, so the
 *   gateways' clocks do not matter);
 * - `<prefix>gateway:<id>`: hash, room → that gateway's members of the room, one `userId role count`
 *   line per user (ids never hold a space or a newline).
 *
 * Both expire by themselves (every heartbeat sets their TTL again); a gateway found dead is removed
 * by the first survivor whose heartbeat sees it, which publishes `left` for each of its users that
 * no other gateway has in the room. Changes go out on a Pub/Sub channel: `joined <room> <userId>
 * <role>` or `left <room> <userId>`. (Not cluster-safe: the scripts read keys they are not given.)
 */

const PRELUDE = `
local gateways, prefix, channel = KEYS[1], ARGV[1], ARGV[2]

local function users(members)
  local found = {}
  for user, role in string.gmatch(members or '', '([^ \\n]+) ([^ \\n]+) [0-9]+') do found[user] = role end
  return found
end

-- Whether a gateway of \`live\` other than \`except\` has \`user\` in \`room\`.
local function present(live, room, user, except)
  local line = '\\n' .. user .. ' '
  for _, gateway in ipairs(live) do
    if gateway ~= except then
      local members = redis.call('HGET', prefix .. 'gateway:' .. gateway, room)
      if members and string.find('\\n' .. members, line, 1, true) then return true end
    end
  end
  return false
end

-- Removes a gateway and tells the watchers about each of its users that no other gateway has.
local function remove(gone)
  redis.call('ZREM', gateways, gone)
  local hash = prefix .. 'gateway:' .. gone
  local fields = redis.call('HGETALL', hash)
  redis.call('DEL', hash)
  local live = redis.call('ZRANGE', gateways, 0, -1)
  for i = 1, #fields, 2 do
    for user in pairs(users(fields[i + 1])) do
      if not present(live, fields[i], user, nil) then redis.call('PUBLISH', channel, 'left ' .. fields[i] .. ' ' .. user) end
    end
  end
end
`;

/**
 * The heartbeat and the writes of one gateway: removes the dead gateways (but itself), registers,
 * then sets its members of the rooms given, publishing what changed for the watchers.
 * KEYS: gateways. ARGV: prefix, channel, this gateway's id, dead after (ms), key TTL (ms),
 * mode, then pairs of room and members ('' for none). Mode `delta` applies only while registered
 * (else nothing happens and the answer says so: the gateway sends all its rooms again); `reset`
 * starts afresh (its old entries, if any, were removed when it was found dead).
 * Returns {registered (0/1), gateways removed}.
 */
export const SYNC_SCRIPT = `${PRELUDE}
local id, deadAfter, ttl, mode = ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local own = prefix .. 'gateway:' .. id
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local removed = 0
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', gateways, '-inf', now - deadAfter)) do
  if gone ~= id then
    remove(gone)
    removed = removed + 1
  end
end
if mode ~= 'reset' and not redis.call('ZSCORE', gateways, id) then return {0, removed} end
if mode == 'reset' then redis.call('DEL', own) end
redis.call('ZADD', gateways, now, id)
redis.call('PEXPIRE', gateways, ttl)
local live = redis.call('ZRANGE', gateways, 0, -1)
for i = 7, #ARGV, 2 do
  local room, members = ARGV[i], ARGV[i + 1]
  local before = users(redis.call('HGET', own, room))
  if members == '' then redis.call('HDEL', own, room) else redis.call('HSET', own, room, members) end
  local after = users(members)
  for user, role in pairs(after) do
    if not before[user] and not present(live, room, user, id) then redis.call('PUBLISH', channel, 'joined ' .. room .. ' ' .. user .. ' ' .. role) end
  end
  for user in pairs(before) do
    if not after[user] and not present(live, room, user, id) then redis.call('PUBLISH', channel, 'left ' .. room .. ' ' .. user) end
  end
end
redis.call('PEXPIRE', own, ttl)
return {1, removed}
`;

/** A gateway that shuts down leaves. KEYS: gateways. ARGV: prefix, channel, its id. */
export const LEAVE_SCRIPT = `${PRELUDE}
remove(ARGV[3])
return 1
`;

/** Every gateway's members of one room. KEYS: gateways. ARGV: prefix, channel, room. */
export const MEMBERS_SCRIPT = `${PRELUDE}
local out = {}
for _, gateway in ipairs(redis.call('ZRANGE', gateways, 0, -1)) do
  local members = redis.call('HGET', prefix .. 'gateway:' .. gateway, ARGV[3])
  if members then out[#out + 1] = members end
end
return out
`;
