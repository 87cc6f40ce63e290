/**
 * Typing, both ways. This side's keystrokes become a few frames (typing frames count against
 * the room's frame budget): "typing" at most every few seconds, "stopped" after a pause. The
 * partner's indicator turns itself off after a while, since the "stopped" frame can be lost
 * with a dropped socket.
 */
import { after, stopTimer, type Timer } from "./timers.ts";

/** Announce at most this often, say "stopped" after this long without a keystroke, hide the partner's after this long. */
const REFRESH_MS = 3_000;
const IDLE_MS = 4_000;
const SHOWN_MS = 6_000;

export class Typing {
  private sentAt = 0;
  private idleTimer: Timer | undefined;
  private partnerTyping = false;
  private partnerTimer: Timer | undefined;

  constructor(
    /** Sends a typing frame. */
    private readonly announce: (isTyping: boolean) => void,
    /** The partner started or stopped typing. */
    private readonly show: (isTyping: boolean) => void,
  ) {}

  keystroke(): void {
    const now = Date.now();
    if (now - this.sentAt >= REFRESH_MS) {
      this.sentAt = now;
      this.announce(true);
    }
    stopTimer(this.idleTimer);
    this.idleTimer = after(IDLE_MS, () => {
      this.sentAt = 0;
      this.announce(false);
    });
  }

  /** A message went out: it says typing stopped by itself, and the next keystroke announces again. */
  sent(): void {
    this.sentAt = 0;
    stopTimer(this.idleTimer);
  }

  partner(isTyping: boolean): void {
    stopTimer(this.partnerTimer);
    if (isTyping) this.partnerTimer = after(SHOWN_MS, () => this.partner(false));
    if (isTyping === this.partnerTyping) return;
    this.partnerTyping = isTyping;
    this.show(isTyping);
  }

  /** This side's connection is gone: nothing more to say about its typing. */
  stop(): void {
    stopTimer(this.idleTimer);
  }
}
