/**
 * Work deferred to the end of the current event-loop turn (issue 12, "Relay hot path"): the
 * relay corks a socket at its first write of a turn and uncorks it here, so that what the
 * turn sends to one socket (fan-outs of several writers' updates, ACKs, the Redis commands
 * of every memory) leaves in one write.
 *
 * `setImmediate` runs once the poll phase has handled every I/O callback of the turn; the poll
 * phase does not wait for more I/O while an immediate is pending, so nothing waits longer than
 * the rest of the turn. One immediate serves every task of the turn. Tasks that send (`early`)
 * run before the others (which uncork), so what they send joins the turn's writes; tasks
 * added while the tasks run, run in the same turn.
 */

let early: Array<() => void> = []
let late: Array<() => void> = []
let scheduled = false

/**
 * Runs `task` at the end of this event-loop turn, with the turn's other tasks, in order;
 * `first`: before every task not marked so (for tasks that send on corked sockets).
 */
export function atTurnEnd(task: () => void, first = false): void {
  if (!scheduled) {
    scheduled = true
    setImmediate(runTasks)
  }
  if (first) early.push(task)
  else late.push(task)
}

function runTasks(): void {
  while (early.length > 0 || late.length > 0) {
    const due = early.length > 0 ? early : late
    if (due === early) early = []
    else late = []
    for (const task of due) {
      try {
        task()
      } catch (error) {
        console.error('remem: a task at the end of a turn threw', error)
      }
    }
  }
  scheduled = false
}
