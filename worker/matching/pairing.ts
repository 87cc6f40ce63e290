/**
 * Who may meet whom, and what a pairing is: the strangers' facts a lobby weighs, and what each
 * of the two is told and the room is given once they are paired. Pure functions; the lobby's
 * rules decide when (lobby-rules.ts), widening.ts decides across which criteria.
 */
import { chatUrl, type Pairing, type Relaxed } from "@strangers/protocol";
import type { Criteria } from "@strangers/protocol/schemas";
import type { RoomSetup, Side } from "../room/rules";

/** A queue's name as the API shows it: mode, emotion and language. */
export const queueKeyOf = (c: Criteria): string => `${c.mode}:${c.emotion}:${c.language}`;

/** Interests two people both chose, in the first one's order. */
export const sharedInterests = (a: readonly string[] = [], b: readonly string[] = []): string[] =>
  a.filter((tag) => b.includes(tag));

/** Someone looking for a stranger: fingerprints, never raw ids. */
export type Seeker = {
  name: string;
  user: string;
  device: string;
  /** The fingerprint of the network it asks from (a ban is recorded against it too). */
  network: string;
  /** Its device passed the human check or has a history: its reports weigh in full. */
  vouched: boolean;
  /** Devices this one must not meet (recent partners, blocked). */
  avoid: string[];
  criteria: Criteria;
  anyLanguage: boolean;
  interests: string[];
  /** Where this person reaches the service, for the socket URLs it is given. */
  origin: string;
};

/** Two people who may meet: not the same person or device, and neither avoids the other. */
export const compatible = (a: Seeker, b: Seeker): boolean =>
  a.user !== b.user && a.device !== b.device && !a.avoid.includes(b.device) && !b.avoid.includes(a.device);

/** One of the two: since when it looked, and the wait it came from (none for a newcomer paired at once). */
export type Party = { seeker: Seeker; enqueuedAt: number; returnTo: { lobby: string; seatId: string } | null };

/** Fresh ids for a pairing: the session, and each side's alias and secret token. */
export type PairIds = { sessionId: string; aliases: [string, string]; tokens: [string, string] };

/** A pairing of two parties: what each is told, and the room's setup. */
export function pair(
  a: Party,
  b: Party,
  relaxed: Relaxed[],
  { sessionId, aliases, tokens }: PairIds,
  now: number,
): { forA: Pairing; forB: Pairing; setup: RoomSetup } {
  const shared = sharedInterests(a.seeker.interests, b.seeker.interests);
  const side = (p: Party, i: 0 | 1): Side => ({
    alias: aliases[i],
    name: p.seeker.name,
    token: tokens[i],
    device: p.seeker.device,
    user: p.seeker.user,
    network: p.seeker.network,
    vouched: p.seeker.vouched,
    queueKey: queueKeyOf(p.seeker.criteria),
    waitedMs: now - p.enqueuedAt,
    returnTo: p.returnTo,
  });
  const [sa, sb] = [side(a, 0), side(b, 1)];
  const told = (p: Party, me: Side, partner: Side): Pairing => ({
    sessionId,
    token: me.token,
    wsUrl: chatUrl(p.seeker.origin, sessionId),
    partnerId: partner.alias,
    partnerName: partner.name,
    relaxed,
    shared,
  });
  const languages = [...new Set([a.seeker.criteria.language, b.seeker.criteria.language])];
  return {
    forA: told(a, sa, sb),
    forB: told(b, sb, sa),
    setup: { sessionId, relaxed, shared, languages, sides: [sa, sb] },
  };
}
