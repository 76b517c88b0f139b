/**
 * Paths that name a place inside a value in error messages: `todos[3].due`, `["my key"]`.
 */

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/**
 * The path of `key` inside the value at `parent`.
 *
 * @example
 * keyPath('', 'todos') // 'todos'
 * keyPath('todos[3]', 'due') // 'todos[3].due'
 * keyPath('a', 'my key') // 'a["my key"]'
 */
export function keyPath(parent: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${parent}[${JSON.stringify(key)}]`
  return parent === '' ? key : `${parent}.${key}`
}

/**
 * The path of item `index` inside the list at `parent`.
 *
 * @example
 * indexPath('todos', 3) // 'todos[3]'
 */
export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`
}
