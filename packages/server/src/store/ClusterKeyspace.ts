/**
 * Where keys land in a Redis Cluster: the hash slot of a key (as Redis computes it), and for
 * any key a sibling key name that is guaranteed to share its slot, so that one script may
 * touch both. The projection keeps each key's record in such a sibling (see DESIGN.md).
 */

/** Number of hash slots of a Redis Cluster. */
export const SLOT_COUNT = 16384

const table = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  table[i] = crc
}

function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ table[((crc >> 8) ^ byte) & 0xff]!
  return crc
}

/** The bytes Redis hashes for `key`: the first non-empty `{…}` hash tag, else the whole key. */
function hashedPart(key: Uint8Array): Uint8Array {
  const open = key.indexOf(0x7b)
  if (open === -1) return key
  const close = key.indexOf(0x7d, open + 1)
  if (close === -1 || close === open + 1) return key
  return key.subarray(open + 1, close)
}

const encoder = new TextEncoder()

/** The hash slot of `key` (CRC16 of its hash tag, modulo 16384), as `CLUSTER KEYSLOT` says. */
export function keySlot(key: string): number {
  return crc16(hashedPart(encoder.encode(key))) % SLOT_COUNT
}

let tags: string[] | null = null

/** For every slot, a short tag (letters and digits, no braces) that hashes to it. */
function slotTags(): string[] {
  if (tags) return tags
  const found: string[] = new Array<string>(SLOT_COUNT)
  let missing = SLOT_COUNT
  for (let n = 0; missing > 0; n++) {
    const tag = n.toString(36)
    const slot = crc16(encoder.encode(tag)) % SLOT_COUNT
    if (found[slot] === undefined) {
      found[slot] = tag
      missing--
    }
  }
  tags = found
  return found
}

/** A hash tag `{…}` that puts a key in `slot`. */
export function tagOfSlot(slot: number): string {
  return `{${slotTags()[slot]}}`
}

/**
 * The name of the hash that holds the projection records of every key in `key`'s slot:
 * `remem:{<tag>}:records`, in the same slot as `key` whatever characters `key` holds.
 */
export function recordsKeyFor(key: string): string {
  return `remem:${tagOfSlot(keySlot(key))}:records`
}
