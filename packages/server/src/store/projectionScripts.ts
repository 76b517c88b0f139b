/**
 * The Lua scripts behind `RedisProjection`. Each takes KEYS[1] = the projection key
 * `P{name}:{key}` and KEYS[2] = the `proj` hash, and ARGV[1] = the key's field in that hash.
 *
 * A field of the `proj` hash holds either a record `<valueHash>:<sha1 of the text>` (the key
 * holds what a relay wrote, or ingested and persisted), or, while an ingest is under way, a
 * lease `lease|<relayId>|<until, ms of Redis' clock>|<record of what was read>|<replaced>`,
 * which matches no key. `<replaced>` lists, comma-separated, the value hashes the key may
 * last have held as a relay recorded it (see `claimScript`). Times come from Redis (`TIME`),
 * so relays' clocks do not matter.
 */

/** Most value hashes a lease keeps as `replaced`: a chain of claims that all lapsed is rare. */
export const MAX_REPLACED = 4

const helpers = `
local function split(rec)
  local i = string.find(rec, ':', 1, true)
  return string.sub(rec, 1, i - 1), string.sub(rec, i + 1)
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- owner, until (ms), record read, replaced hashes; or nil when rec is not a lease. A lease
-- written before the replaced hashes were kept has none ('').
local function lease(rec)
  if not rec or string.sub(rec, 1, 6) ~= 'lease|' then return nil end
  local a = string.find(rec, '|', 7, true)
  local b = string.find(rec, '|', a + 1, true)
  local c = string.find(rec, '|', b + 1, true)
  local owner, untilMs = string.sub(rec, 7, a - 1), tonumber(string.sub(rec, a + 1, b - 1))
  if not c then return owner, untilMs, string.sub(rec, b + 1), '' end
  return owner, untilMs, string.sub(rec, b + 1, c - 1), string.sub(rec, c + 1)
end
`

/**
 * One projection write: `valueKey` the projection key, `projKey` the `proj` hash, then field,
 * mode ('set' | 'del'), value hash, wrapped text, pxat ('' for none). Returns 1 written, 0
 * nothing to do, -1 an un-ingested external change (or a lapsed claim), -2 a claimed change
 * not confirmed yet.
 */
const projectOne = `
local function projectOne(valueKey, projKey, field, mode, hash, text, pxat)
  local rec = redis.call('HGET', projKey, field)
  local owner, untilMs = lease(rec)
  if owner then
    if untilMs > nowMs() then return -2 end
    return -1
  end
  local kind = redis.call('TYPE', valueKey).ok
  local recValue, recText = nil, nil
  if rec then recValue, recText = split(rec) end
  if kind == 'none' then
    if rec then return -1 end
  elseif kind == 'string' then
    if not rec or recText ~= redis.sha1hex(redis.call('GET', valueKey)) then return -1 end
  else
    if not rec or recText ~= '' then return -1 end
  end
  if mode == 'del' then
    if kind == 'none' then return 0 end
    redis.call('DEL', valueKey)
    redis.call('HDEL', projKey, field)
    return 1
  end
  if kind ~= 'none' and recValue == hash then return 0 end
  if kind ~= 'string' and kind ~= 'none' then redis.call('DEL', valueKey) end
  if pxat ~= '' then
    redis.call('SET', valueKey, text, 'PXAT', pxat)
  else
    redis.call('SET', valueKey, text)
  end
  redis.call('HSET', projKey, field, hash .. ':' .. redis.sha1hex(text))
  return 1
end
`

/**
 * ARGV: field, mode ('set' | 'del'), value hash, wrapped text, pxat ('' for none).
 * Returns 1 written, 0 nothing to do, -1 an un-ingested external change (or a lapsed
 * claim), -2 a claimed change not confirmed yet.
 */
export const projectScript = `${helpers}${projectOne}
return projectOne(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
`

/**
 * Several projection writes in one call (one Redis only: the keys span slots). KEYS: the
 * projection key and the `proj` hash of each write in turn; ARGV: the five arguments of
 * `projectScript` for each write in turn. Returns `{1, result}` per write, or `{0, error}`
 * when a command failed for it (as in a pipeline, the other writes are made all the same).
 */
export const projectManyScript = `${helpers}${projectOne}
local replies = {}
for i = 1, #KEYS / 2 do
  local a = (i - 1) * 5
  local ok, result = pcall(projectOne, KEYS[2 * i - 1], KEYS[2 * i], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
  if ok then
    replies[i] = {1, result}
  elseif type(result) == 'table' and result.err then
    replies[i] = {0, result.err}
  else
    replies[i] = {0, tostring(result)}
  end
end
return replies
`

/**
 * ARGV: field, record of what was read ('' = key absent), owner, lease ms.
 * Returns {1, replaced} claimed, {0} nothing to apply, {2, ms} another relay's lease runs
 * `ms` more. `replaced` lists, comma-separated, the value hashes the key may last have held
 * as a relay recorded it: the record's; for a claim never confirmed, what that claim read and
 * what it replaced in turn (at most `MAX_REPLACED`, newest first; '' = none).
 */
export const claimScript = `${helpers}
local rec = redis.call('HGET', KEYS[2], ARGV[1])
local now = nowMs()
local owner, untilMs, leased, leaseReplaced = lease(rec)
if owner and owner ~= ARGV[3] and untilMs > now then return {2, untilMs - now} end
local function take()
  local hashes = {}
  local function add(hash)
    if hash == '' or #hashes >= ${MAX_REPLACED} then return end
    for _, known in ipairs(hashes) do if known == hash then return end end
    table.insert(hashes, hash)
  end
  if owner then
    if leased ~= '' then add((split(leased))) end
    for hash in string.gmatch(leaseReplaced, '[^,]+') do add(hash) end
  elseif rec then
    add((split(rec)))
  end
  local replaced = table.concat(hashes, ',')
  redis.call('HSET', KEYS[2], ARGV[1], 'lease|' .. ARGV[3] .. '|' .. (now + tonumber(ARGV[4])) .. '|' .. ARGV[2] .. '|' .. replaced)
  return {1, replaced}
end
if ARGV[2] == '' then
  if not rec or redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
  return take()
end
if rec == ARGV[2] then return {0} end
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'string' then
  local _, readText = split(ARGV[2])
  -- Changed again since it was read: that change brings its own notification.
  if redis.sha1hex(redis.call('GET', KEYS[1])) ~= readText then return {0} end
elseif kind == 'none' then
  return {0}
end
return take()
`

/**
 * ARGV: field, record of what was read ('' = key absent), owner, bare text to rewrite
 * ('' = none), its wrapped text, the record of the wrapped text. Returns 1 recorded, 0 when
 * the owner's claim of that read is no longer there (superseded).
 */
export const confirmScript = `${helpers}
local rec = redis.call('HGET', KEYS[2], ARGV[1])
local owner, _, leased = lease(rec)
if owner ~= ARGV[3] or leased ~= ARGV[2] then return 0 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
if ARGV[4] ~= '' and redis.call('TYPE', KEYS[1]).ok == 'string' and redis.call('GET', KEYS[1]) == ARGV[4] then
  redis.call('SET', KEYS[1], ARGV[5], 'KEEPTTL')
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[6])
  return 1
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`
