export { RememDevtools } from './RememDevtools.tsx'
export type { RememDevtoolsProps } from './RememDevtools.tsx'
