import { describe, expect, it } from "vitest";
import type { AbuseSettings } from "../worker/config";
import * as device from "../worker/device-rules";
import { NO_RECORD } from "../worker/device-rules";

// A fake clock: plain milliseconds, nothing sleeps.
const T0 = 1_000_000_000;
const MIN = 60_000;
const settings: AbuseSettings = { rematchCooldownMs: 10 * MIN, blockMs: 30 * 86_400_000, reportThreshold: 3, reportWindowMs: 86_400_000, banMs: 86_400_000 };

describe("a device's record", () => {
  it("is nothing at all for a device with no history: it may match and avoids nobody", () => {
    expect(device.standing(NO_RECORD, T0)).toEqual({ bannedUntil: null, avoid: [], human: false });
    expect(device.tidy(NO_RECORD, T0, settings).keepUntil).toBeNull();
  });

  it("avoids a recent partner for the rematch cooldown, then forgets it", () => {
    const met = device.met(NO_RECORD, "other", "session-1", T0, settings);
    expect(device.standing(met, T0 + 10 * MIN - 1).avoid).toEqual(["other"]);
    expect(device.standing(met, T0 + 10 * MIN).avoid).toEqual([]);
    // Kept for an hour at least (a ban may still need to end that chat), then dropped.
    const { keepUntil } = device.tidy(met, T0, settings);
    expect(keepUntil).toBe(T0 + 60 * MIN);
    expect(device.tidy(met, keepUntil!, settings).record.avoid).toEqual({});
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

  it("counts each reporter once, and bans on the REPORT_THRESHOLD-th different one", () => {
    let r = NO_RECORD;
    for (let i = 0; i < 5; i++) {
      const step = device.reported(r, "the-same-reporter", T0 + i, settings);
      expect(step.newlyBanned).toBe(false);
      r = step.record;
    }
    expect(Object.keys(r.reports)).toEqual(["the-same-reporter"]);
    r = device.reported(r, "second", T0 + 10, settings).record;
    const third = device.reported(r, "third", T0 + 20, settings);
    expect(third.newlyBanned).toBe(true);
    expect(device.standing(third.record, T0 + 21).bannedUntil).toBe(T0 + 20 + settings.banMs);
    // A fourth reporter while banned neither bans again nor moves the end.
    const fourth = device.reported(third.record, "fourth", T0 + 30, settings);
    expect(fourth.newlyBanned).toBe(false);
    expect(fourth.record.bannedUntil).toBe(third.record.bannedUntil);
  });

  it("lets reports outside the window lapse, so old reports never add up to a ban", () => {
    let r = device.reported(NO_RECORD, "first", T0, settings).record;
    r = device.reported(r, "second", T0 + 1, settings).record;
    const late = device.reported(r, "third", T0 + settings.reportWindowMs + 2, settings);
    expect(late.newlyBanned).toBe(false);
    expect(Object.keys(late.record.reports)).toEqual(["third"]);
  });

  it("is kept as long as its longest fact: a ban, a block, a report inside its window, a human check", () => {
    const banned = { ...NO_RECORD, bannedUntil: T0 + 5 * MIN };
    expect(device.tidy(banned, T0, settings).keepUntil).toBe(T0 + 5 * MIN);
    expect(device.tidy(banned, T0 + 5 * MIN, settings).keepUntil).toBeNull();
    const reported = device.reported(NO_RECORD, "r", T0, settings).record;
    expect(device.tidy(reported, T0, settings).keepUntil).toBe(T0 + settings.reportWindowMs);
    const human = device.passedHumanCheck(NO_RECORD, T0);
    expect(device.standing(human, T0).human).toBe(true);
    expect(device.tidy(human, T0, settings).keepUntil).toBeGreaterThan(T0 + 29 * 86_400_000);
  });
});
