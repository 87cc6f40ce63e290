/**
 * Finding a stranger: read the waiting list, then ask candidates' seats, one at a time, to
 * be claimed. The list only suggests; each seat decides atomically, so a stale list can
 * never pair anyone twice, with themselves, or with someone who is not there.
 */
import { widening, type Timings } from "./config";
import type { Pairing } from "./protocol";
import { before, sharedInterests, type QueueEntry, type Scope } from "./queue-entry";
import type { Found, Seeker } from "./seat-rules";
import { seatStub } from "./stubs";
import { waitingListFor, type WaitingList } from "./waiting-list";
import { relaxationBetween } from "./widening";
import { log } from "./log";

/** Candidates tried per search: enough to get past a few taken seats, bounded so a request stays fast. */
const CLAIM_ATTEMPTS = 4;
/** Spread concurrent seekers over the longest waiters instead of all hitting the very oldest. */
const CANDIDATE_WINDOW = 16;
/**
 * How much of a queue a search reads: the longest waiters, with room for entries it must skip
 * (its own, avoided ones). A waiter further back than this cannot tell its place, and claims
 * among the longest waiters instead.
 */
const READ_LIMIT = 64;

export class Search {
  private readonly list: WaitingList;

  constructor(
    private readonly env: Env,
    t: Timings,
    private readonly seeker: Seeker,
  ) {
    this.list = waitingListFor(env, t);
  }

  /** A newcomer holds no seat yet, so nobody can claim it meanwhile: it may take anyone in its exact queue. */
  async asNewcomer(): Promise<Pairing | null> {
    const strangers = await this.candidates("exact");
    const usual = shuffle(strangers.slice(0, CANDIDATE_WINDOW));
    return (await this.tryClaims(kindredFirst(this.seeker.interests, strangers, usual)))?.pairing ?? null;
  }

  /**
   * A waiter's own search (its seat stays open to claims meanwhile: whichever pairing reaches it
   * first stands, the other is given back). In its exact queue it
   * pairs off in order: whoever stands at an odd position takes the one just ahead, the others
   * wait to be taken, so waiters who search together pair up in one round instead of all
   * fighting over the oldest. After a while it widens, and then only claims people who queued
   * before it, so two waiters never try to take each other.
   */
  async asWaiter(own: QueueEntry): Promise<Found | null> {
    const exact = await this.candidates("exact", own);
    const position = exact.findIndex((e) => e.seatId === own.seatId);
    if (position % 2 !== 0) {
      const ahead = (position > 0 ? exact.slice(0, position) : exact.filter((e) => before(e, own))).filter((c) => this.isStranger(c));
      // The neighbour first; if it cannot be taken (a stale list, the same device), a few others.
      // Beyond the part of the queue read (position -1) there is no neighbour: a few of the longest waiters, at random.
      const neighbour = position > 0 ? ahead.slice(-1) : [];
      const others = shuffle(position > 0 ? ahead.slice(0, -1) : ahead).slice(0, CLAIM_ATTEMPTS - neighbour.length);
      // Someone ahead who shares an interest comes before the neighbour.
      const found = await this.tryClaims(kindredFirst(this.seeker.interests, ahead, [...neighbour, ...others]));
      if (found) return found;
    }
    return this.tryClaims(await this.widened(own));
  }

  /** Same language, any emotion; then any language if both allow it. Exact matches were tried first. */
  private async widened(me: QueueEntry): Promise<QueueEntry[]> {
    const w = widening(this.env);
    const now = Date.now();
    const scopes: Scope[] = [];
    if (now - me.enqueuedAt >= w.emotionAfterMs) scopes.push("language");
    if (me.anyLanguage && now - me.enqueuedAt >= w.languageAfterMs) scopes.push("any");
    for (const scope of scopes) {
      // Other queues only, and the closest first: relaxing one criterion beats relaxing two.
      const older = (await this.candidates(scope, me)).flatMap((c) => {
        const relaxed = before(c, me) ? relaxationBetween(me, c, now, w) : null;
        return relaxed?.length ? [{ c, distance: relaxed.length }] : [];
      });
      if (older.length === 0) continue;
      const closest = Math.min(...older.map((o) => o.distance));
      const best = older.filter((o) => o.distance === closest).map((o) => o.c);
      return shuffle(best.slice(0, CANDIDATE_WINDOW)).slice(0, CLAIM_ATTEMPTS);
    }
    return [];
  }

  private async candidates(scope: Scope, me?: QueueEntry): Promise<QueueEntry[]> {
    const entries = await this.list.fresh(this.seeker.criteria, scope, Date.now(), READ_LIMIT);
    return entries.filter((c) => c.seatId === me?.seatId || this.isStranger(c));
  }

  /** Not ourselves, and not someone we just skipped or blocked (the seat re-checks both directions). */
  private isStranger(c: QueueEntry): boolean {
    const s = this.seeker;
    return c.user !== s.user && c.device !== s.device && !s.avoid.includes(c.device);
  }

  private async tryClaims(candidates: QueueEntry[]): Promise<Found | null> {
    for (const candidate of candidates) {
      try {
        const result = await seatStub(this.env, candidate.seatId).claim(candidate.seatId, this.seeker);
        if (result.ok) return { seatId: candidate.seatId, pairing: result.pairing };
      } catch (err) {
        // One broken seat must not fail the whole search: try the next.
        log("match.claim_failed", { seat: candidate.seatId, error: String(err) }, "warn");
      }
    }
    return null;
  }
}

/** Claims a search spends on strangers who share an interest; the rest go to the usual candidates. */
const KINDRED_ATTEMPTS = CLAIM_ATTEMPTS - 2;

/**
 * The claims to try: a few strangers sharing an interest with the seeker (most in common
 * first, at random among equals so that concurrent seekers spread out), then the usual ones.
 * Having interests only reorders the tries and always leaves room for the usual ones, so it
 * never costs anyone a match. (Seats opened before interests existed have none.)
 */
function kindredFirst(mine: readonly string[] = [], strangers: QueueEntry[], usual: QueueEntry[]): QueueEntry[] {
  // Most seekers name no interest: their search does no more than it did before interests.
  if (mine.length === 0) return usual.slice(0, CLAIM_ATTEMPTS);
  const kindred = shuffle(strangers.map((c) => ({ c, shared: sharedInterests(mine, c.interests).length })).filter((k) => k.shared > 0))
    .sort((a, b) => b.shared - a.shared)
    .slice(0, KINDRED_ATTEMPTS)
    .map((k) => k.c);
  return [...new Set([...kindred, ...usual])].slice(0, CLAIM_ATTEMPTS);
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
