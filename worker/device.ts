/**
 * Device: what the service remembers about one device, keyed by its fingerprint (never the
 * raw deviceId): whom it met recently (no rematch), whom it blocked (a report), the reports
 * against it and its ban. One object per device keeps each decision exact without KV's
 * read-modify-write races; it holds a few hundred bytes and expires its own entries.
 */
import { DurableObject } from "cloudflare:workers";
import { abuseSettings, type AbuseSettings } from "./config";
import { log } from "./log";
import type { ReportReason } from "./protocol";
import { roomStub, seatStub } from "./stubs";

type Record = {
  /** Device fingerprint → until when not to pair with it (recent partners and blocks alike). */
  avoid: { [device: string]: number };
  /** Who reported this device (their device fingerprints) and when, inside the report window: one entry per reporter. */
  reports: { [reporter: string]: number };
  bannedUntil: number | null;
  /** The seat this device last started waiting in, so a request without a ticket can replace that wait. */
  waitingIn: string | null;
  /** The chats this device was last paired in (a few: tabs), so a ban can end them. */
  chattingIn: string[];
  /** Until when this device counts as having passed the human check (when one is configured). */
  humanUntil: number | null;
};

export type DeviceStanding = { bannedUntil: number | null; avoid: string[]; waitingIn: string | null; human: boolean };

/** How many of a device's latest chats a ban ends (one per tab it may have open). */
const RECENT_CHATS = 5;
/** A device that passed the human check is not asked again for this long. */
const HUMAN_FOR_MS = 30 * 86_400_000;

export class Device extends DurableObject<Env> {
  private record: Record = { avoid: {}, reports: {}, bannedUntil: null, waitingIn: null, chattingIn: [], humanUntil: null };
  private readonly settings: AbuseSettings;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.settings = abuseSettings(env);
    ctx.blockConcurrencyWhile(async () => {
      this.record = (await ctx.storage.get<Record>("record")) ?? this.record;
    });
  }

  /** Whether this device may match now, and whom it must not meet. */
  standing(): DeviceStanding {
    const now = Date.now();
    const bannedUntil = this.record.bannedUntil && this.record.bannedUntil > now ? this.record.bannedUntil : null;
    const avoid = Object.entries(this.record.avoid)
      .filter(([, until]) => until > now)
      .map(([device]) => device);
    return { bannedUntil, avoid, waitingIn: this.record.waitingIn, human: (this.record.humanUntil ?? 0) > now };
  }

  async waiting(seatId: string): Promise<void> {
    this.record.waitingIn = seatId;
    await this.save(Date.now());
  }

  async passedHumanCheck(): Promise<void> {
    const now = Date.now();
    this.record.humanUntil = now + HUMAN_FOR_MS;
    await this.save(now);
  }

  /** Paired with `other` in `sessionId`: skipping it with Next must not hand it straight back. */
  async met(other: string, sessionId: string): Promise<void> {
    this.record.chattingIn = [sessionId, ...this.record.chattingIn.filter((s) => s !== sessionId)].slice(0, RECENT_CHATS);
    await this.avoid(other, this.settings.rematchCooldownMs);
  }

  /** This device reported `other`: they never meet again. */
  async blocked(other: string): Promise<void> {
    await this.avoid(other, this.settings.blockMs);
  }

  /**
   * `by` reported this device. Each reporter counts once however often it reports, so one
   * angry (or scripted) user cannot ban anyone alone: a ban takes REPORT_THRESHOLD different
   * reporters inside the window.
   */
  async reported(by: string, reason: ReportReason): Promise<{ bannedUntil: number | null }> {
    const now = Date.now();
    const { reportThreshold, reportWindowMs, banMs } = this.settings;
    const reports = Object.fromEntries(Object.entries(this.record.reports).filter(([, at]) => at > now - reportWindowMs));
    reports[by] = now;
    this.record.reports = reports;
    const reporters = Object.keys(reports).length;
    const newlyBanned = reporters >= reportThreshold && !(this.record.bannedUntil && this.record.bannedUntil > now);
    if (newlyBanned) {
      this.record.bannedUntil = now + banMs;
      log("device.banned", { reporters, reason, untilIso: new Date(this.record.bannedUntil).toISOString() }, "warn");
    }
    await this.save(now);
    // A ban stops more than new matches: the wait and the chat this device has open end too.
    if (newlyBanned) await this.endOpenWaitAndChat();
    return { bannedUntil: this.record.bannedUntil };
  }

  private async endOpenWaitAndChat(): Promise<void> {
    const device = this.ctx.id.name ?? "";
    const { waitingIn, chattingIn } = this.record;
    await Promise.all([
      waitingIn ? seatStub(this.env, waitingIn).evict(device) : null,
      ...chattingIn.map((sessionId) => roomStub(this.env, sessionId).evict(device)),
    ]).catch((err) => log("device.evict_failed", { error: String(err) }, "warn"));
  }

  private async avoid(other: string, forMs: number): Promise<void> {
    const now = Date.now();
    this.record.avoid[other] = Math.max(this.record.avoid[other] ?? 0, now + forMs);
    await this.save(now);
  }

  /** Saves after dropping what has expired, and lets the object delete itself once nothing is left. */
  private async save(now: number): Promise<void> {
    for (const [device, until] of Object.entries(this.record.avoid)) if (until <= now) delete this.record.avoid[device];
    await this.ctx.storage.put("record", this.record);
    const lastsUntil = Math.max(
      this.record.waitingIn || this.record.chattingIn.length ? now + 3600_000 : 0,
      this.record.bannedUntil ?? 0,
      this.record.humanUntil ?? 0,
      ...Object.values(this.record.avoid),
      ...Object.values(this.record.reports).map((at) => at + this.settings.reportWindowMs),
    );
    await this.ctx.storage.setAlarm(lastsUntil + 1000);
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const { bannedUntil, avoid, human } = this.standing();
    const reportsLive = Object.values(this.record.reports).some((at) => at > now - this.settings.reportWindowMs);
    // A wait or chat an hour old is long over; everything else lasts as long as it says.
    this.record.waitingIn = null;
    this.record.chattingIn = [];
    if (bannedUntil || avoid.length || reportsLive || human) return this.save(now);
    await this.ctx.storage.deleteAll();
  }
}

export function deviceStub(env: Env, fingerprint: string): DurableObjectStub<Device> {
  return env.DEVICE.get(env.DEVICE.idFromName(fingerprint));
}
