/** Browsers, Node and workerd disagree on timer handle types; they agree on this. */
export type Timer = ReturnType<typeof setTimeout>;

export function stopTimer(timer: Timer | undefined): void {
  if (timer !== undefined) clearTimeout(timer);
}
