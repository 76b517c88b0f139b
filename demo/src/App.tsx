import { useState } from 'react'
import { Dashboard } from './Dashboard.tsx'
import { Devtools } from './Devtools.tsx'
import { OfflineForm } from './OfflineForm.tsx'
import { StatusBar } from './StatusBar.tsx'
import { TodoList } from './TodoList.tsx'

/**
 * Three scenarios, each on one memory shared by everyone who opens the demo: a live
 * dashboard fed straight from Redis (`dashboard`), a collaborative todo list with presence
 * and undo (`todos`), and a form that keeps working offline (`form`).
 */
export function App({ relayUrl }: { relayUrl: string }) {
  const [devtools, setDevtools] = useState(false)
  return (
    <>
      <StatusBar relayUrl={relayUrl} devtools={devtools} onDevtools={setDevtools} />
      <Devtools open={devtools} onOpenChange={setDevtools} />
      <main>
        <Dashboard />
        <TodoList />
        <OfflineForm />
      </main>
    </>
  )
}
