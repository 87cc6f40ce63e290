/**
 * What the service remembers about one device, as pure functions over its record: whom it met
 * recently (no rematch), whom it blocked (a report), who reported it and its ban, where it
 * chats (so a ban can end those chats), and whether it passed the human check. The
 * DeviceBook object (device-book.ts) keeps the records of a shard of devices and applies these.
 * A device with nothing worth remembering has no record at all.
 */
import type { AbuseSettings } from "./config";

export type DeviceRecord = {
  /** Device fingerprint → until when not to pair with it (recent partners and blocks alike). */
  avoid: { [device: string]: number };
  /** Who reported this device (their device fingerprints) and when, inside the report window: one entry per reporter. */
  reports: { [reporter: string]: number };
  bannedUntil: number | null;
  /** The chats this device was last paired in (a few: tabs), so a ban can end them. */
  chattingIn: string[];
  /** Until when this device counts as having passed the human check (when one is configured). */
  humanUntil: number | null;
};

export type DeviceStanding = { bannedUntil: number | null; avoid: string[]; human: boolean };

export const NO_RECORD: DeviceRecord = { avoid: {}, reports: {}, bannedUntil: null, chattingIn: [], humanUntil: null };

/** How many of a device's latest chats a ban ends (one per tab it may have open). */
const RECENT_CHATS = 5;
/** A device that passed the human check is not asked again for this long. */
const HUMAN_FOR_MS = 30 * 86_400_000;
/** Where a device chats matters this long at most: a chat an hour old is long over. */
const WHEREABOUTS_MS = 3600_000;

/** Whether the device may match now, and whom it must not meet. */
export function standing(r: DeviceRecord, now: number): DeviceStanding {
  const avoid = Object.entries(r.avoid).flatMap(([device, until]) => (until > now ? [device] : []));
  return { bannedUntil: r.bannedUntil !== null && r.bannedUntil > now ? r.bannedUntil : null, avoid, human: (r.humanUntil ?? 0) > now };
}

export const passedHumanCheck = (r: DeviceRecord, now: number): DeviceRecord => ({ ...r, humanUntil: now + HUMAN_FOR_MS });

/** Paired with `other` in `sessionId`: skipping it with Next must not hand it straight back. */
export function met(r: DeviceRecord, other: string, sessionId: string, now: number, s: AbuseSettings): DeviceRecord {
  const chattingIn = [sessionId, ...r.chattingIn.filter((id) => id !== sessionId)].slice(0, RECENT_CHATS);
  return avoid({ ...r, chattingIn }, other, now + s.rematchCooldownMs);
}

/** This device reported `other`: they never meet again. */
export const blocked = (r: DeviceRecord, other: string, now: number, s: AbuseSettings): DeviceRecord => avoid(r, other, now + s.blockMs);

/**
 * `by` reported this device. Each reporter counts once however often it reports, so one angry
 * (or scripted) user cannot ban anyone alone: a ban takes REPORT_THRESHOLD different
 * reporters inside the window.
 */
export function reported(r: DeviceRecord, by: string, now: number, s: AbuseSettings): { record: DeviceRecord; newlyBanned: boolean } {
  const reports = Object.fromEntries(Object.entries(r.reports).filter(([, at]) => at > now - s.reportWindowMs));
  reports[by] = now;
  const alreadyBanned = r.bannedUntil !== null && r.bannedUntil > now;
  const newlyBanned = !alreadyBanned && Object.keys(reports).length >= s.reportThreshold;
  return { record: { ...r, reports, bannedUntil: newlyBanned ? now + s.banMs : r.bannedUntil }, newlyBanned };
}

/** Until when the record is worth keeping (null: nothing is, so no record at all), with what has expired dropped. */
export function tidy(r: DeviceRecord, now: number, s: AbuseSettings): { record: DeviceRecord; keepUntil: number | null } {
  const avoid = Object.fromEntries(Object.entries(r.avoid).filter(([, until]) => until > now));
  const reports = Object.fromEntries(Object.entries(r.reports).filter(([, at]) => at > now - s.reportWindowMs));
  const record = { ...r, avoid, reports };
  const keepUntil = Math.max(
    record.chattingIn.length ? now + WHEREABOUTS_MS : 0,
    record.bannedUntil ?? 0,
    record.humanUntil ?? 0,
    ...Object.values(avoid),
    ...Object.values(reports).map((at) => at + s.reportWindowMs),
  );
  return { record, keepUntil: keepUntil > now ? keepUntil : null };
}

function avoid(r: DeviceRecord, other: string, until: number): DeviceRecord {
  return { ...r, avoid: { ...r.avoid, [other]: Math.max(r.avoid[other] ?? 0, until) } };
}
