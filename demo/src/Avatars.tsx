import { usePresence } from '@remem/react'
import { useEffect } from 'react'
import { type Identity, identity } from './identity.ts'

/** Everyone who has memory `name` open: this tab first, then the others. */
export function Avatars({ name }: { name: string }) {
  const { self, others, setState } = usePresence<Identity>(name)
  useEffect(() => setState(identity()), [setState])
  return (
    <div className="avatars" data-testid="presence">
      {self && <Avatar who={self} className="avatar self" testId="presence-self" suffix=" (you)" />}
      {others.map((peer) => (
        <Avatar key={peer.clientId} who={peer.state} className="avatar" testId="presence-other" />
      ))}
      <span data-testid="presence-count">
        {others.length === 0
          ? 'only you here'
          : `${others.length} other${others.length === 1 ? '' : 's'} here`}
      </span>
    </div>
  )
}

function Avatar({ who, className, testId, suffix = '' }: AvatarProps) {
  const name = typeof who.name === 'string' ? who.name : 'someone'
  const color = typeof who.color === 'string' ? who.color : '#57606a'
  return (
    <span
      className={className}
      data-testid={testId}
      title={`${name}${suffix}`}
      style={{ background: color }}
    >
      {initials(name)}
    </span>
  )
}

interface AvatarProps {
  who: Partial<Identity>
  className: string
  testId: string
  suffix?: string
}

/** Initials of the words that start with a letter: 'Ada 12' → 'A', 'Ada King' → 'AK'. */
function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter((word) => /^\p{L}/u.test(word))
    .map((word) => word[0]!)
    .join('')
  return letters.slice(0, 2).toUpperCase() || '?'
}
