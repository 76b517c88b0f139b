/**
 * @remem/devtools in the demo (opened by the header's button), two browser contexts on a
 * relay that checks tokens: the panel shows `todos` as a tree, an edit made in the panel
 * reaches the other browser, the pending count rises while the panel's offline switch is on
 * and falls to 0 when it is switched off, and a refusal (the token lost write access)
 * appears on the timeline and on the change it holds back, with its reason.
 */
import { type Page, expect, test } from '@playwright/test'
import { SignJWT } from 'jose'
import { openDemo, snap } from '../helpers/demoPage.ts'
import { type Demo, startDemo } from '../helpers/startDemo.ts'

const SECRET = 'devtools-e2e-secret-0123456789-abcdefgh'
let demo: Demo
let writeToken: string
let readToken: string

function token(access: 'read' | 'write'): Promise<string> {
  return new SignJWT({ mem: ['*'], acc: access })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET))
}

test.beforeAll(async () => {
  demo = await startDemo({ producer: false, relayArgs: ['--secret', SECRET] })
  writeToken = await token('write')
  readToken = await token('read')
})

test.afterAll(async () => {
  await demo?.stop()
})

const items = (page: Page) => page.getByTestId('todo-item')
const panelOf = (page: Page) => page.getByRole('dialog', { name: 'remem devtools' })

async function add(page: Page, text: string): Promise<void> {
  await page.getByTestId('todo-input').fill(text)
  await page.getByTestId('todo-input').press('Enter')
}

async function openPanel(page: Page) {
  await page.getByTestId('devtools-button').click()
  const panel = panelOf(page)
  await expect(panel).toBeVisible()
  await expect(panel.getByRole('tab', { name: 'todos' })).toHaveAttribute('aria-selected', 'true')
  return panel
}

test('the panel shows todos as a tree, its edits reach another browser, and its offline switch holds changes back', async ({
  browser,
}, testInfo) => {
  const alice = await openDemo(browser, `${demo.url}/?token=${writeToken}`)
  const bob = await openDemo(browser, `${demo.url}/?token=${writeToken}`)
  await add(alice.page, 'buy milk')
  await expect(items(bob.page)).toHaveText(['buy milk'])

  // Closed by default, and isolated: nothing of it is in the page's own DOM tree, and the
  // page's layout does not move when it opens.
  await expect(panelOf(alice.page)).toHaveCount(0)
  const layout = () =>
    alice.page.evaluate(() =>
      [...document.querySelectorAll('main > *, header')].map((node) =>
        JSON.stringify(node.getBoundingClientRect()),
      ),
    )
  const before = await layout()
  const panel = await openPanel(alice.page)
  expect(await alice.page.evaluate(() => document.querySelector('[role="dialog"]'))).toBeNull()
  expect(await layout()).toEqual(before)

  // Resizable by keyboard from its top edge.
  const edge = panel.getByRole('separator', { name: /resize/ })
  const height = Number(await edge.getAttribute('aria-valuenow'))
  await edge.focus()
  await alice.page.keyboard.press('ArrowUp')
  await expect(edge).toHaveAttribute('aria-valuenow', String(height + 24))
  expect((await panel.boundingBox())!.height).toBe(height + 24)
  const tree = panel.getByRole('list', { name: 'value of todos' })
  await expect(tree.getByText('items', { exact: true })).toBeVisible()
  await expect(
    tree.getByRole('button', { name: /^edit todos: items\[0\]\.text, now "buy milk"$/ }),
  ).toBeVisible()
  await expect(panel.getByTestId('devtools-connection')).toHaveText('online')
  await expect(panel.getByTestId('devtools-pending')).toHaveText('0')

  // An edit in place is a normal write: it reaches Bob.
  await tree.getByRole('button', { name: /^edit todos: items\[0\]\.text/ }).click()
  const field = panel.getByRole('textbox', { name: /^new value of todos: items\[0\]\.text/ })
  await expect(field).toBeFocused()
  await field.fill('buy oat milk')
  await field.press('Enter')
  await expect(items(bob.page)).toHaveText(['buy oat milk'])
  await snap(alice.page, testInfo, 'devtools-panel')

  // The offline switch: this tab drops its socket; the browser's network stays up.
  const offline = panel.getByRole('switch', { name: /offline/ })
  await offline.click()
  await expect(offline).toHaveAttribute('aria-checked', 'true')
  await expect(alice.page.getByTestId('connection-status')).toHaveText('offline')
  expect(await alice.page.evaluate(() => navigator.onLine)).toBe(true)
  await add(alice.page, 'written offline')
  await tree.getByRole('button', { name: /^edit todos: items\[0\]\.done, now false$/ }).click()
  await panel.getByRole('textbox', { name: /^new value of todos: items\[0\]\.done/ }).fill('true')
  await panel.getByRole('textbox', { name: /^new value of todos: items\[0\]\.done/ }).press('Enter')
  await expect(panel.getByTestId('devtools-pending')).toHaveText('2')
  await expect(panel.getByTestId('devtools-pending-change')).toHaveCount(2)
  await expect(panel.getByTestId('devtools-pending-change').first()).toContainText(
    'waiting for ack',
  )
  await expect(items(bob.page)).toHaveText(['buy oat milk'])
  await snap(alice.page, testInfo, 'devtools-offline-pending')

  await offline.click()
  await expect(offline).toHaveAttribute('aria-checked', 'false')
  await expect(panel.getByTestId('devtools-pending')).toHaveText('0')
  await expect(panel.getByTestId('devtools-pending-change')).toHaveCount(0)
  await expect(items(bob.page)).toHaveText(['buy oat milk', 'written offline'])
  await expect(bob.page.getByTestId('todo-item').first().getByRole('checkbox')).toBeChecked()

  // The timeline, with times: the switch, the dropped socket, the reconnect and the acks.
  const timeline = panel.getByTestId('devtools-timeline')
  for (const kind of ['offline', 'dropped', 'online', 'open', 'auth', 'access', 'ack']) {
    await expect(timeline.locator(`li[data-kind="${kind}"]`).first()).toBeVisible()
  }
  await expect(timeline.locator('li[data-kind="ack"] time').first()).toHaveText(
    /^\d\d:\d\d:\d\d\.\d{3}$/,
  )

  // Keyboard: Escape closes the panel.
  await panel.getByRole('tab', { name: 'todos' }).focus()
  await alice.page.keyboard.press('Escape')
  await expect(panelOf(alice.page)).toHaveCount(0)

  expect([...alice.errors, ...bob.errors]).toEqual([])
  await alice.context.close()
  await bob.context.close()
})

test('a refusal by the relay (read-only token) shows on the timeline with its reason', async ({
  browser,
}, testInfo) => {
  const carol = await openDemo(browser, `${demo.url}/?token=${writeToken}`)
  const panel = await openPanel(carol.page)
  const offline = panel.getByRole('switch', { name: /offline/ })
  await offline.click()
  await expect(carol.page.getByTestId('connection-status')).toHaveText('offline')
  await add(carol.page, 'not allowed')
  await expect(panel.getByTestId('devtools-pending')).toHaveText('1')

  // The page's token loses write access before the change reaches the relay; the client
  // reads `?token=` again on its next connect.
  await carol.page.evaluate((read) => history.replaceState(null, '', `/?token=${read}`), readToken)
  await offline.click()
  const refusal = panel.getByTestId('devtools-timeline').locator('li[data-kind="refused"]').first()
  await expect(refusal).toContainText('todos')
  await expect(refusal).toContainText(/forbidden: .*read/)
  await expect(panel.getByTestId('devtools-pending-change')).toContainText(/refused: forbidden/)
  await expect(panel.getByTestId('devtools-pending')).toHaveText('1')
  await expect(
    panel.getByText('access', { exact: true }).locator('xpath=following-sibling::dd[1]'),
  ).toHaveText('read')
  await snap(carol.page, testInfo, 'devtools-refusal')
  await carol.context.close()
})
