import { describe, expect, it } from "vitest";
import { CLOSE } from "../worker/protocol";
import * as seat from "../worker/seat-rules";
import type { ClaimIds, Presence, SeatEffect, SeatRules, SeatState, Seeker } from "../worker/seat-rules";

// A fake clock: every time is a plain number of milliseconds, nothing sleeps.
const T0 = 1_000_000;
const rules: SeatRules = {
  queueTtlMs: 30_000,
  searchEveryMs: 3_000,
  pollPresenceMs: 7_000,
  heartbeatTimeoutMs: 30_000,
  connectWindowMs: 10_000,
  widening: { emotionAfterMs: 15_000, languageAfterMs: 30_000 },
};
const noSocket: Presence = { socketSeenAt: null };
const socketAt = (at: number): Presence => ({ socketSeenAt: at });

let n = 0;
function seeker(overrides: Partial<Seeker> = {}): Seeker {
  n++;
  return {
    name: `Person ${n}`,
    user: `user-${n}`,
    device: `device-${n}`,
    avoid: [],
    criteria: { mode: "any", emotion: "😊", language: "en" },
    anyLanguage: false,
    interests: [],
    enqueuedAt: T0,
    origin: "https://chat.example",
    ...overrides,
  };
}
const ids = (): ClaimIds => ({ sessionId: `session-${++n}`, ownerAlias: "owner-alias", ownerToken: "owner-token", claimerAlias: "claimer-alias", claimerToken: "claimer-token" });
const types = (effects: SeatEffect[]) => effects.map((e) => e.type);

/** A seat opened at T0 by a fresh owner. */
function opened(owner = seeker()): SeatState {
  return seat.open("seat-1", "ticket-token", owner, T0, rules).state;
}

function claimedBy(stranger: Seeker, at = T0 + 1_000, p: Presence = noSocket) {
  const s = opened();
  const result = seat.claim(s, stranger, ids(), at, p, rules);
  return { before: s, ...result };
}

describe("opening a seat", () => {
  it("lists the entry, and looks for someone who arrived at the same instant a moment later", () => {
    const owner = seeker();
    const { state, effects } = seat.open("seat-1", "ticket-token", owner, T0, rules);
    expect(state).toMatchObject({ kind: "waiting", polledAt: T0, listedSeenAt: T0 });
    expect(types(effects)).toEqual(["list.put", "log"]);
    // Not at once: a newcomer usually takes the seat first, and a look costs a read of the list.
    expect(seat.nextAlarm(state, T0, socketAt(T0), rules)).toBe(T0 + seat.FIRST_LOOK_MS);
    expect(types(seat.alarm(state, T0 + seat.FIRST_LOOK_MS, socketAt(T0), rules).effects)).toEqual(["search"]);
    expect(effects[0]).toMatchObject({ entry: { seatId: "seat-1", enqueuedAt: T0, seenAt: T0, user: owner.user, device: owner.device } });
  });
});

describe("presence", () => {
  it("counts a poll for two poll intervals and a little slack, and no longer", () => {
    const s = opened() as Extract<SeatState, { kind: "waiting" }>;
    expect(seat.isPresent(s, T0 + 7_000, noSocket, rules)).toBe(true);
    expect(seat.isPresent(s, T0 + 7_001, noSocket, rules)).toBe(false);
  });

  it("counts an open waiting socket while it answers pings", () => {
    const s = opened() as Extract<SeatState, { kind: "waiting" }>;
    expect(seat.isPresent(s, T0 + 60_000, socketAt(T0 + 55_000), rules)).toBe(true);
    expect(seat.isPresent(s, T0 + 60_000, socketAt(T0 + 29_000), rules)).toBe(false);
  });
});

describe("claims", () => {
  it("accepts a present stranger, takes the entry off the list while the claim stands, and opens the room for both", () => {
    const stranger = seeker({ name: "Zoe" });
    const { state, effects, reply } = claimedBy(stranger);
    expect(state.kind).toBe("claimed");
    expect(reply).toEqual({
      ok: true,
      pairing: { sessionId: expect.any(String), token: "claimer-token", wsUrl: expect.stringMatching(/^wss:\/\/chat\.example\/chat\?sessionId=/), partnerId: "owner-alias", partnerName: expect.stringMatching(/Person/), relaxed: [], shared: [] },
    });
    expect(types(effects)).toEqual(["list.remove", "room.open"]);
    expect(effects[1]).toMatchObject({ setup: { owner: { alias: "owner-alias", token: "owner-token" }, claimer: { alias: "claimer-alias", name: "Zoe", device: stranger.device } } });
  });

  it("tells both sides the interests they share, and the room which languages the chat is in", () => {
    const owner = seeker({ interests: ["chess", "films", "go"] });
    const stranger = seeker({ interests: ["go", "chess"] });
    const { effects, reply } = seat.claim(opened(owner), stranger, ids(), T0 + 1_000, noSocket, rules);
    expect(reply).toMatchObject({ ok: true, pairing: { shared: ["chess", "go"] } });
    expect(effects[1]).toMatchObject({ setup: { shared: ["chess", "go"], languages: ["en"], claimerWaitedMs: 1_000 } });
  });

  it.each<[string, () => { state: SeatState; stranger: Seeker; at?: number; p?: Presence }, seat.ClaimRefusal]>([
    ["an ended seat", () => ({ state: seat.leave(opened(), "left").state, stranger: seeker() }), "gone"],
    ["a seat already claimed", () => ({ state: claimedBy(seeker()).state, stranger: seeker() }), "taken"],
    ["its own owner (same user)", () => ({ state: opened(seeker({ user: "me" })), stranger: seeker({ user: "me" }) }), "self"],
    ["its own owner (same device)", () => ({ state: opened(seeker({ device: "mine" })), stranger: seeker({ device: "mine" }) }), "self"],
    ["someone the owner avoids", () => ({ state: opened(seeker({ avoid: ["bad"] })), stranger: seeker({ device: "bad" }) }), "avoided"],
    ["someone who avoids the owner", () => ({ state: opened(seeker({ device: "d1" })), stranger: seeker({ avoid: ["d1"] }) }), "avoided"],
    ["another feeling before widening", () => ({ state: opened(), stranger: seeker({ criteria: { mode: "any", emotion: "😢", language: "en" } }) }), "incompatible"],
  ])("refuses %s", (_name, setup, reason) => {
    const { state, stranger, at = T0 + 1_000, p = noSocket } = setup();
    const result = seat.claim(state, stranger, ids(), at, p, rules);
    expect(result.reply).toEqual({ ok: false, reason });
    expect(result.effects).toEqual([]);
    expect(result.state).toBe(state);
  });

  it.each<[string, number, Presence]>([
    ["an owner silent for two poll intervals", T0 + 7_001, noSocket],
    ["an owner whose socket stopped answering", T0 + 40_000, socketAt(T0 + 9_000)],
  ])("refuses %s, and takes the seat off the list until the owner is back", (_name, at, p) => {
    const first = seat.claim(opened(), seeker(), ids(), at, p, rules);
    expect(first.reply).toEqual({ ok: false, reason: "absent" });
    expect(first.state).toMatchObject({ kind: "waiting", offList: true });
    expect(types(first.effects)).toEqual(["list.remove"]);
    // Claims that read an older list are refused without another removal.
    const again = seat.claim(first.state, seeker(), ids(), at + 10, p, rules);
    expect(again).toMatchObject({ state: first.state, effects: [], reply: { ok: false, reason: "absent" } });
  });

  it("puts an absent owner's seat back on the list, at its place, when the owner polls, says hello or its socket answers again", () => {
    const away = seat.claim(opened(), seeker(), ids(), T0 + 7_001, noSocket, rules).state;
    const polled = seat.poll(away, "ticket-token", (away as { owner: Seeker }).owner.user, T0 + 8_000, noSocket, rules);
    expect(polled.state).not.toHaveProperty("offList");
    expect(polled.effects[0]).toMatchObject({ type: "list.put", entry: { seatId: "seat-1", enqueuedAt: T0, seenAt: T0 + 8_000 } });
    const hello = seat.socketOpened(away, T0 + 8_000, socketAt(T0 + 8_000), rules);
    expect(types(hello.effects)).toContain("list.put");
    // Pings reach the runtime, not the seat: its alarm notices a socket that answers again.
    const recovered = seat.alarm(away, T0 + 9_000, socketAt(T0 + 8_900), rules);
    expect(recovered.state).not.toHaveProperty("offList");
    expect(types(recovered.effects)).toContain("list.put");
  });

  it("keeps an absent owner's seat off the list, with nothing to refresh, until it expires", () => {
    const away = seat.claim(opened(), seeker(), ids(), T0 + 7_001, noSocket, rules).state;
    expect(seat.alarm(away, T0 + 20_000, noSocket, rules)).toMatchObject({ state: away, effects: [] });
    expect(seat.nextAlarm(away, T0 + 20_000, noSocket, rules)).toBe(T0 + rules.queueTtlMs);
    // Ending it removes nothing more from the list.
    expect(types(seat.leave(away, "left").effects)).not.toContain("list.remove");
  });

  it("accepts a claim while the owner's own search is under way, and the search gives back what it found", () => {
    const searching = seat.beginSearch(opened(), T0 + 500).state;
    const claimed = seat.claim(searching, seeker(), ids(), T0 + 600, noSocket, rules);
    expect(claimed.reply.ok).toBe(true);
    // The search comes back with a claim on another seat: this one is taken, so that claim is released.
    const pairing = { sessionId: "elsewhere", token: "t", wsUrl: "wss://x/chat?sessionId=elsewhere", partnerId: "p", partnerName: "Ana", relaxed: [], shared: [] };
    const ended = seat.endSearch(claimed.state, { seatId: "other-seat", pairing }, T0 + 700, rules);
    expect(ended.state).toBe(claimed.state);
    expect(ended.effects).toEqual([{ type: "release", seatId: "other-seat", sessionId: "elsewhere" }]);
  });

  it("goes back to waiting, at the same place, when its claimer gives the claim back", () => {
    const { state, reply } = claimedBy(seeker());
    const sessionId = (reply as { pairing: { sessionId: string } }).pairing.sessionId;
    expect(seat.release(state, "another-session").state).toBe(state);
    const released = seat.release(state, sessionId);
    expect(released.state).toMatchObject({ kind: "waiting", owner: { enqueuedAt: T0 } });
    // Listed again under its original key: the same place in the queue.
    expect(types(released.effects)).toEqual(["list.put", "log"]);
    expect(released.effects[0]).toMatchObject({ entry: { enqueuedAt: T0, seatId: "seat-1" } });
  });

  it("pairs another feeling once both waited past the threshold, and says so", () => {
    const s = opened();
    const sad = seeker({ criteria: { mode: "any", emotion: "😢", language: "en" }, enqueuedAt: T0 + 100 });
    const { reply } = seat.claim(s, sad, ids(), T0 + 15_100, socketAt(T0 + 15_000), rules);
    expect(reply).toMatchObject({ ok: true, pairing: { relaxed: ["emotion"] } });
  });
});

describe("confirming a pairing", () => {
  it("gives the seat away when the claimer connects, and tells the owner where the chat is", () => {
    const { state, reply } = claimedBy(seeker({ name: "Zoe" }));
    const sessionId = (reply as { pairing: { sessionId: string } }).pairing.sessionId;
    const confirmed = seat.confirm(state, sessionId, T0 + 2_000, rules);
    expect(confirmed.reply).toBe(true);
    expect(confirmed.state).toMatchObject({ kind: "matched", until: T0 + 2_000 + rules.connectWindowMs });
    // The claim took the entry off the list already.
    expect(types(confirmed.effects)).toEqual(["send", "close"]);
    expect(confirmed.effects[0]).toMatchObject({ frame: { type: "matched", sessionId, token: "owner-token", partnerId: "claimer-alias", partnerName: "Zoe" } });
    expect(confirmed.effects[1]).toMatchObject({ code: CLOSE.matched });
    // A polling owner finds it too.
    expect(seat.poll(confirmed.state, "ticket-token", (state as { owner: Seeker }).owner.user, T0 + 3_000, noSocket, rules).reply).toMatchObject({ kind: "matched", pairing: { sessionId } });
  });

  it("answers a repeated confirm the same way, and takes a late claimer the seat has not handed back yet", () => {
    const { state, reply } = claimedBy(seeker());
    const sessionId = (reply as { pairing: { sessionId: string } }).pairing.sessionId;
    const matched = seat.confirm(state, sessionId, T0 + 2_000, rules).state;
    expect(seat.confirm(matched, sessionId, T0 + 2_500, rules)).toMatchObject({ reply: true, effects: [] });
    // Past the window, but the alarm that hands the seat back has not run: the claimer is here, so it stands.
    expect(seat.confirm(state, sessionId, T0 + 11_500, rules).reply).toBe(true);
  });

  it("undoes a claim whose room could not be opened", () => {
    const { state, reply } = claimedBy(seeker());
    const sessionId = (reply as { pairing: { sessionId: string } }).pairing.sessionId;
    const undone = seat.claimFailed(state, sessionId);
    expect(undone.state).toMatchObject({ kind: "waiting", searchingUntil: null });
    expect(types(undone.effects)).toEqual(["list.put"]);
    expect(seat.claimFailed(state, "another").state).toBe(state);
  });

  it("refuses to confirm another session", () => {
    const { state } = claimedBy(seeker());
    expect(seat.confirm(state, "some-other-session", T0 + 2_000, rules)).toMatchObject({ reply: false, effects: [] });
  });

  it("hands the seat back, at its original place, when the claimer never connects", () => {
    const owner = seeker();
    const s = seat.open("seat-1", "ticket-token", owner, T0, rules).state;
    const claimed = seat.claim(s, seeker(), ids(), T0 + 1_000, socketAt(T0 + 1_000), rules);
    const sessionId = (claimed.reply as { pairing: { sessionId: string } }).pairing.sessionId;
    expect(seat.nextAlarm(claimed.state, T0 + 1_000, socketAt(T0 + 1_000), rules)).toBe(T0 + 11_000);
    // Before the window closes nothing changes.
    expect(seat.alarm(claimed.state, T0 + 10_999, socketAt(T0 + 10_000), rules).state.kind).toBe("claimed");

    const lapsed = seat.alarm(claimed.state, T0 + 11_000, socketAt(T0 + 10_000), rules);
    expect(lapsed.state.kind).toBe("waiting");
    expect(types(lapsed.effects)).toContain("list.put");
    expect(lapsed.effects.find((e) => e.type === "list.put")).toMatchObject({ entry: { enqueuedAt: T0, seatId: "seat-1" } });
    expect(seat.entryOf(lapsed.state as Extract<SeatState, { kind: "waiting" }>).enqueuedAt).toBe(T0);
    // A late connection of the claimer finds the pairing gone; the next newcomer gets the seat.
    expect(seat.confirm(lapsed.state, sessionId, T0 + 11_500, rules).reply).toBe(false);
    expect(seat.claim(lapsed.state, seeker(), ids(), T0 + 11_500, socketAt(T0 + 11_000), rules).reply.ok).toBe(true);
  });
});

describe("the owner's own search", () => {
  it("runs one at a time and moves the owner on when it finds someone", () => {
    const s = opened();
    const began = seat.beginSearch(s, T0 + 500);
    expect(began.reply).toBe(true);
    expect(seat.beginSearch(began.state, T0 + 600).reply).toBe(false);
    const pairing = { sessionId: "elsewhere", token: "t", wsUrl: "wss://x/chat?sessionId=elsewhere", partnerId: "p", partnerName: "Ana", relaxed: [], shared: [] };
    const found = seat.endSearch(began.state, { seatId: "other-seat", pairing }, T0 + 700, rules);
    expect(found.state).toMatchObject({ kind: "matched", pairing });
    expect(types(found.effects)).toEqual(["list.remove", "send", "close"]);
  });

  it("lets the next search run when it finds nobody, and lets a seat that ended meanwhile stay ended", () => {
    const began = seat.beginSearch(opened(), T0 + 500).state;
    expect(seat.endSearch(began, null, T0 + 700, rules).state).toMatchObject({ kind: "waiting", searchingUntil: null });
    const left = seat.leave(began, "left").state;
    expect(seat.endSearch(left, null, T0 + 700, rules)).toMatchObject({ state: { kind: "ended" }, effects: [] });
  });

  it("runs again every search interval while the owner is present, and not when it is not", () => {
    const looked = seat.endSearch(seat.beginSearch(opened(), T0 + 1_000).state, null, T0 + 1_000, rules).state;
    expect(seat.nextAlarm(looked, T0 + 1_000, socketAt(T0 + 1_000), rules)).toBe(T0 + 4_000);
    expect(types(seat.alarm(looked, T0 + 4_000, socketAt(T0 + 3_000), rules).effects)).toContain("search");
    expect(types(seat.alarm(looked, T0 + 9_000, noSocket, rules).effects)).not.toContain("search");
  });

  it("looks again when the owner's socket comes back, unless it just looked", () => {
    const s = opened();
    expect(seat.socketOpened(s, T0 + 500, socketAt(T0 + 500), rules).effects).toEqual([]);
    expect(seat.socketOpened(s, T0 + 3_000, socketAt(T0 + 3_000), rules).effects).toEqual([{ type: "search" }]);
  });

  it("runs when the search widens, even right after another", () => {
    const s = seat.beginSearch(opened(), T0 + 14_000).state;
    const unshielded = seat.endSearch(s, null, T0 + 14_001, rules).state;
    expect(seat.nextAlarm(unshielded, T0 + 14_001, socketAt(T0 + 14_000), rules)).toBe(T0 + 15_000);
    expect(types(seat.alarm(unshielded, T0 + 15_000, socketAt(T0 + 14_500), rules).effects)).toContain("search");
  });

  it("puts the entry again when the search widens, so a backend can index it by its wider scope", () => {
    const s = seat.endSearch(seat.beginSearch(opened(), T0 + 14_000).state, null, T0 + 14_001, rules).state;
    const widened = seat.alarm(s, T0 + 15_000, socketAt(T0 + 14_500), rules);
    expect(types(widened.effects)).toEqual(["list.put", "search"]);
    expect(widened.effects[0]).toMatchObject({ entry: { enqueuedAt: T0, seenAt: T0 + 14_500 } });
  });

  it("puts the entry again when an owner who was away as the search widened comes back on its socket", () => {
    const s = seat.endSearch(seat.beginSearch(opened(), T0 + 3_000).state, null, T0 + 3_001, rules).state;
    // Away at the widening moment: nobody to offer, so the alarm puts nothing.
    expect(types(seat.alarm(s, T0 + 15_000, noSocket, rules).effects)).not.toContain("list.put");
    const back = seat.socketOpened(s, T0 + 16_000, socketAt(T0 + 16_000), rules);
    expect(types(back.effects)).toEqual(["list.put", "search"]);
    expect(back.effects[0]).toMatchObject({ entry: { enqueuedAt: T0, seenAt: T0 + 16_000 } });
  });
});

describe("polls", () => {
  it("answer only the ticket's owner, and count as a sign of life", () => {
    const owner = seeker();
    const s = opened(owner);
    expect(seat.poll(s, "wrong", owner.user, T0 + 1_000, noSocket, rules).reply).toEqual({ kind: "gone" });
    expect(seat.poll(s, "ticket-token", "someone-else", T0 + 1_000, noSocket, rules).reply).toEqual({ kind: "gone" });
    const polled = seat.poll(s, "ticket-token", owner.user, T0 + 6_000, noSocket, rules);
    expect(polled.reply).toMatchObject({ kind: "waiting", seatId: "seat-1", queueKey: "any:😊:en", enqueuedAt: T0 });
    expect(seat.isPresent(polled.state as Extract<SeatState, { kind: "waiting" }>, T0 + 12_000, noSocket, rules)).toBe(true);
  });
});

describe("expiry and the list entry", () => {
  it("ends a wait whose owner showed no sign of life for the whole window", () => {
    const s = opened();
    expect(seat.nextAlarm(s, T0 + 8_000, noSocket, rules)).toBe(T0 + 15_000);
    const expired = seat.alarm(s, T0 + 30_000, noSocket, rules);
    expect(expired.state).toEqual({ kind: "ended", seatId: "seat-1", reason: "expired" });
    expect(types(expired.effects)).toEqual(["send", "close", "erase", "list.remove", "log"]);
    // Alarms are delivered at least once: a second run only erases again.
    expect(seat.alarm(expired.state, T0 + 30_001, noSocket, rules).effects).toEqual([{ type: "erase" }]);
  });

  it("keeps a wait held by a live socket, refreshing its entry well inside the window readers trust", () => {
    const s = opened();
    const refreshed = seat.alarm(s, T0 + 15_000, socketAt(T0 + 14_000), rules);
    expect(refreshed.state.kind).toBe("waiting");
    const put = refreshed.effects.find((e) => e.type === "list.put");
    expect(put).toMatchObject({ entry: { seenAt: T0 + 14_000, enqueuedAt: T0 } });
    expect(seat.alarm(refreshed.state, T0 + 100_000, socketAt(T0 + 95_000), rules).state.kind).toBe("waiting");
  });

  it("starts the window from a closed socket's last sign of life", () => {
    const gone = seat.socketGone(opened(), T0 + 20_000).state;
    expect(seat.alarm(gone, T0 + 49_999, noSocket, rules).state.kind).toBe("waiting");
    expect(seat.alarm(gone, T0 + 50_000, noSocket, rules).state.kind).toBe("ended");
  });

  it("forgets a forwarding address once the owner could no longer join: one connect window after the match", () => {
    const { state, reply } = claimedBy(seeker());
    const matched = seat.confirm(state, (reply as { pairing: { sessionId: string } }).pairing.sessionId, T0 + 2_000, rules).state;
    const forgetAt = T0 + 2_000 + rules.connectWindowMs;
    expect(seat.nextAlarm(matched, T0 + 2_000, noSocket, rules)).toBe(forgetAt);
    expect(seat.alarm(matched, forgetAt - 1, noSocket, rules).state.kind).toBe("matched");
    expect(seat.alarm(matched, forgetAt, noSocket, rules)).toMatchObject({ state: { kind: "ended" }, effects: [{ type: "erase" }] });
  });
});

describe("deadlines", () => {
  it("are never in the past after an alarm ran, whatever the owner did: no seat wakes itself in a loop", () => {
    const presences: [string, (now: number) => Presence][] = [
      ["no socket", () => noSocket],
      ["a live socket", (now) => socketAt(now - 1_000)],
      ["a socket gone quiet", () => socketAt(T0 + 2_000)],
    ];
    for (const [, presence] of presences) {
      let s: SeatState = opened(seeker({ anyLanguage: true }));
      for (let now = T0 + 500; now < T0 + 60_000 && s.kind !== "ended"; now += 1_700) {
        const woke = seat.alarm(s, now, presence(now), rules);
        s = woke.state;
        // The object carries out a "search" effect as a search that finds nobody.
        if (woke.effects.some((e) => e.type === "search")) s = seat.endSearch(seat.beginSearch(s, now).state, null, now, rules).state;
        const next = seat.nextAlarm(s, now, presence(now), rules);
        if (next !== null) expect(next).toBeGreaterThan(now);
      }
    }
  });

  it("wait for a search under way instead of asking for another", () => {
    const searching = seat.beginSearch(opened(), T0 + 2_900).state;
    expect(seat.nextAlarm(searching, T0 + 6_000, socketAt(T0 + 5_000), rules)).toBe(T0 + 2_900 + seat.SEARCH_TIMEOUT_MS);
  });
});

describe("leaving and greeting", () => {
  it("ends the wait, takes the entry off the list and tells the socket", () => {
    const left = seat.leave(opened(), "left");
    expect(left.state).toMatchObject({ kind: "ended", reason: "left" });
    // Storage first, the list entry after: a failed KV delete can only leave an entry whose seat refuses every claim.
    expect(types(left.effects)).toEqual(["send", "close", "erase", "list.remove"]);
    expect(left.effects[1]).toMatchObject({ code: CLOSE.ended });
    expect(seat.leave(left.state, "left").effects).toEqual([]);
  });

  it("greets a waiting socket with the protocol version and when the search widens", () => {
    const [frame] = seat.greeting(opened(seeker({ anyLanguage: true })), T0 + 5_000, rules);
    expect(frame).toEqual({ type: "waiting", v: 2, queueKey: "any:😊:en", widening: { emotionAfterMs: 10_000, languageAfterMs: 25_000 } });
  });
});
