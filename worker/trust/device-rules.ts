/**
 * What the service remembers about one device, as pure functions over its record: whom it met
 * recently (no rematch), whom it blocked (a report), who reported it and its ban, where it
 * chats (so a ban can end those chats), whether it passed the human check, and its history
 * (which makes its own reports weigh). The
 * DeviceBook object (device-book.ts) keeps the records of a shard of devices and applies these.
 * A device with nothing worth remembering has no record at all.
 */
import type { AbuseSettings } from "../platform/config";

export type DeviceRecord = {
  /** Device fingerprint → until when not to pair with it (recent partners and blocks alike). */
  avoid: { [device: string]: number };
  /** Reports inside the report window, one per reporting network (the weightiest from it). */
  reports: { [network: string]: Report };
  bannedUntil: number | null;
  /** The chats this device was last paired in (a few: tabs), so a ban can end them. */
  chattingIn: string[];
  /** Until when this device counts as having passed the human check (when one is configured). */
  humanUntil: number | null;
  /** Its history: chats that stood (both joined), since when, and the latest; a history takes time and chats to build. */
  chats: number;
  firstChatAt: number | null;
  lastChatAt: number | null;
};

/** A report: which device made it, what it weighs, and when. */
export type Report = { by: string; weight: number; at: number };

/** Who is reported, as the room knows them: what a ban is recorded against. */
export type Reported = { device: string; user: string; network: string };

/** The reporter as the room knows it: fingerprints, and whether its device was vouched for when it matched. */
export type Reporter = { device: string; network: string; vouched: boolean };

/** What the shard knows beyond the device: a ban of its userId, and when its network last had a device banned. */
export type Marks = { userBannedUntil: number | null; networkMarkedAt: number | null };
export const NO_MARKS: Marks = { userBannedUntil: null, networkMarkedAt: null };

export type DeviceStanding = {
  bannedUntil: number | null;
  avoid: string[];
  /** Passed the human check (on a network with a recent ban: passed it since, or has a history). */
  human: boolean;
  /** Its reports weigh in full: it passed the human check or has a history. */
  vouched: boolean;
};

export const NO_RECORD: DeviceRecord = {
  avoid: {},
  reports: {},
  bannedUntil: null,
  chattingIn: [],
  humanUntil: null,
  chats: 0,
  firstChatAt: null,
  lastChatAt: null,
};

/** How many of a device's latest chats a ban ends (one per tab it may have open). */
const RECENT_CHATS = 5;
/** A device that passed the human check is not asked again for this long. */
const HUMAN_FOR_MS = 30 * 86_400_000;
/** Where a device chats matters this long at most: a chat an hour old is long over. */
const WHEREABOUTS_MS = 3600_000;
/** A history: this many chats, the first a day ago at least. Farming one costs a day and real chats per device. */
const SEASONED_CHATS = 5;
const SEASONED_AGE_MS = 86_400_000;
/** A history is remembered this long after the last chat. */
const HISTORY_MS = 30 * 86_400_000;
/**
 * What a report weighs: a deviceId costs nothing, so a report from a device with neither a human
 * check nor a history weighs a third of a vouched one's (whole numbers, so sums are exact).
 */
const VOUCHED_WEIGHT = 3;
const UNVOUCHED_WEIGHT = 1;

/** A record as stored, from any version: fields it predates take their empty value; a bare report time counted in full. */
export function fromStored(json: string): DeviceRecord {
  const stored = JSON.parse(json) as Partial<DeviceRecord> & { reports?: { [key: string]: Report | number } };
  const reports = Object.fromEntries(
    Object.entries(stored.reports ?? {}).map(([key, r]) => [
      key,
      typeof r === "number" ? { by: key, weight: VOUCHED_WEIGHT, at: r } : r,
    ]),
  );
  return { ...NO_RECORD, ...stored, reports };
}

const seasoned = (r: DeviceRecord, now: number): boolean =>
  r.chats >= SEASONED_CHATS && r.firstChatAt !== null && now - r.firstChatAt >= SEASONED_AGE_MS;

/** Whether the device may match now, whom it must not meet, and whether it needs the human check. */
export function standing(r: DeviceRecord, now: number, marks: Marks = NO_MARKS): DeviceStanding {
  const avoid = Object.entries(r.avoid).flatMap(([device, until]) => (until > now ? [device] : []));
  const bannedUntil = Math.max(r.bannedUntil ?? 0, marks.userBannedUntil ?? 0);
  const passedAt = r.humanUntil !== null && r.humanUntil > now ? r.humanUntil - HUMAN_FOR_MS : null;
  // After a ban on its network, a device counts as human only if it passed the check since, or has a history.
  const human =
    passedAt !== null && (marks.networkMarkedAt === null || passedAt >= marks.networkMarkedAt || seasoned(r, now));
  return {
    bannedUntil: bannedUntil > now ? bannedUntil : null,
    avoid,
    human,
    vouched: passedAt !== null || seasoned(r, now),
  };
}

export const passedHumanCheck = (r: DeviceRecord, now: number): DeviceRecord => ({
  ...r,
  humanUntil: now + HUMAN_FOR_MS,
});

/** Paired with `other` in `sessionId`, and both joined: a chat in its history, and Next must not hand `other` straight back. */
export function met(r: DeviceRecord, other: string, sessionId: string, now: number, s: AbuseSettings): DeviceRecord {
  const chattingIn = [sessionId, ...r.chattingIn.filter((id) => id !== sessionId)].slice(0, RECENT_CHATS);
  return avoid(
    { ...r, chattingIn, chats: r.chats + 1, firstChatAt: r.firstChatAt ?? now, lastChatAt: now },
    other,
    now + s.rematchCooldownMs,
  );
}

/** This device reported `other`: they never meet again. */
export const blocked = (r: DeviceRecord, other: string, now: number, s: AbuseSettings): DeviceRecord =>
  avoid(r, other, now + s.blockMs);

/**
 * A report against this device (the room counted it only if this device joined and spoke).
 * Reporters are weighed by what is costly to fake: one report per network (the weightiest), a
 * device counted once whatever network it reports from, and a device with neither a human check
 * nor a history weighing a third. The ban comes when the weights inside the window reach
 * REPORT_THRESHOLD vouched reports: that many independent networks at the very least.
 */
export function reported(
  r: DeviceRecord,
  by: Reporter,
  now: number,
  s: AbuseSettings,
): { record: DeviceRecord; newlyBanned: boolean } {
  // A device counts once, whatever network it reports from.
  const live = Object.entries(r.reports).filter(
    ([network, report]) => report.at > now - s.reportWindowMs && (network === by.network || report.by !== by.device),
  );
  const reports: DeviceRecord["reports"] = Object.fromEntries(live);
  const weight = by.vouched ? VOUCHED_WEIGHT : UNVOUCHED_WEIGHT;
  const before = reports[by.network];
  // One report per network, the weightiest reporter's; the same reporter again only refreshes its own.
  if (!before || before.by === by.device)
    reports[by.network] = { by: by.device, weight: Math.max(weight, before?.weight ?? 0), at: now };
  else if (before.weight < weight) reports[by.network] = { by: by.device, weight, at: now };
  const total = Object.values(reports).reduce((sum, report) => sum + report.weight, 0);
  const alreadyBanned = r.bannedUntil !== null && r.bannedUntil > now;
  const newlyBanned = !alreadyBanned && total >= s.reportThreshold * VOUCHED_WEIGHT;
  return { record: { ...r, reports, bannedUntil: newlyBanned ? now + s.banMs : r.bannedUntil }, newlyBanned };
}

/** Until when the record is worth keeping (null: nothing is, so no record at all), with what has expired dropped. */
export function tidy(
  r: DeviceRecord,
  now: number,
  s: AbuseSettings,
): { record: DeviceRecord; keepUntil: number | null } {
  const avoid = Object.fromEntries(Object.entries(r.avoid).filter(([, until]) => until > now));
  const reports = Object.fromEntries(
    Object.entries(r.reports).filter(([, report]) => report.at > now - s.reportWindowMs),
  );
  // Where a device chatted matters only for an hour after its last chat (a record from before lastChatAt was kept has none to go by).
  const chattingIn = r.lastChatAt !== null && r.lastChatAt + WHEREABOUTS_MS > now ? r.chattingIn : [];
  const record = { ...r, avoid, reports, chattingIn };
  const keepUntil = Math.max(
    chattingIn.length ? r.lastChatAt! + WHEREABOUTS_MS : 0,
    record.bannedUntil ?? 0,
    record.humanUntil ?? 0,
    record.lastChatAt !== null ? record.lastChatAt + HISTORY_MS : 0,
    ...Object.values(avoid),
    ...Object.values(reports).map((report) => report.at + s.reportWindowMs),
  );
  return { record, keepUntil: keepUntil > now ? keepUntil : null };
}

function avoid(r: DeviceRecord, other: string, until: number): DeviceRecord {
  return { ...r, avoid: { ...r.avoid, [other]: Math.max(r.avoid[other] ?? 0, until) } };
}
