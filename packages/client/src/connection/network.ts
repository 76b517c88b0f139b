/**
 * What the platform says about the network: browsers fire `online` and `offline` and keep
 * `navigator.onLine`; elsewhere (Node) nothing is known and the network counts as up.
 */
export interface NetworkMonitor {
  /** False only when the platform is sure there is no network. */
  isOnline(): boolean
  /** Calls `listener` with true on `online` and false on `offline`. Returns the unsubscribe. */
  subscribe(listener: (online: boolean) => void): () => void
}

interface BrowserGlobals {
  navigator?: { onLine?: unknown }
  addEventListener?: (type: string, listener: () => void) => void
  removeEventListener?: (type: string, listener: () => void) => void
}

/** The browser's network events, or a monitor that never reports anything. */
export function browserNetwork(
  scope: BrowserGlobals = globalThis as BrowserGlobals,
): NetworkMonitor {
  const add = scope.addEventListener
  const remove = scope.removeEventListener
  if (
    typeof add !== 'function' ||
    typeof remove !== 'function' ||
    typeof scope.navigator?.onLine !== 'boolean'
  ) {
    return { isOnline: () => true, subscribe: () => () => {} }
  }
  return {
    isOnline: () => scope.navigator?.onLine !== false,
    subscribe(listener) {
      const online = (): void => listener(true)
      const offline = (): void => listener(false)
      add.call(scope, 'online', online)
      add.call(scope, 'offline', offline)
      return () => {
        remove.call(scope, 'online', online)
        remove.call(scope, 'offline', offline)
      }
    },
  }
}
