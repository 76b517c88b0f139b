/**
 * A map from memory name to what a connection opened under it, that keeps its first entry in
 * two fields and makes a `Map` only for a second one. A connection usually opens one memory,
 * and a relay holds thousands of idle connections: a `Map` and its table cost each about
 * 190 bytes, the two fields 16.
 */
export class OpeningsOfSession<V> {
  private onlyName: string | null = null
  private only: V | undefined = undefined
  private more: Map<string, V> | null = null

  get size(): number {
    return this.more ? this.more.size : this.onlyName === null ? 0 : 1
  }

  get(name: string): V | undefined {
    if (this.more) return this.more.get(name)
    return name === this.onlyName ? this.only : undefined
  }

  set(name: string, value: V): void {
    if (this.more) {
      this.more.set(name, value)
    } else if (this.onlyName === null || this.onlyName === name) {
      this.onlyName = name
      this.only = value
    } else {
      this.more = new Map([[this.onlyName, this.only as V], [name, value]])
      this.onlyName = null
      this.only = undefined
    }
  }

  delete(name: string): void {
    if (this.more) {
      this.more.delete(name)
    } else if (name === this.onlyName) {
      this.onlyName = null
      this.only = undefined
    }
  }

  /** The names, in the order they were opened (a copy: entries may be deleted meanwhile). */
  names(): string[] {
    if (this.more) return [...this.more.keys()]
    return this.onlyName === null ? [] : [this.onlyName]
  }
}
