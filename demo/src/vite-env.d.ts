/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The relay the demo connects to; `npm start` sets it. @default ws://<page host>:8787 */
  readonly VITE_REMEM_URL?: string
}
