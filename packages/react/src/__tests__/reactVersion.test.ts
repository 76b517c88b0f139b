/**
 * The `react` and `react18` Vitest projects run these tests against React 19 and React 18
 * (vitest.config.ts): check that each project really has the React it claims.
 */
import { renderHook } from '@testing-library/react'
import { useState, version as reactVersion } from 'react'
import { version as reactDomVersion } from 'react-dom'
import { expect, it } from 'vitest'

it('runs against the React major version its project names', () => {
  const expected = process.env.REMEM_EXPECT_REACT
  expect(expected, 'set by vitest.config.ts for the react projects').toMatch(/^\d+$/)
  expect(reactVersion.split('.')[0]).toBe(expected)
  expect(reactDomVersion.split('.')[0]).toBe(expected)
})

it('renders hooks with the same copy of React as Testing Library', () => {
  // With two copies, useState here would throw "Invalid hook call".
  const { result } = renderHook(() => useState(42)[0])
  expect(result.current).toBe(42)
})
