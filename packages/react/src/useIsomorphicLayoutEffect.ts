'use client'
import { type DependencyList, type EffectCallback, useEffect, useLayoutEffect } from 'react'

/**
 * `useLayoutEffect` in the browser, `useEffect` on the server: effects never run on the
 * server, and React 18 warns about `useLayoutEffect` there. Which one is chosen never changes
 * within one environment, so the hook order stays the same.
 */
export function useIsomorphicLayoutEffect(effect: EffectCallback, deps?: DependencyList): void {
  const useEffectHere = typeof document === 'undefined' ? useEffect : useLayoutEffect
  useEffectHere(effect, deps)
}
