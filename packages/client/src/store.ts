/**
 * Where the client keeps what must outlive a page or an app run (the current wait or chat,
 * the first-visit consent): any store shaped like `localStorage`, `sessionStorage` or React
 * Native's AsyncStorage, synchronous or not, since every read is awaited.
 */
export interface SessionStore {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** A store that lasts as long as the process: the default where the runtime has no storage of its own. */
export function memoryStore(): SessionStore {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

/**
 * One JSON record under one key. A record that is not JSON or fails `valid` (written by an
 * older version, or by hand) reads as nothing rather than as an error.
 */
export class Kept<T> {
  constructor(
    private readonly store: SessionStore,
    private readonly key: string,
    private readonly valid: (value: unknown) => value is T,
  ) {}

  async read(): Promise<T | null> {
    const raw = await this.store.getItem(this.key);
    if (!raw) return null;
    try {
      const value: unknown = JSON.parse(raw);
      return this.valid(value) ? value : null;
    } catch {
      return null;
    }
  }

  async write(value: T): Promise<void> {
    await this.store.setItem(this.key, JSON.stringify(value));
  }

  async clear(): Promise<void> {
    await this.store.removeItem(this.key);
  }
}
