/**
 * Timers, typed here rather than by a runtime's library: browsers, Node, workerd and React
 * Native all have `setTimeout`, `setInterval` and `clearTimeout` (which clears either), but
 * disagree on the handle's type, and the package compiles with neither the DOM's types nor Node's.
 */
export type Timer = number | object;

const clock = globalThis as unknown as {
  setTimeout(callback: () => void, ms: number): Timer;
  setInterval(callback: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
};

/** Runs `callback` once, after `ms`. */
export const after = (ms: number, callback: () => void): Timer => clock.setTimeout(callback, ms);

/** Runs `callback` every `ms` until stopped. */
export const every = (ms: number, callback: () => void): Timer => clock.setInterval(callback, ms);

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => after(ms, resolve));

export function stopTimer(timer: Timer | undefined): void {
  if (timer !== undefined) clock.clearTimeout(timer);
}
