import { useSharedMemory, useSyncStatus } from '@remem/react'

type Form = { name?: string; email?: string; message?: string }

/**
 * Memory `form`: every keystroke is saved locally (IndexedDB) at once and synced when the
 * relay is reachable. Go offline, type, reload: the page comes from the service worker,
 * the text from IndexedDB, and it syncs once back online.
 */
export function OfflineForm() {
  const form = useSharedMemory<Form>('form')
  return (
    <section className="card">
      <h2>
        Offline form <Badge /> <span className="hint">memory “form”</span>
      </h2>
      <div className="form">
        <label>
          Name
          <input
            data-testid="form-field-name"
            value={form.name ?? ''}
            onChange={(event) => {
              form.name = event.target.value
            }}
          />
        </label>
        <label>
          Email
          <input
            data-testid="form-field-email"
            type="email"
            value={form.email ?? ''}
            onChange={(event) => {
              form.email = event.target.value
            }}
          />
        </label>
        <label>
          Message
          <textarea
            data-testid="form-field-message"
            rows={3}
            value={form.message ?? ''}
            onChange={(event) => {
              form.message = event.target.value
            }}
          />
        </label>
      </div>
    </section>
  )
}

/** "saved", "N changes pending", or "offline" (with what waits). */
function Badge() {
  const { connection, pending } = useSyncStatus('form')
  const waiting = `${pending} changes pending`
  const [text, kind] =
    connection === 'offline'
      ? [pending > 0 ? `offline · ${waiting}` : 'offline', 'offline']
      : pending > 0
        ? [waiting, 'pending']
        : connection === 'online'
          ? ['saved', 'saved']
          : ['connecting…', 'pending']
  return (
    <span className={`badge ${kind}`} data-testid="form-status">
      {text}
    </span>
  )
}
