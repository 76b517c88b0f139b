'use client'
/**
 * `<RememDevtools />` (inside a `<RememProvider>`, or given a `client`): a small toggle button in a corner of the page that
 * opens a resizable panel showing what the client holds — every open memory's live value
 * (editable), status, pending changes, presence — the connection's timeline, and a switch
 * that takes this tab offline without touching its network.
 */
import type { RememClient } from '@remem/client'
import { useRememClient } from '@remem/react'
import {
  type KeyboardEvent,
  type PointerEvent,
  type ReactElement,
  useEffect,
  useRef,
  useState,
} from 'react'
import { createPortal } from 'react-dom'
import { useClientStatus } from './hooks.ts'
import { Panel } from './Panel.tsx'
import { useShadowContainer } from './useShadowContainer.ts'

/** Props of {@link RememDevtools}. */
export interface RememDevtoolsProps {
  /**
   * The client to inspect. @default the client of the nearest `<RememProvider>` (nothing is
   * shown until it exists; without `client` and outside a provider, rendering throws)
   */
  client?: RememClient
  /** Open the panel at once. @default false */
  initialIsOpen?: boolean
  /**
   * Controls the panel from outside (a button of your own): with it, the panel is open
   * exactly while it is true, and `onOpenChange` hears the panel's own toggle and close.
   */
  open?: boolean
  /** Called when the toggle button, the close button or Escape asks to open or close. */
  onOpenChange?: (open: boolean) => void
  /** Height of the panel in px; the user resizes it by its top edge. @default 340 */
  initialHeight?: number
  /** The memory shown first. @default the first one opened */
  initialMemory?: string
}

const MIN_HEIGHT = 120
const STEP = 24

/**
 * The remem devtools panel, closed behind a toggle button until opened. It renders into a
 * shadow root at the end of `<body>`: no page style reaches it and no layout shifts.
 * Import it only where you want it (a dev build): apps that don't import it contain none of it.
 * @example
 * <RememProvider url={url}>
 *   <App />
 *   {import.meta.env.DEV && <RememDevtools />}
 * </RememProvider>
 */
export function RememDevtools({ client, ...props }: RememDevtoolsProps): ReactElement | null {
  return client === undefined ? <ProviderDevtools {...props} /> : <Devtools client={client} {...props} />
}

/** The devtools of the provider's client, once it has one. */
function ProviderDevtools(props: Omit<RememDevtoolsProps, 'client'>): ReactElement | null {
  let client: RememClient | null
  try {
    client = useRememClient()
  } catch (error) {
    throw new Error('<RememDevtools> needs a `client` prop, or a <RememProvider> above it', { cause: error })
  }
  return client === null ? null : <Devtools client={client} {...props} />
}

function Devtools({
  client,
  initialIsOpen = false,
  initialHeight = 340,
  initialMemory,
  open: controlled,
  onOpenChange,
}: RememDevtoolsProps & { client: RememClient }): ReactElement | null {
  const container = useShadowContainer()
  const [own, setOwn] = useState(initialIsOpen)
  const open = controlled ?? own
  const setOpen = (next: boolean): void => {
    if (controlled === undefined) setOwn(next)
    onOpenChange?.(next)
  }
  const [height, setHeight] = useState(initialHeight)
  const toggleRef = useRef<HTMLButtonElement>(null)
  const panelRef = useRef<HTMLDivElement>(null)
  const wasOpen = useRef(open)
  const { connection } = useClientStatus(client)

  useEffect(() => {
    // Focus follows the panel: into it when it opens, back to the button when it closes.
    if (open && !wasOpen.current) panelRef.current?.focus()
    if (!open && wasOpen.current) toggleRef.current?.focus()
    wasOpen.current = open
  }, [open, container])

  if (container === null) return null
  const max = (): number => Math.max(MIN_HEIGHT, window.innerHeight - 40)
  const resizeBy = (delta: number): void =>
    setHeight((now) => Math.min(max(), Math.max(MIN_HEIGHT, now + delta)))

  const onResizeStart = (event: PointerEvent<HTMLDivElement>): void => {
    event.preventDefault()
    const startY = event.clientY
    const startHeight = height
    const move = (moved: globalThis.PointerEvent): void =>
      setHeight(Math.min(max(), Math.max(MIN_HEIGHT, startHeight + startY - moved.clientY)))
    const up = (): void => {
      window.removeEventListener('pointermove', move)
      window.removeEventListener('pointerup', up)
    }
    window.addEventListener('pointermove', move)
    window.addEventListener('pointerup', up)
  }
  const onResizeKey = (event: KeyboardEvent<HTMLDivElement>): void => {
    if (event.key === 'ArrowUp') resizeBy(STEP)
    else if (event.key === 'ArrowDown') resizeBy(-STEP)
    else return
    event.preventDefault()
  }

  return createPortal(
    open ? (
      <div
        ref={panelRef}
        className="panel"
        role="dialog"
        aria-modal="false"
        aria-label="remem devtools"
        tabIndex={-1}
        style={{ height }}
        onKeyDown={(event) => {
          if (event.key === 'Escape') setOpen(false)
        }}
      >
        <div
          className="resize"
          role="separator"
          aria-orientation="horizontal"
          aria-label="resize the devtools panel (arrow keys)"
          aria-valuenow={height}
          aria-valuemin={MIN_HEIGHT}
          aria-valuemax={max()}
          tabIndex={0}
          onPointerDown={onResizeStart}
          onKeyDown={onResizeKey}
        />
        <Panel client={client} initialMemory={initialMemory} onClose={() => setOpen(false)} />
      </div>
    ) : (
      <button
        ref={toggleRef}
        type="button"
        className="toggle"
        aria-expanded="false"
        aria-label="open remem devtools"
        onClick={() => setOpen(true)}
      >
        <span className={`dot ${connection}`} aria-hidden="true" />
        remem
      </button>
    ),
    container,
  )
}
