/**
 * Work deferred to the end of the current event-loop turn (issue 12, "Relay hot path"): the
 * relay corks a socket at its first write of a turn and uncorks it here, so that what the
 * turn sends to one socket (fan-outs of several writers' updates, ACKs, a memory's Redis
 * commands) leaves in one write.
 *
 * `setImmediate` runs once the poll phase has handled every I/O callback of the turn; the poll
 * phase does not wait for more I/O while an immediate is pending, so nothing waits longer than
 * the rest of the turn. One immediate serves every task of the turn.
 */

let tasks: Array<() => void> = []

/** Runs `task` at the end of this event-loop turn, with the turn's other tasks, in order. */
export function atTurnEnd(task: () => void): void {
  if (tasks.length === 0) setImmediate(runTasks)
  tasks.push(task)
}

function runTasks(): void {
  const due = tasks
  tasks = []
  for (const task of due) {
    try {
      task()
    } catch (error) {
      console.error('remem: a task at the end of a turn threw', error)
    }
  }
}
