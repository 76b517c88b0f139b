/**
 * The Lua scripts behind `RedisStore`. Each runs atomically, so a relay never sees a log
 * half-appended or a snapshot without the trim that goes with it.
 *
 * Every script takes KEYS[1] = the log stream and KEYS[2] = the snapshot string, stored as
 * `<uptoId>|<snapshot bytes>`; append, load and switch also KEYS[3] = the epoch string,
 * `<epoch>|<state vector the previous epoch ended with>` (missing: epoch 0). The three share
 * the memory's hash tag, so the scripts run in one slot on a cluster too. The switch also
 * takes KEYS[4] = the hash of past epochs' final state vectors (field: the epoch). Ids are compared
 * as (ms, seq) numbers, never as strings.
 */

const helpers = `
local function parseId(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local function isBefore(a, b)
  local am, as = parseId(a)
  local bm, bs = parseId(b)
  if am ~= bm then return am < bm end
  return as < bs
end
local function snapshotUpto(key)
  local head = redis.call('GETRANGE', key, 0, 63)
  local bar = string.find(head, '|', 1, true)
  if not bar then return '0-0' end
  return string.sub(head, 1, bar - 1)
end
local function epochOf(key)
  local head = redis.call('GETRANGE', key, 0, 31)
  local bar = string.find(head, '|', 1, true)
  if not bar then return 0 end
  return tonumber(string.sub(head, 1, bar - 1))
end
-- The newest id the stream ever generated, also when trims left it empty.
local function streamLast(key)
  local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #newest > 0 then return newest[1][1] end
  if redis.call('EXISTS', key) == 0 then return '0-0' end
  local info = redis.call('XINFO', 'STREAM', key)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return info[i + 1] end
  end
  return '0-0'
end
`

/**
 * Appends ARGV[first..last] to one memory (keys: log, snapshot, epoch) and publishes
 * `<id>|<prevId>|<relayId>|<update>` for each on `channel`. Returns `{1, prevId, xlen, id...}`,
 * or `{0, n}` (appending nothing) when `expected` is not '' and the memory is in epoch n.
 */
const appendOne = `
local function appendOne(log, snapshot, epochKey, channel, relayId, expected, first, last)
  if expected ~= '' then
    local current = epochOf(epochKey)
    if current ~= tonumber(expected) then return {0, current} end
  end
  local streamId = streamLast(log)
  local upto = snapshotUpto(snapshot)
  local prev = streamId
  if isBefore(streamId, upto) then prev = upto end
  local result = {1, prev, 0}
  for i = first, last do
    local id
    if isBefore(streamId, prev) then
      -- The stream is behind the snapshot (deleted by hand): continue after the snapshot.
      local ms, seq = parseId(prev)
      id = redis.call('XADD', log, string.format('%.0f-%.0f', ms, seq + 1), 'u', ARGV[i])
    else
      id = redis.call('XADD', log, '*', 'u', ARGV[i])
    end
    redis.call('PUBLISH', channel, id .. '|' .. prev .. '|' .. relayId .. '|' .. ARGV[i])
    result[#result + 1] = id
    streamId = id
    prev = id
  end
  result[3] = redis.call('XLEN', log)
  return result
end
`

/**
 * ARGV: channel, relayId, epoch ('' for any), update... Appends each update, publishes
 * `<id>|<prevId>|<relayId>|<update>` for each, returns `{prevId, xlen, id...}`; an error
 * `EPOCH <n>` (appending nothing) when the memory is in epoch n, not the one given.
 */
export const appendScript = `${helpers}${appendOne}
local result = appendOne(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], 4, #ARGV)
if result[1] == 0 then return redis.error_reply('EPOCH ' .. result[2]) end
table.remove(result, 1)
return result
`

/**
 * The appends of several memories in one call (one Redis only: the keys span slots). KEYS:
 * log, snapshot and epoch of each memory in turn. ARGV per memory in turn: channel, relayId,
 * epoch ('' for any), the number of updates, the updates. Returns one reply per memory, in
 * order: `{1, prevId, xlen, id...}`; `{0, n}` when that memory is in epoch n (nothing of it
 * appended); `{2, error}` when a command failed for it (a key of the wrong type): as with a
 * call of its own, the other memories are appended all the same.
 */
export const appendManyScript = `${helpers}${appendOne}
local replies = {}
local at = 1
for m = 1, #KEYS / 3 do
  local count = tonumber(ARGV[at + 3])
  local k = (m - 1) * 3
  local ok, reply = pcall(appendOne, KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], ARGV[at], ARGV[at + 1], ARGV[at + 2], at + 4, at + 3 + count)
  if ok then
    replies[m] = reply
  elseif type(reply) == 'table' and reply.err then
    replies[m] = {2, reply.err}
  else
    replies[m] = {2, tostring(reply)}
  end
  at = at + 4 + count
end
return replies
`

/** Returns `{snapshot value or nil, lastId, entries after the snapshot, epoch value or nil}`. */
export const loadScript = `${helpers}
local snapshot = redis.call('GET', KEYS[2])
local upto = '0-0'
if snapshot then upto = string.sub(snapshot, 1, string.find(snapshot, '|', 1, true) - 1) end
local entries = redis.call('XRANGE', KEYS[1], '(' .. upto, '+')
local last
if #entries > 0 then last = entries[#entries][1] else last = streamLast(KEYS[1]) end
if isBefore(last, upto) then last = upto end
return {snapshot, last, entries, redis.call('GET', KEYS[3])}
`

/**
 * ARGV: channel, from epoch, uptoId, new snapshot value, new epoch value, the state vector
 * epoch `from` ended with, how many such vectors to keep. When the memory is in epoch `from`
 * and its log ends at uptoId: stores the snapshot, the epoch and the vector (dropping the one
 * that many epochs older), empties the log (the stream keeps its last id) and publishes
 * `epoch|<new epoch>`; returns 1.
 * Otherwise returns 0 and changes nothing.
 */
export const switchEpochScript = `${helpers}
if epochOf(KEYS[3]) ~= tonumber(ARGV[2]) then return 0 end
local upto = snapshotUpto(KEYS[2])
local last = streamLast(KEYS[1])
if isBefore(last, upto) then last = upto end
if last ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[2], ARGV[4])
redis.call('SET', KEYS[3], ARGV[5])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[6])
redis.call('HDEL', KEYS[4], tostring(tonumber(ARGV[2]) - tonumber(ARGV[7])))
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('XTRIM', KEYS[1], 'MAXLEN', 0) end
redis.call('PUBLISH', ARGV[1], 'epoch|' .. (tonumber(ARGV[2]) + 1))
return 1
`

/** ARGV: afterId. Entries after it, or nil when the snapshot already covers past it. */
export const readSinceScript = `${helpers}
if isBefore(ARGV[1], snapshotUpto(KEYS[2])) then return false end
return redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')
`

/**
 * ARGV: uptoId, the first id to keep, the new snapshot value. Returns 1, or 0 when the
 * stored snapshot already covers uptoId.
 */
export const compactScript = `${helpers}
if not isBefore(snapshotUpto(KEYS[2]), ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('XTRIM', KEYS[1], 'MINID', ARGV[2])
return 1
`
