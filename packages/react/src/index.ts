export { RememProvider } from './RememProvider.tsx'
export type {
  RememProviderClientProps,
  RememProviderProps,
  RememProviderUrlProps,
} from './RememProvider.tsx'
export { useSharedMemory } from './useSharedMemory.ts'
export { useRememClient } from './useRememClient.ts'
export { useSyncStatus } from './useSyncStatus.ts'
export type { SyncStatus } from './useSyncStatus.ts'
export { useUndo } from './useUndo.ts'
export { usePresence } from './usePresence.ts'
export type { PresenceControls } from './usePresence.ts'
export type { UndoControls } from './useUndo.ts'
export type { UndoState } from './UndoStore.ts'
