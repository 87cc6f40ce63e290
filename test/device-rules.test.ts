import { describe, expect, it } from "vitest";
import type { AbuseSettings } from "../worker/platform/config";
import * as device from "../worker/trust/device-rules";
import { NO_RECORD } from "../worker/trust/device-rules";

// A fake clock: plain milliseconds, nothing sleeps.
const T0 = 1_000_000_000;
const MIN = 60_000;
/** A reporter whose device passed the human check, on a network of its own. */
const vouched = (name: string) => ({ device: name, network: `${name}-net`, vouched: true });
const settings: AbuseSettings = {
  rematchCooldownMs: 10 * MIN,
  blockMs: 30 * 86_400_000,
  reportThreshold: 3,
  reportWindowMs: 86_400_000,
  banMs: 86_400_000,
};

describe("a device's record", () => {
  it("is nothing at all for a device with no history: it may match and avoids nobody", () => {
    expect(device.standing(NO_RECORD, T0)).toEqual({ bannedUntil: null, avoid: [], human: false, vouched: false });
    expect(device.tidy(NO_RECORD, T0, settings).keepUntil).toBeNull();
  });

  it("avoids a recent partner for the rematch cooldown, then forgets it", () => {
    const met = device.met(NO_RECORD, "other", "session-1", T0, settings);
    expect(device.standing(met, T0 + 10 * MIN - 1).avoid).toEqual(["other"]);
    expect(device.standing(met, T0 + 10 * MIN).avoid).toEqual([]);
    // The avoidance is tidied away once over; the record itself is the device's history, kept 30 days after its last chat.
    expect(device.tidy(met, T0 + 10 * MIN, settings).record.avoid).toEqual({});
    const { keepUntil } = device.tidy(met, T0 + 10 * MIN, settings);
    expect(keepUntil).toBe(T0 + 30 * 86_400_000);
    expect(device.tidy(met, keepUntil!, settings).keepUntil).toBeNull();
    // Where it chatted is forgotten an hour after that chat.
    expect(device.tidy(met, T0 + 59 * MIN, settings).record.chattingIn).toEqual(["session-1"]);
    expect(device.tidy(met, T0 + 60 * MIN, settings).record.chattingIn).toEqual([]);
  });

  it("remembers the last few chats only, newest first, without repeats", () => {
    let r = NO_RECORD;
    for (const id of ["a", "b", "c", "d", "e", "f", "c"]) r = device.met(r, `with-${id}`, id, T0, settings);
    expect(r.chattingIn).toEqual(["c", "f", "e", "d", "b"]);
  });

  it("never meets a device it reported again (for the block period), and never shortens an avoidance", () => {
    const blocked = device.blocked(NO_RECORD, "troll", T0, settings);
    const metAgain = device.met(blocked, "troll", "s", T0 + MIN, settings);
    expect(metAgain.avoid.troll).toBe(T0 + settings.blockMs);
    expect(device.standing(metAgain, T0 + 29 * 86_400_000).avoid).toEqual(["troll"]);
  });

  it("counts each reporter once, and bans on the REPORT_THRESHOLD-th vouched reporter from a different network", () => {
    let r = NO_RECORD;
    for (let i = 0; i < 5; i++) {
      const step = device.reported(r, vouched("the-same-reporter"), T0 + i, settings);
      expect(step.newlyBanned).toBe(false);
      r = step.record;
    }
    expect(Object.keys(r.reports)).toEqual(["the-same-reporter-net"]);
    r = device.reported(r, vouched("second"), T0 + 10, settings).record;
    const third = device.reported(r, vouched("third"), T0 + 20, settings);
    expect(third.newlyBanned).toBe(true);
    expect(device.standing(third.record, T0 + 21).bannedUntil).toBe(T0 + 20 + settings.banMs);
    // A fourth reporter while banned neither bans again nor moves the end.
    const fourth = device.reported(third.record, vouched("fourth"), T0 + 30, settings);
    expect(fourth.newlyBanned).toBe(false);
    expect(fourth.record.bannedUntil).toBe(third.record.bannedUntil);
  });

  it("weighs a fresh device's report a third, one network's reports as its weightiest, and a device once wherever it reports from", () => {
    const fresh = (name: string, network = `${name}-net`) => ({ device: name, network, vouched: false });
    let r = NO_RECORD;
    // Six fresh devices on six networks: six thirds, two whole reports.
    for (let i = 0; i < 6; i++) r = device.reported(r, fresh(`fresh-${i}`), T0 + i, settings).record;
    expect(r.bannedUntil).toBeNull();
    // A vouched reporter on a network that already reported replaces its third, it does not add to it: 5 + 3 thirds.
    r = device.reported(r, { device: "vouched", network: "fresh-0-net", vouched: true }, T0 + 10, settings).record;
    expect(r.reports["fresh-0-net"]).toEqual({ by: "vouched", weight: 3, at: T0 + 10 });
    // A fresh device on that network changes nothing; the vouched device reporting from another network moves there.
    r = device.reported(r, fresh("late", "fresh-0-net"), T0 + 11, settings).record;
    expect(r.reports["fresh-0-net"].by).toBe("vouched");
    const moved = device.reported(r, { device: "vouched", network: "elsewhere", vouched: true }, T0 + 12, settings);
    expect(moved.record.reports["fresh-0-net"]).toBeUndefined();
    expect(moved.record.reports.elsewhere.by).toBe("vouched");
    expect(moved.newlyBanned).toBe(false);
    // One more third: nine thirds, three whole reports, a ban.
    expect(device.reported(moved.record, fresh("fresh-6"), T0 + 13, settings).newlyBanned).toBe(true);
  });

  it("lets reports outside the window lapse, so old reports never add up to a ban", () => {
    let r = device.reported(NO_RECORD, vouched("first"), T0, settings).record;
    r = device.reported(r, vouched("second"), T0 + 1, settings).record;
    const late = device.reported(r, vouched("third"), T0 + settings.reportWindowMs + 2, settings);
    expect(late.newlyBanned).toBe(false);
    expect(Object.keys(late.record.reports)).toEqual(["third-net"]);
  });

  it("vouches for a device that passed the human check, or built a history: five chats, the first a day ago", () => {
    expect(device.standing(device.passedHumanCheck(NO_RECORD, T0), T0).vouched).toBe(true);
    let r = NO_RECORD;
    for (let i = 0; i < 5; i++) r = device.met(r, `partner-${i}`, `s${i}`, T0 + i * MIN, settings);
    expect(device.standing(r, T0 + 23 * 3600_000).vouched).toBe(false);
    expect(device.standing(r, T0 + 24 * 3600_000).vouched).toBe(true);
    const four = device.met(
      device.met(
        device.met(device.met(NO_RECORD, "a", "1", T0, settings), "b", "2", T0, settings),
        "c",
        "3",
        T0,
        settings,
      ),
      "d",
      "4",
      T0,
      settings,
    );
    expect(device.standing(four, T0 + 48 * 3600_000).vouched).toBe(false);
    // A history is kept a month after the last chat.
    expect(device.tidy(r, T0 + 5 * MIN, settings).keepUntil).toBe(T0 + 4 * MIN + 30 * 86_400_000);
  });

  it("carries a ban of its userId, and after a ban on its network asks for the human check again unless it passed it since or has a history", () => {
    const human = device.passedHumanCheck(NO_RECORD, T0);
    expect(device.standing(NO_RECORD, T0 + 1, { userBannedUntil: T0 + MIN, networkMarkedAt: null }).bannedUntil).toBe(
      T0 + MIN,
    );
    expect(
      device.standing(NO_RECORD, T0 + MIN, { userBannedUntil: T0 + MIN, networkMarkedAt: null }).bannedUntil,
    ).toBeNull();
    // Passed before the ban on its network: asked again. Passed after: not.
    expect(device.standing(human, T0 + 2, { userBannedUntil: null, networkMarkedAt: T0 + 1 }).human).toBe(false);
    expect(device.standing(human, T0 + 2, { userBannedUntil: null, networkMarkedAt: T0 - 1 }).human).toBe(true);
    let seasoned = human;
    for (let i = 0; i < 5; i++) seasoned = device.met(seasoned, `p${i}`, `s${i}`, T0, settings);
    expect(device.standing(seasoned, T0 + 86_400_000, { userBannedUntil: null, networkMarkedAt: T0 + 1 }).human).toBe(
      true,
    );
  });

  it("reads a record stored before reports were weighed: a bare report time counts in full", () => {
    const old = JSON.stringify({
      avoid: {},
      reports: { "old-reporter": T0 },
      bannedUntil: null,
      chattingIn: [],
      humanUntil: null,
    });
    const r = device.fromStored(old);
    expect(r).toMatchObject({
      chats: 0,
      firstChatAt: null,
      reports: { "old-reporter": { by: "old-reporter", weight: 3, at: T0 } },
    });
  });

  it("is kept as long as its longest fact: a ban, a block, a report inside its window, a human check", () => {
    const banned = { ...NO_RECORD, bannedUntil: T0 + 5 * MIN };
    expect(device.tidy(banned, T0, settings).keepUntil).toBe(T0 + 5 * MIN);
    expect(device.tidy(banned, T0 + 5 * MIN, settings).keepUntil).toBeNull();
    const reported = device.reported(NO_RECORD, vouched("r"), T0, settings).record;
    expect(device.tidy(reported, T0, settings).keepUntil).toBe(T0 + settings.reportWindowMs);
    const human = device.passedHumanCheck(NO_RECORD, T0);
    expect(device.standing(human, T0).human).toBe(true);
    expect(device.tidy(human, T0, settings).keepUntil).toBeGreaterThan(T0 + 29 * 86_400_000);
  });
});
