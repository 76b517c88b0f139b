/**
 * An isolated place in the page for the panel: an element appended to `<body>`, taking no
 * room (its children are fixed-position), with a shadow root holding the panel's own
 * stylesheet. The page's styles do not reach inside, the panel's do not leak out, and the
 * page's layout never moves.
 */
import { useEffect, useState } from 'react'
import { styles } from './styles.ts'

export function useShadowContainer(): HTMLElement | null {
  const [container, setContainer] = useState<HTMLElement | null>(null)
  useEffect(() => {
    const host = document.createElement('div')
    host.setAttribute('data-remem-devtools', '')
    host.style.cssText =
      'position:fixed;top:0;left:0;width:0;height:0;overflow:visible;z-index:2147483647'
    const shadow = host.attachShadow({ mode: 'open' })
    const style = document.createElement('style')
    style.textContent = styles
    const mount = document.createElement('div')
    mount.className = 'root'
    shadow.append(style, mount)
    document.body.append(host)
    setContainer(mount)
    return () => {
      host.remove()
      setContainer(null)
    }
  }, [])
  return container
}
