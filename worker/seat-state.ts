/**
 * What a waiting seat is: its owner, its states, what it asks the object to do, and what it
 * answers; and the two facts every rule needs, where it is listed and whether its owner is
 * there. The transitions are seat-rules.ts.
 */
import type { LogFields } from "./log";
import type { Pairing, ServerFrame, CloseReason } from "./protocol";
import { queueKeyOf, type Criteria, type QueueEntry } from "./queue-entry";
import type { RoomSetup } from "./room-rules";
import type { WideningSettings } from "./widening";

/** Someone looking for a stranger: fingerprints, never raw ids. */
export type Seeker = {
  name: string;
  user: string;
  device: string;
  /** Devices this one must not meet (recent partners, blocked). */
  avoid: string[];
  criteria: Criteria;
  anyLanguage: boolean;
  interests: string[];
  /** When this person started looking: now for a newcomer; widening weighs how long both waited. */
  enqueuedAt: number;
  /** Where this person reaches the service, for the socket URLs it is given. */
  origin: string;
};

export type SeatRules = {
  queueTtlMs: number;
  /** A present waiter looks again this often: the queue changes as people come and go. */
  searchEveryMs: number;
  pollPresenceMs: number;
  heartbeatTimeoutMs: number;
  connectWindowMs: number;
  widening: WideningSettings;
};

/** What the seat's owner proved last, besides polls: the newest sign of life of an open waiting socket. */
export type Presence = { socketSeenAt: number | null };

type Seat = {
  seatId: string;
  token: string;
  owner: Seeker;
  /** The owner's last poll (or the request that opened the seat). */
  polledAt: number;
  /** The `seenAt` the list entry carries now. */
  listedSeenAt: number;
  /** When the owner's own search last began. */
  searchedAt: number;
};

export type SeatState =
  /** `offList`: taken off the waiting list while its owner is away (a claim found nobody there); listed again when the owner is back. */
  | (Seat & { kind: "waiting"; searchingUntil: number | null; offList?: true })
  | (Seat & { kind: "claimed"; claim: { sessionId: string; ownerPairing: Pairing; until: number } })
  | (Seat & { kind: "matched"; pairing: Pairing; until: number })
  | { kind: "ended"; seatId: string; reason: CloseReason };

export type SeatEffect =
  | { type: "list.put"; entry: QueueEntry }
  | { type: "list.remove"; entry: QueueEntry }
  | { type: "room.open"; setup: RoomSetup }
  /** Give back a claim this seat's own search made and can no longer use. */
  | { type: "release"; seatId: string; sessionId: string }
  /** To the owner's waiting sockets. */
  | { type: "send"; frame: ServerFrame }
  | { type: "close"; code: number; reason: string }
  /** Look for an older seat to claim, as this seat's owner. */
  | { type: "search" }
  | { type: "log"; event: string; fields: LogFields; level?: "info" | "warn" }
  /** Forget everything stored: the seat is over. */
  | { type: "erase" };

/** `persist: false`: nothing worth saving changed (a search's shield: after a restart no search is under way anyway). */
export type Step<R = undefined> = { state: SeatState; effects: SeatEffect[]; reply: R; persist?: false };

export type Standing =
  | { kind: "waiting"; seatId: string; queueKey: string; enqueuedAt: number; anyLanguage: boolean }
  | { kind: "matched"; pairing: Pairing }
  | { kind: "gone" };

export type ClaimRefusal = "gone" | "taken" | "absent" | "self" | "avoided" | "incompatible";
export type ClaimResult = { ok: true; pairing: Pairing } | { ok: false; reason: ClaimRefusal };

/** Ids a claim needs, made by the caller so these functions stay pure. */
export type ClaimIds = { sessionId: string; ownerAlias: string; ownerToken: string; claimerAlias: string; claimerToken: string };

/** A seat runs one search of its own at a time; one that never reports back is given up after this. */
export const SEARCH_TIMEOUT_MS = 10_000;

/** What a seat's own search found: a claim on another seat (`seatId`) and the pairing it makes. */
export type Found = { seatId: string; pairing: Pairing };

export type Live = Exclude<SeatState, { kind: "ended" }>;

export const queueKeyOfSeat = (s: Live): string => queueKeyOf(s.owner.criteria);

export function entryOf({ seatId, listedSeenAt, owner }: Live): QueueEntry {
  const { criteria, enqueuedAt, user, device, anyLanguage, interests } = owner;
  return { ...criteria, seatId, enqueuedAt, seenAt: listedSeenAt, user, device, anyLanguage, interests };
}

/** The newest proof that the owner is there: a poll, or a live waiting socket. */
export function lastSign(s: Live, p: Presence): number {
  return Math.max(s.polledAt, p.socketSeenAt ?? 0);
}

/** Offered to newcomers only while someone is really there: a live socket, or a poll within two intervals. */
export function isPresent(s: Live, now: number, p: Presence, r: SeatRules): boolean {
  const socketAlive = p.socketSeenAt !== null && now - p.socketSeenAt <= r.heartbeatTimeoutMs;
  return socketAlive || now - s.polledAt <= r.pollPresenceMs;
}

export function standingOf(s: SeatState): Standing {
  if (s.kind === "ended") return { kind: "gone" };
  if (s.kind === "matched") return { kind: "matched", pairing: s.pairing };
  return { kind: "waiting", seatId: s.seatId, queueKey: queueKeyOfSeat(s), enqueuedAt: s.owner.enqueuedAt, anyLanguage: s.owner.anyLanguage };
}

