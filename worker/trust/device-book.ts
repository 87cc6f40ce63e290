/**
 * DeviceBook: the records of a shard of devices (stubs.ts picks the shard from the device's
 * fingerprint, never its raw deviceId), one row each in SQLite with the time it can be
 * forgotten. The rules are device-rules.ts; this object reads a record, applies them, writes
 * it back, and forgets expired rows at its one alarm. Most arriving users have no record, so
 * asking about them is one indexed read of a live object, not a new object each.
 */
import { DurableObject } from "cloudflare:workers";
import type { ReportReason } from "@strangers/protocol";
import { type AbuseSettings, abuseSettings, deviceMatchBudget } from "../platform/config";
import { type Budget, FloodGuard } from "../platform/flood-guard";
import { log } from "../platform/log";
import { meter, meterStorage } from "../platform/metering";
import { allDeviceShards, lobbyStub, roomStub } from "../platform/stubs";
import * as rules from "./device-rules";
import {
  type DeviceRecord,
  type DeviceStanding,
  type Marks,
  NO_RECORD,
  type Reported,
  type Reporter,
} from "./device-rules";

export type { DeviceStanding };

/** Devices this shard remembers in memory (their budget, their latest search); the longest unseen are forgotten first. */
const DEVICES_REMEMBERED = 20_000;

export class DeviceBook extends DurableObject<Env> {
  private readonly settings: AbuseSettings;
  private readonly sql: SqlStorage;
  private alarmAt: number | null = null;
  private readonly budget: Budget;
  /**
   * What this shard knows of each device in memory only (nothing written per request): its
   * match budget, and where it last searched and as whom. A search in another queue ends the
   * wait the same user still holds in the first, and a ban ends the banned device's wait.
   * Forgotten on eviction: the budget starts afresh, and a stale wait lasts only until its
   * owner's presence lapses, as with any client that walks away.
   */
  private readonly recent = new Map<string, { budget: FloodGuard; user: string; lobby: string }>();
  /**
   * Every shard's copy of what a ban left beyond its device: `user:<fingerprint>` → until when that
   * userId is banned, `network:<fingerprint>` → until when its network asks new devices for the
   * human check (and since when). Bans are rare, so each is sent to every shard, and asking
   * about a device stays one call to one shard.
   */
  private readonly marks = new Map<string, { at: number; until: number }>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.settings = abuseSettings(env);
    this.budget = deviceMatchBudget(env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS devices (device TEXT PRIMARY KEY, record TEXT NOT NULL, keep_until INTEGER NOT NULL)",
    );
    this.sql.exec("CREATE INDEX IF NOT EXISTS devices_by_expiry ON devices (keep_until)");
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS marks (key TEXT PRIMARY KEY, at INTEGER NOT NULL, until INTEGER NOT NULL)",
    );
    for (const m of this.sql.exec<{ key: string; at: number; until: number }>("SELECT key, at, until FROM marks"))
      this.marks.set(m.key, { at: m.at, until: m.until });
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /**
   * Whether this device may match now, and whom it must not meet; `user` is searching in
   * `lobby` from `network`. Each request takes from the device's budget (MATCHES_PER_DEVICE per 10 s): past
   * it, the answer is how long to wait. A wait the same user still holds on this device in
   * another lobby ends (in the background): one search per person.
   */
  standing(
    device: string,
    user: string,
    network: string,
    lobby: string,
  ): DeviceStanding | { retryAfterSeconds: number } {
    const now = Date.now();
    const known = this.recent.get(device);
    const seen = known ?? { budget: new FloodGuard(now, this.budget), user, lobby };
    // Seen again: last in the order of forgetting.
    this.recent.delete(device);
    this.recent.set(device, seen);
    if (this.recent.size > DEVICES_REMEMBERED) this.recent.delete(this.recent.keys().next().value!);
    if (seen.budget.take(now) !== "accept") return { retryAfterSeconds: seen.budget.retryAfterSeconds };
    if (seen.user === user && seen.lobby !== lobby) {
      this.ctx.waitUntil(
        lobbyStub(this.env, seen.lobby)
          .withdraw(user, device)
          .catch((err: unknown) => log("device.withdraw_failed", { error: String(err) }, "warn")),
      );
    }
    seen.user = user;
    seen.lobby = lobby;
    return rules.standing(this.read(device), now, this.marksOf(user, network, now));
  }

  private marksOf(user: string, network: string, now: number): Marks {
    const banned = this.marks.get(`user:${user}`);
    const marked = this.marks.get(`network:${network}`);
    return {
      userBannedUntil: banned && banned.until > now ? banned.until : null,
      networkMarkedAt: marked && marked.until > now ? marked.at : null,
    };
  }

  async passedHumanCheck(device: string): Promise<void> {
    await this.write(device, rules.passedHumanCheck(this.read(device), Date.now()));
  }

  /** `device` was paired with `other` in `sessionId`: skipping it with Next must not hand it straight back. */
  async met(device: string, other: string, sessionId: string): Promise<void> {
    await this.write(device, rules.met(this.read(device), other, sessionId, Date.now(), this.settings));
  }

  /** `device` reported `other`: they never meet again. */
  async blocked(device: string, other: string): Promise<void> {
    await this.write(device, rules.blocked(this.read(device), other, Date.now(), this.settings));
  }

  /** `by` reported `target` (its room counted the report): weighed, and past the threshold a ban of its device, userId and network. */
  async reported(target: Reported, by: Reporter, reason: ReportReason): Promise<{ bannedUntil: number | null }> {
    const now = Date.now();
    const { record, newlyBanned } = rules.reported(this.read(target.device), by, now, this.settings);
    await this.write(target.device, record);
    if (newlyBanned) {
      const until = record.bannedUntil!;
      log(
        "device.banned",
        { reports: Object.keys(record.reports).length, reason, untilIso: new Date(until).toISOString() },
        "warn",
      );
      // A ban stops more than new matches: the wait and the chats this device has open end too,
      // and a fresh deviceId does not shed it.
      await Promise.all([
        this.endWaitAndChats(target.device, record.chattingIn),
        ...allDeviceShards(this.env).map((shard) => shard.mark(target.user, target.network, now, until)),
      ]).catch((err: unknown) => log("device.ban_spread_failed", { error: String(err) }, "warn"));
    }
    return { bannedUntil: record.bannedUntil };
  }

  /** A ban elsewhere: its userId is banned here too, and its network asks new devices for the human check. */
  async mark(user: string, network: string, at: number, until: number): Promise<void> {
    for (const key of [`user:${user}`, `network:${network}`]) {
      const kept = Math.max(until, this.marks.get(key)?.until ?? 0);
      this.marks.set(key, { at, until: kept });
      this.sql.exec("INSERT OR REPLACE INTO marks (key, at, until) VALUES (?, ?, ?)", key, at, kept);
      meterStorage("rows.written", "devices.marks");
    }
    await this.rearm();
  }

  /** Forgets the records whose time is up. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    this.sql.exec("DELETE FROM devices WHERE keep_until <= ?", now);
    this.sql.exec("DELETE FROM marks WHERE until <= ?", now);
    for (const [key, m] of this.marks) if (m.until <= now) this.marks.delete(key);
    await this.rearm();
  }

  private read(device: string): DeviceRecord {
    const found = this.sql.exec<{ record: string }>("SELECT record FROM devices WHERE device = ?", device);
    const row = found.toArray()[0];
    meter("rows.read", found.rowsRead);
    return row ? rules.fromStored(row.record) : NO_RECORD;
  }

  private async write(device: string, changed: DeviceRecord): Promise<void> {
    const { record, keepUntil } = rules.tidy(changed, Date.now(), this.settings);
    const done =
      keepUntil === null
        ? this.sql.exec("DELETE FROM devices WHERE device = ?", device)
        : this.sql.exec(
            "INSERT OR REPLACE INTO devices (device, record, keep_until) VALUES (?, ?, ?)",
            device,
            JSON.stringify(record),
            keepUntil,
          );
    meterStorage("rows.written", "devices", done.rowsWritten);
    await this.rearm();
  }

  /** One alarm, at the first record or mark to forget. */
  private async rearm(): Promise<void> {
    const next = this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(at) AS at FROM (SELECT MIN(keep_until) AS at FROM devices UNION ALL SELECT MIN(until) FROM marks)",
      )
      .one().at;
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    meterStorage("alarms.set", "devices");
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  private async endWaitAndChats(device: string, chattingIn: string[]): Promise<void> {
    const lobby = this.recent.get(device)?.lobby;
    await Promise.all([
      ...(lobby ? [lobbyStub(this.env, lobby).evict(device)] : []),
      ...chattingIn.map((sessionId) => roomStub(this.env, sessionId).evict(device)),
    ]).catch((err: unknown) => log("device.evict_failed", { error: String(err) }, "warn"));
  }
}
