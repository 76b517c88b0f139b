export {
  CloseCode,
  ErrorCode,
  FrameError,
  MEMORY_NAME,
  MessageType,
  decodeMessage,
  encodeMessage,
  errorCodeName,
  isValidMemoryName,
} from './messages.ts'
export type { AccessLevel, Message } from './messages.ts'
export {
  ROOT_NAME,
  decodeDictEntry,
  decodeListItem,
  docToJSON,
  getRoot,
  isPrimitive,
  scanDict,
  scanList,
  slotToJSON,
} from '../model/layout.ts'
export type { Json, JsonObject, JsonPrimitive, NodeKind, Slot } from '../model/layout.ts'
export { rebuildState, replaceDocument } from '../model/epoch.ts'
export { MemoryDoc } from '../model/MemoryDoc.ts'
export { dictIndex, forEachDeletedItem, forEachInsertedItem } from '../model/indexes.ts'
export type { DictIndex } from '../model/DictIndex.ts'
export { assignDict, assignList, dictDelete, dictSet, jsonEquals, mergeDictKey } from '../model/write.ts'
