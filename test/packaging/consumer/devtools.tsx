// Type-checked in the packed-tarball test against the installed @remem/devtools (see client.ts).
import { createClient } from '@remem/client'
import { RememDevtools, type RememDevtoolsProps } from '@remem/devtools'

const client = createClient({ url: 'ws://127.0.0.1:8787' })
const props: RememDevtoolsProps = { client, initialIsOpen: false, initialMemory: 'board' }

export function WithDevtools() {
  return <RememDevtools {...props} onOpenChange={(open) => console.log(open)} />
}
