/**
 * Everything about one memory: its status, its value as an editable tree, its queue of
 * unacknowledged changes, and who else has it open.
 */
import type { Memory, RememClient } from '@remem/client'
import { type ReactElement, useCallback } from 'react'
import { formatAge, formatBytes, formatTime } from './format.ts'
import { useNow, useStatus, useStoredBytes, useValue } from './hooks.ts'
import { JsonTree } from './JsonTree.tsx'
import { type Path, writeAt } from './writeAt.ts'

export interface MemoryViewProps {
  client: RememClient
  memory: Memory
}

export function MemoryValue({ memory }: { memory: Memory }): ReactElement {
  const value = useValue(memory)
  const onEdit = useCallback((path: Path, next: unknown) => writeAt(memory, path, next), [memory])
  return (
    <section aria-label="value">
      <h3>Value</h3>
      <JsonTree name={memory.name} value={value} onEdit={onEdit} />
    </section>
  )
}

export function MemoryStatusView({ client, memory }: MemoryViewProps): ReactElement {
  const status = useStatus(memory)
  const now = useNow(1000)
  // Read again when the queue changes, and every few seconds for other tabs' writes.
  const stored = useStoredBytes(client, memory.name, `${status.pending}:${Math.floor(now / 5000)}`)
  const pending = client.inspector.pending(memory.name)
  const presence = client.inspector.presence(memory.name)
  return (
    <>
      <section aria-label="status">
        <h3>Status</h3>
        <dl className="status">
          <dt>connection</dt>
          <dd data-testid="devtools-connection">{status.connection}</dd>
          <dt>access</dt>
          <dd>{memory.access ?? 'not yet known'}</dd>
          <dt>pending</dt>
          <dd data-testid="devtools-pending">{status.pending}</dd>
          <dt>last synced</dt>
          <dd>
            {status.lastSyncedAt === null
              ? 'not in this session'
              : `${formatTime(status.lastSyncedAt)} (${formatAge(now - status.lastSyncedAt)} ago)`}
          </dd>
          <dt>storage</dt>
          <dd>{status.storage}</dd>
          <dt>IndexedDB</dt>
          <dd>{stored === null ? '—' : formatBytes(stored)}</dd>
        </dl>
      </section>
      <section aria-label="pending changes">
        <h3>Pending changes</h3>
        {pending.length === 0 ? (
          <p className="muted">none: the relay holds every change of this tab</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">seq</th>
                <th scope="col">age</th>
                <th scope="col">writes</th>
                <th scope="col">size</th>
                <th scope="col">state</th>
              </tr>
            </thead>
            <tbody>
              {pending.map((change) => (
                <tr key={change.seq} data-testid="devtools-pending-change">
                  <td>{change.seq}</td>
                  <td>{formatAge(now - change.since)}</td>
                  <td>{change.writes}</td>
                  <td>{formatBytes(change.bytes)}</td>
                  <td className={change.refused === null ? undefined : 'refused'}>
                    {change.refused === null ? 'waiting for ack' : `refused: ${change.refused}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-label="presence">
        <h3>Presence</h3>
        {presence === null ? (
          <p className="muted">the app has not opened presence for this memory</p>
        ) : presence.others.length === 0 ? (
          <p className="muted">nobody else (this tab: {presence.clientId})</p>
        ) : (
          <ul className="timeline">
            {presence.others.map((peer) => (
              <li key={peer.clientId}>
                <span className="muted">{peer.clientId}</span>
                <span>{JSON.stringify(peer.state)}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  )
}
