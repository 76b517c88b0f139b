import { Dashboard } from './Dashboard.tsx'
import { OfflineForm } from './OfflineForm.tsx'
import { StatusBar } from './StatusBar.tsx'
import { TodoList } from './TodoList.tsx'

/**
 * Three scenarios, each on one memory shared by everyone who opens the demo: a live
 * dashboard fed straight from Redis (`dashboard`), a collaborative todo list with presence
 * and undo (`todos`), and a form that keeps working offline (`form`).
 */
export function App({ relayUrl }: { relayUrl: string }) {
  return (
    <>
      <StatusBar relayUrl={relayUrl} />
      <main>
        <Dashboard />
        <TodoList />
        <OfflineForm />
      </main>
    </>
  )
}
