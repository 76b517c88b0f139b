/**
 * The shared todo list in two browsers (two contexts, each its own storage): additions,
 * done, reordering and deletion reach the other browser, and undo/redo of one browser's
 * edit apply in both.
 */
import { type Page, expect, test } from '@playwright/test'
import { openDemo, snap } from '../helpers/demoPage.ts'
import { type Demo, startDemo } from '../helpers/startDemo.ts'

let demo: Demo

test.beforeAll(async () => {
  demo = await startDemo()
})

test.afterAll(async () => {
  await demo?.stop()
})

const items = (page: Page) => page.getByTestId('todo-item')

async function add(page: Page, text: string): Promise<void> {
  await page.getByTestId('todo-input').fill(text)
  await page.getByTestId('todo-input').press('Enter')
}

test('a todo added in one browser appears in the other, and undo removes it in both', async ({
  browser,
}, testInfo) => {
  const alice = await openDemo(browser, demo)
  const bob = await openDemo(browser, demo)
  // Whatever earlier tests left (the memory is shared by everyone on this demo server).
  const before = await items(alice.page).allTextContents()
  await expect(items(bob.page)).toHaveText(before)

  await add(alice.page, 'buy milk')
  await expect(alice.page.getByTestId('todo-input')).toHaveValue('')
  await expect(items(alice.page)).toHaveText([...before, 'buy milk'])
  await expect(items(bob.page)).toHaveText([...before, 'buy milk'])
  await snap(bob.page, testInfo, 'bob-sees-alices-todo')

  await alice.page.getByTestId('todo-undo').click()
  await expect(items(alice.page)).toHaveText(before)
  await expect(items(bob.page)).toHaveText(before)
  await snap(bob.page, testInfo, 'bob-after-alices-undo')

  await alice.page.getByTestId('todo-redo').click()
  await expect(items(alice.page)).toHaveText([...before, 'buy milk'])
  await expect(items(bob.page)).toHaveText([...before, 'buy milk'])

  // Bob's undo never touches Alice's edit: he has nothing to undo.
  await expect(bob.page.getByTestId('todo-undo')).toBeDisabled()

  expect([...alice.errors, ...bob.errors]).toEqual([])
  await alice.context.close()
  await bob.context.close()
})

test('done, reordering and deletion reach the other browser', async ({ browser }, testInfo) => {
  const alice = await openDemo(browser, demo)
  const bob = await openDemo(browser, demo)
  const before = await items(alice.page).allTextContents()
  await expect(items(bob.page)).toHaveText(before)

  // Unique texts: the list may hold todos of earlier tests.
  const water = `water plants ${Date.now()}`
  const call = `call mum ${Date.now()}`
  await add(alice.page, water)
  await add(bob.page, call)
  const all = [...before, water, call]
  await expect(items(alice.page)).toHaveText(all)
  await expect(items(bob.page)).toHaveText(all)

  // Bob ticks Alice's todo.
  const watered = (page: Page) => items(page).filter({ hasText: water })
  await watered(bob.page).getByTestId('todo-done').check()
  await expect(watered(alice.page).getByTestId('todo-done')).toBeChecked()

  // Alice moves Bob's todo to the top.
  for (let i = 0; i < all.length - 1; i++) {
    await items(alice.page).filter({ hasText: call }).getByTestId('todo-up').click()
  }
  const reordered = [call, ...before, water]
  await expect(items(alice.page)).toHaveText(reordered)
  await expect(items(bob.page)).toHaveText(reordered)

  // Bob deletes it.
  await items(bob.page).filter({ hasText: call }).getByTestId('todo-delete').click()
  const rest = [...before, water]
  await expect(items(alice.page)).toHaveText(rest)
  await expect(items(bob.page)).toHaveText(rest)
  await snap(alice.page, testInfo, 'alice-after-bobs-delete')

  expect([...alice.errors, ...bob.errors]).toEqual([])
  await alice.context.close()
  await bob.context.close()
})
