/**
 * Widening: a user who finds nobody in its exact queue is offered a wider one after a
 * while — the same language with any emotion, then, if it said so, any language. Both
 * sides must have waited past the threshold, so a newcomer always gets exact matches
 * first and nobody is pulled out of their own queue early.
 */
import type { Relaxed, Widening } from "@strangers/protocol";
import type { Criteria } from "@strangers/protocol/schemas";

export type WideningSettings = { emotionAfterMs: number; languageAfterMs: number };

export type Waiter = Criteria & { enqueuedAt: number; anyLanguage: boolean };

/** What must be relaxed for `a` and `b` to meet now, or null if they may not (yet). */
export function relaxationBetween(a: Waiter, b: Waiter, now: number, w: WideningSettings): Relaxed[] | null {
  if (a.mode !== b.mode) return null;
  const waitedPast = (ms: number) => now - a.enqueuedAt >= ms && now - b.enqueuedAt >= ms;
  const relaxed: Relaxed[] = [];
  if (a.language !== b.language) {
    if (!(a.anyLanguage && b.anyLanguage && waitedPast(w.languageAfterMs))) return null;
    relaxed.push("language");
  }
  if (a.emotion !== b.emotion) {
    if (!waitedPast(w.emotionAfterMs)) return null;
    relaxed.push("emotion");
  }
  return relaxed;
}

/** How long until a wait that began at `enqueuedAt` widens, as the API and the waiting socket say it. */
export function wideningIn(w: WideningSettings, enqueuedAt: number, anyLanguage: boolean, now: number): Widening {
  const after = (ms: number) => Math.max(0, enqueuedAt + ms - now);
  return { emotionAfterMs: after(w.emotionAfterMs), languageAfterMs: anyLanguage ? after(w.languageAfterMs) : null };
}
