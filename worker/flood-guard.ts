/**
 * Per-participant message budget inside a room. The room is single-threaded, so an
 * in-memory token bucket is exact; the Rate Limiting binding would cost a call per frame.
 * A burst (a pasted paragraph split in lines) is fine; a sustained flood is refused, and a
 * sender who keeps going after being refused is cut off.
 */
export const MESSAGE_BURST = 20;
export const MESSAGES_PER_SECOND = 2;
/** Refused frames tolerated inside FLOOD_WINDOW_MS before the socket is closed. */
export const FLOOD_STRIKES = 40;
const FLOOD_WINDOW_MS = 10_000;

export type Verdict = "accept" | "refuse" | "disconnect";

export class FloodGuard {
  private tokens = MESSAGE_BURST;
  private refilledAt: number;
  private strikes = 0;
  private strikeWindowStart = 0;

  constructor(now: number) {
    this.refilledAt = now;
  }

  take(now: number): Verdict {
    this.tokens = Math.min(MESSAGE_BURST, this.tokens + ((now - this.refilledAt) / 1000) * MESSAGES_PER_SECOND);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return "accept";
    }
    if (now - this.strikeWindowStart > FLOOD_WINDOW_MS) {
      this.strikeWindowStart = now;
      this.strikes = 0;
    }
    this.strikes += 1;
    return this.strikes > FLOOD_STRIKES ? "disconnect" : "refuse";
  }
}
