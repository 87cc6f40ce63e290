/**
 * A budget kept where the decisions about its owner are already made: a participant's frames in
 * its room, a device's match requests in its `DeviceBook` shard. That object is single-threaded,
 * so an in-memory token bucket is exact (and, for a device, counted globally rather than per
 * location); the Rate Limiting binding would cost a call per frame or request. A burst (a pasted
 * paragraph split in lines, a quick Next) is fine; a sustained flood is refused, and a sender
 * who keeps going after being refused is cut off.
 */
export type Budget = { burst: number; perSecond: number };

/** A room's frames, per participant. */
export const FRAMES: Budget = { burst: 20, perSecond: 2 };
/** Refused frames tolerated inside FLOOD_WINDOW_MS before the socket is closed. */
export const FLOOD_STRIKES = 40;
const FLOOD_WINDOW_MS = 10_000;

export type Verdict = "accept" | "refuse" | "disconnect";

export class FloodGuard {
  private tokens: number;
  private refilledAt: number;
  private strikes = 0;
  private strikeWindowStart = 0;

  constructor(
    now: number,
    private readonly budget: Budget = FRAMES,
  ) {
    this.tokens = budget.burst;
    this.refilledAt = now;
  }

  take(now: number): Verdict {
    const { burst, perSecond } = this.budget;
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * perSecond);
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

  /** Whole seconds until the next token. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.budget.perSecond));
  }
}
