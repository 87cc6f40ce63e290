import { CLOSE } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import type {
  Ids,
  LobbyEffect,
  LobbyKind,
  LobbyRules,
  LobbyView,
  Step,
  Wait,
  WaitState,
} from "../worker/matching/lobby-rules";
import * as lobby from "../worker/matching/lobby-rules";
import type { Seeker } from "../worker/matching/pairing";

// A fake clock: every time is a plain number of milliseconds, nothing sleeps.
const T0 = 1_000_000;
const rules: LobbyRules = {
  queueTtlMs: 30_000,
  pollPresenceMs: 7_000,
  heartbeatTimeoutMs: 30_000,
  connectWindowMs: 10_000,
  widening: { emotionAfterMs: 15_000, languageAfterMs: 30_000 },
};

/** A lobby's waits in memory, as the Lobby object keeps them, with the sockets' last signs of life set by the test. */
class FakeLobby implements LobbyView {
  readonly waits = new Map<string, WaitState>();
  readonly sockets = new Map<string, number>();
  readonly effects: LobbyEffect[] = [];
  private n = 0;
  readonly ids: Ids = {
    wait: () => ({ seatId: `seat-${++this.n}`, token: `token-${this.n}` }),
    pairing: () => ({
      sessionId: `session-${++this.n}`,
      aliases: [`alias-a${this.n}`, `alias-b${this.n}`],
      tokens: [`chat-a${this.n}`, `chat-b${this.n}`],
    }),
  };

  constructor(readonly kind: LobbyKind) {}

  get(seatId: string) {
    return this.waits.get(seatId);
  }
  *all() {
    const open = [...this.waits.values()]
      .filter((w) => w.kind !== "matched")
      .sort((a, b) => a.enqueuedAt - b.enqueuedAt || (a.seatId < b.seatId ? -1 : 1));
    yield* open;
    yield* [...this.waits.values()].filter((w) => w.kind === "matched");
  }
  *feeling(emotion: string) {
    for (const w of this.all()) if (w.kind !== "matched" && w.owner.criteria.emotion === emotion) yield w;
  }
  heldBy(user: string, device: string) {
    return [...this.waits.values()].find((w) => !w.home && w.owner.user === user && w.owner.device === device);
  }
  socketSeenAt(seatId: string) {
    return this.sockets.get(seatId) ?? null;
  }

  /** Applies a step as the object does, keeping its effects for the test to read. */
  apply<R>(step: Step<R>): R {
    for (const [id, w] of step.changes) w ? this.waits.set(id, w) : this.waits.delete(id);
    this.effects.push(...step.effects);
    return step.reply;
  }

  /** Effects since the last call. */
  drain(): LobbyEffect[] {
    return this.effects.splice(0);
  }

  arrive(seeker: Seeker, now: number) {
    return this.apply(lobby.arrive(this, { seeker, ids: this.ids, now, hold: false }, rules));
  }
}

const ENGLISH: LobbyKind = { name: "any/en", pool: "any/*", splitEmotion: false };
const POOL: LobbyKind = { name: "any/*", pool: null, splitEmotion: false };

let people = 0;
function person(overrides: Partial<Seeker> & { emotion?: string; language?: string } = {}): Seeker {
  const n = ++people;
  const { emotion = "😊", language = "en", ...rest } = overrides;
  return {
    name: `P${n}`,
    user: `user-${n}`,
    device: `device-${n}`,
    network: `network-${n}`,
    vouched: false,
    avoid: [],
    criteria: { mode: "any", emotion, language },
    anyLanguage: false,
    interests: [],
    origin: "https://chat.test",
    ...rest,
  };
}

const types = (effects: LobbyEffect[]) => effects.map((e) => e.type);
const waitingSeat = (s: lobby.Standing) => (s.kind === "waiting" ? s.seatId : "");

describe("a newcomer", () => {
  it("waits when nobody is there, and is paired at once with the next newcomer of its queue, both told in one step", () => {
    const l = new FakeLobby(ENGLISH);
    const ana = person({ name: "Ana" });
    const first = l.arrive(ana, T0);
    expect(first).toMatchObject({ kind: "waiting", queueKey: "any:😊:en", enqueuedAt: T0 });
    l.drain();
    const second = l.arrive(person({ name: "Ben" }), T0 + 2_000);
    expect(second).toMatchObject({ kind: "matched", pairing: { partnerName: "Ana", relaxed: [], shared: [] } });
    const effects = l.drain();
    expect(types(effects)).toEqual(["send", "close", "open_room"]);
    // Ana hears on her waiting socket, which then closes as matched; the room is opened for both.
    expect(effects[0]).toMatchObject({ seatId: waitingSeat(first), frame: { type: "matched", partnerName: "Ben" } });
    expect(effects[1]).toMatchObject({ code: CLOSE.matched });
    const setup = (effects[2] as Extract<LobbyEffect, { type: "open_room" }>).setup;
    expect(setup.sides.map((s) => [s.name, s.waitedMs, s.returnTo])).toEqual([
      ["Ben", 0, null],
      ["Ana", 2_000, { lobby: "any/en", seatId: waitingSeat(first) }],
    ]);
    expect(l.get(waitingSeat(first))).toMatchObject({ kind: "matched", until: T0 + 2_000 + 2 * rules.connectWindowMs });
  });

  it("is never paired with itself, by userId or by deviceId, nor with a device either of them avoids", () => {
    const ana = person();
    const alone = (newcomer: Seeker, waiter: Seeker = ana) => {
      const l = new FakeLobby(ENGLISH);
      l.arrive(waiter, T0);
      return l.arrive(newcomer, T0 + 100).kind;
    };
    expect(alone({ ...ana, device: "another-device" })).toBe("waiting");
    expect(alone({ ...person(), device: ana.device })).toBe("waiting");
    expect(alone(person({ avoid: [ana.device] }))).toBe("waiting");
    const avoided = person();
    expect(alone(avoided, person({ avoid: [avoided.device] }))).toBe("waiting");
    expect(alone(person())).toBe("matched");
  });

  it("takes only an exact match: another feeling waits, however long the other has waited", () => {
    const l = new FakeLobby(ENGLISH);
    const seat = waitingSeat(l.arrive(person({ emotion: "😊" }), T0));
    l.sockets.set(seat, T0 + 59_000);
    expect(l.arrive(person({ emotion: "😢" }), T0 + 60_000).kind).toBe("waiting");
  });

  it("prefers a stranger who shares an interest, then the longest waiting", () => {
    const l = new FakeLobby(ENGLISH);
    // Two waits of one device, so the waiters do not take each other.
    l.arrive(person({ name: "Longest", device: "tablet" }), T0);
    l.arrive(person({ name: "Fan", device: "tablet", interests: ["chess", "films"] }), T0 + 100);
    const found = l.arrive(person({ interests: ["music", "chess"] }), T0 + 200);
    expect(found).toMatchObject({ kind: "matched", pairing: { partnerName: "Fan", shared: ["chess"] } });
    expect(l.arrive(person({ interests: ["knitting"] }), T0 + 300)).toMatchObject({
      kind: "matched",
      pairing: { partnerName: "Longest", shared: [] },
    });
  });

  it("replaces the wait the same user still holds on the same device: one search each", () => {
    const l = new FakeLobby(ENGLISH);
    const ana = person();
    const first = waitingSeat(l.arrive(ana, T0));
    l.drain();
    const second = waitingSeat(l.arrive(ana, T0 + 1_000));
    expect(second).not.toBe(first);
    expect(l.get(first)).toBeUndefined();
    expect(l.drain()).toContainEqual({ type: "send", seatId: first, frame: { type: "closed", reason: "superseded" } });
  });

  it("of two racing for one waiter, one gets it and the other waits: a matched wait is nobody's candidate", () => {
    const l = new FakeLobby(ENGLISH);
    l.arrive(person({ name: "Waiter" }), T0);
    const a = l.arrive(person(), T0 + 10);
    const b = l.arrive(person(), T0 + 10);
    expect([a.kind, b.kind]).toEqual(["matched", "waiting"]);
  });
});

describe("a newcomer's answer held a moment", () => {
  it("tells a stranger who comes meanwhile in that answer: no waiting socket, no wait to go back to", () => {
    const l = new FakeLobby(ENGLISH);
    const first = l.apply(lobby.arrive(l, { seeker: person({ name: "Ana" }), ids: l.ids, now: T0, hold: true }, rules));
    expect(first).toMatchObject({ kind: "waiting" });
    const seat = waitingSeat(first);
    expect(l.get(seat)).toMatchObject({ kind: "waiting", held: true });
    l.drain();
    expect(l.arrive(person({ name: "Ben" }), T0 + 20)).toMatchObject({
      kind: "matched",
      pairing: { partnerName: "Ana" },
    });
    const effects = l.drain();
    expect(types(effects)).toEqual(["answer", "open_room"]);
    expect(effects[0]).toMatchObject({ seatId: seat, pairing: { partnerName: "Ben" } });
    expect(l.get(seat)).toBeUndefined();
    expect((effects[1] as Extract<LobbyEffect, { type: "open_room" }>).setup.sides.map((s) => s.returnTo)).toEqual([
      null,
      null,
    ]);
  });

  it("lets it go as waiting, with its ticket, when nobody came", () => {
    const l = new FakeLobby(ENGLISH);
    const seat = waitingSeat(l.apply(lobby.arrive(l, { seeker: person(), ids: l.ids, now: T0, hold: true }, rules)));
    expect(l.apply(lobby.answered(l, seat))).toMatchObject({ kind: "waiting", seatId: seat });
    expect(l.get(seat)).not.toHaveProperty("held");
    // From now on it is told on its socket, as any wait.
    l.drain();
    l.arrive(person(), T0 + 300);
    expect(types(l.drain())).toEqual(["send", "close", "open_room"]);
  });
});

describe("presence", () => {
  it("skips a waiter that neither polled lately nor holds a live socket, and keeps its place until it is back", () => {
    const l = new FakeLobby(ENGLISH);
    const ghost = person({ name: "Ghost" });
    const ghostSeat = waitingSeat(l.arrive(ghost, T0));
    // Silent past the poll presence: a newcomer waits instead of meeting a ghost.
    const newcomer = l.arrive(person({ name: "New" }), T0 + rules.pollPresenceMs + 1);
    expect(newcomer.kind).toBe("waiting");
    // The ghost polls again within the window: back, it looks, and meets the newcomer.
    const back = l.apply(lobby.poll(l, ghostSeat, "token-1", ghost.user, l.ids, T0 + 10_000, rules));
    expect(back).toMatchObject({ kind: "matched", pairing: { partnerName: "New" } });
  });

  it("counts a waiting socket that answers pings, however long ago the last poll was", () => {
    const l = new FakeLobby(ENGLISH);
    const seat = waitingSeat(l.arrive(person({ name: "On socket" }), T0));
    l.sockets.set(seat, T0 + 50_000);
    expect(l.arrive(person(), T0 + 60_000)).toMatchObject({ kind: "matched", pairing: { partnerName: "On socket" } });
  });

  it("ends a wait silent for the whole window, and runs the window from a closed socket's last sign of life", () => {
    const l = new FakeLobby(ENGLISH);
    const seat = waitingSeat(l.arrive(person(), T0));
    l.apply(lobby.socketGone(l, seat, T0 + 5_000));
    l.drain();
    l.apply(lobby.alarm(l, l.ids, T0 + 5_000 + rules.queueTtlMs - 1, rules));
    expect(l.get(seat)).toBeDefined();
    l.apply(lobby.alarm(l, l.ids, T0 + 5_000 + rules.queueTtlMs, rules));
    expect(l.get(seat)).toBeUndefined();
    expect(types(l.drain())).toEqual(["send", "close", "log"]);
  });

  it("answers polls only with the ticket's token and its owner's userId", () => {
    const l = new FakeLobby(ENGLISH);
    const ana = person();
    const seat = waitingSeat(l.arrive(ana, T0));
    expect(l.apply(lobby.poll(l, seat, "wrong", ana.user, l.ids, T0 + 1, rules))).toEqual({ kind: "gone" });
    expect(l.apply(lobby.poll(l, seat, "token-1", "someone-else", l.ids, T0 + 1, rules))).toEqual({ kind: "gone" });
    expect(l.apply(lobby.poll(l, seat, "token-1", ana.user, l.ids, T0 + 1, rules))).toMatchObject({
      kind: "waiting",
      seatId: seat,
    });
  });
});

describe("a pairing whose partner never came", () => {
  it("gives the waiter back its place: the next newcomer gets it before someone who came later", () => {
    const l = new FakeLobby(ENGLISH);
    // Two tabs of one device, so the two waiters never take each other.
    const ana = waitingSeat(l.arrive(person({ name: "Ana", device: "tablet" }), T0));
    const noShow = l.arrive(person({ name: "Ghost" }), T0 + 1_000);
    if (noShow.kind !== "matched") throw new Error("expected a pairing");
    const later = waitingSeat(l.arrive(person({ name: "Later", device: "tablet" }), T0 + 2_000));
    l.sockets.set(later, T0 + 10_000);
    // The room gives Ana back after its connect window: she waits again, ahead of Later.
    l.apply(lobby.restore(l, ana, noShow.pairing.sessionId, l.ids, T0 + 11_000, rules));
    expect(l.get(ana)?.kind).toBe("waiting");
    expect(l.arrive(person({ name: "Next" }), T0 + 11_500)).toMatchObject({
      kind: "matched",
      pairing: { partnerName: "Ana" },
    });
  });

  it("looks at once when it is back, and meets someone who arrived meanwhile", () => {
    const l = new FakeLobby(ENGLISH);
    const ana = waitingSeat(l.arrive(person({ name: "Ana" }), T0));
    const noShow = l.arrive(person(), T0 + 1_000);
    if (noShow.kind !== "matched") throw new Error("expected a pairing");
    const later = waitingSeat(l.arrive(person({ name: "Later" }), T0 + 2_000));
    l.sockets.set(later, T0 + 10_000);
    l.apply(lobby.restore(l, ana, noShow.pairing.sessionId, l.ids, T0 + 11_000, rules));
    expect(l.get(ana)).toMatchObject({ kind: "matched", pairing: { partnerName: "Later" } });
  });

  it("ignores a restore of another session, or of a wait that moved on", () => {
    const l = new FakeLobby(ENGLISH);
    const ana = waitingSeat(l.arrive(person(), T0));
    l.arrive(person(), T0 + 1);
    const before = l.get(ana);
    l.apply(lobby.restore(l, ana, "other-session", l.ids, T0 + 2, rules));
    expect(l.get(ana)).toBe(before);
  });

  it("keeps a matched wait for polls while its owner may still join, then forgets it", () => {
    const l = new FakeLobby(ENGLISH);
    const ana = person();
    const seat = waitingSeat(l.arrive(ana, T0));
    l.arrive(person(), T0 + 1);
    expect(l.apply(lobby.poll(l, seat, "token-1", ana.user, l.ids, T0 + 5_000, rules))).toMatchObject({
      kind: "matched",
    });
    l.apply(lobby.alarm(l, l.ids, T0 + 1 + 2 * rules.connectWindowMs, rules));
    expect(l.get(seat)).toBeUndefined();
  });
});

describe("widening inside a lobby", () => {
  it("pairs two feelings of the same language once both waited past the threshold, and says so", () => {
    const l = new FakeLobby(ENGLISH);
    const happy = person({ emotion: "😊" });
    const sad = person({ emotion: "😢" });
    const happySeat = waitingSeat(l.arrive(happy, T0));
    l.arrive(sad, T0 + 5_000);
    // Happy is past the threshold, sad not yet: nothing.
    l.sockets.set(happySeat, T0 + 19_000);
    l.sockets.set("seat-2", T0 + 19_000);
    l.apply(lobby.alarm(l, l.ids, T0 + 19_000, rules));
    expect(l.get(happySeat)?.kind).toBe("waiting");
    l.apply(lobby.alarm(l, l.ids, T0 + 20_000, rules));
    expect(l.get(happySeat)).toMatchObject({ kind: "matched", pairing: { relaxed: ["emotion"] } });
  });

  it("lets an exact match win over a widened one", () => {
    const l = new FakeLobby(ENGLISH);
    const waiter = waitingSeat(l.arrive(person({ emotion: "😊", name: "Happy" }), T0));
    l.sockets.set(waiter, T0 + 20_000);
    // Another feeling's newcomer after the threshold does not take it…
    expect(l.arrive(person({ emotion: "😢" }), T0 + 20_000).kind).toBe("waiting");
    // …and the next happy newcomer gets it, exactly.
    expect(l.arrive(person({ emotion: "😊" }), T0 + 20_001)).toMatchObject({
      kind: "matched",
      pairing: { partnerName: "Happy", relaxed: [] },
    });
  });
});

describe("the pool: waits that reach past their lobby", () => {
  function lentOut() {
    const home = new FakeLobby(ENGLISH);
    const ana = person({ name: "Ana", anyLanguage: true });
    const seat = waitingSeat(home.arrive(ana, T0));
    home.sockets.set(seat, T0 + 29_000);
    home.drain();
    home.apply(lobby.alarm(home, home.ids, T0 + 30_000, rules));
    return { home, seat, ana };
  }

  it("lends an any-language wait to the pool once its search reaches other languages, vouching for its owner", () => {
    const { home, seat } = lentOut();
    expect(home.get(seat)).toMatchObject({ kind: "lent", pool: "any/*", lease: 1 });
    const [lend] = home.drain();
    expect(lend).toMatchObject({
      type: "lend",
      pool: "any/*",
      wait: { seatId: seat, lease: 1, home: { lobby: "any/en", presentUntil: T0 + 29_000 + rules.heartbeatTimeoutMs } },
    });
    // A wait that never allowed other languages is never lent.
    const other = new FakeLobby(ENGLISH);
    other.arrive(person(), T0);
    other.apply(lobby.alarm(other, other.ids, T0 + 5_000, rules));
    expect(types(other.drain())).not.toContain("lend");
  });

  it("asks a lent wait back for an exact newcomer at home, and pairs them once it is back", () => {
    const { home, seat } = lentOut();
    home.drain();
    const newcomer = home.arrive(person({ name: "Ben" }), T0 + 31_000);
    expect(newcomer.kind).toBe("waiting");
    expect(home.drain()).toContainEqual({ type: "recall", pool: "any/*", seatId: seat, lease: 1, wanted: true });
    expect(home.get(seat)).toMatchObject({ kind: "lent", recalling: true });
    home.apply(lobby.recalled(home, seat, { kind: "returned" }, home.ids, T0 + 31_050, rules));
    expect(home.get(seat)).toMatchObject({ kind: "matched", pairing: { partnerName: "Ben" } });
  });

  it("pairs lent waits of two languages in the pool and tells each home", () => {
    const pool = new FakeLobby(POOL);
    const lent = (s: Seeker, home: string, seatId: string): Wait => ({
      seatId,
      token: "t",
      owner: s,
      enqueuedAt: T0,
      polledAt: T0,
      home: { lobby: home, presentUntil: T0 + 60_000 },
      lease: 1,
    });
    pool.apply(
      lobby.lendIn(
        pool,
        lent(person({ language: "en", anyLanguage: true }), "any/en", "en-seat"),
        undefined,
        pool.ids,
        T0 + 30_000,
        rules,
      ),
    );
    expect(pool.get("en-seat")?.kind).toBe("waiting");
    pool.apply(
      lobby.lendIn(
        pool,
        lent(person({ language: "es", emotion: "😢", anyLanguage: true }), "any/es", "es-seat"),
        undefined,
        pool.ids,
        T0 + 30_000,
        rules,
      ),
    );
    const effects = pool.drain();
    expect(types(effects)).toEqual(["deliver", "deliver", "open_room"]);
    expect(effects[0]).toMatchObject({
      home: "any/es",
      seatId: "es-seat",
      pairing: { relaxed: ["language", "emotion"] },
    });
    expect(effects[1]).toMatchObject({ home: "any/en", seatId: "en-seat" });
    // The room gives each back to its own home if the other never comes.
    expect((effects[2] as Extract<LobbyEffect, { type: "open_room" }>).setup.sides.map((s) => s.returnTo)).toEqual([
      { lobby: "any/es", seatId: "es-seat" },
      { lobby: "any/en", seatId: "en-seat" },
    ]);
    // A home that vouches again (its delivery was lost) hears the pairing in answer.
    const again = pool.apply(
      lobby.lendIn(pool, lent(person(), "any/en", "en-seat"), undefined, pool.ids, T0 + 31_000, rules),
    );
    expect(again).toMatchObject({
      sessionId: (effects[1] as Extract<LobbyEffect, { type: "deliver" }>).pairing.sessionId,
    });
    expect(pool.apply(lobby.recallOut(pool, "en-seat"))).toMatchObject({ kind: "paired" });
  });

  it("may ask a lent wait back again when the pool could not be asked", () => {
    const { home, seat } = lentOut();
    home.arrive(person(), T0 + 31_000);
    expect(home.get(seat)).toMatchObject({ kind: "lent", recalling: true });
    home.apply(lobby.recallFailed(home, seat));
    expect(home.get(seat)).toMatchObject({ kind: "lent", recalling: false });
  });

  it("tells the owner at home when the pool paired its wait, once", () => {
    const { home, seat } = lentOut();
    home.drain();
    const pairing = {
      sessionId: "s",
      token: "t",
      wsUrl: "wss://x",
      partnerId: "p",
      partnerName: "Luis",
      relaxed: ["language" as const],
      shared: [],
    };
    expect(home.apply(lobby.delivered(home, seat, pairing, T0 + 31_000, rules))).toBe(true);
    expect(types(home.drain())).toEqual(["send", "close"]);
    expect(home.apply(lobby.delivered(home, seat, pairing, T0 + 31_001, rules))).toBe(true);
    expect(home.drain()).toEqual([]);
    expect(home.apply(lobby.delivered(home, "gone", pairing, T0 + 31_001, rules))).toBe(false);
  });

  it("ignores a lend that overtook its own recall: a lease given back is never lent again", () => {
    const pool = new FakeLobby(POOL);
    const w: Wait = {
      seatId: "x",
      token: "t",
      owner: person({ anyLanguage: true }),
      enqueuedAt: T0,
      polledAt: T0,
      home: { lobby: "any/en", presentUntil: T0 + 60_000 },
      lease: 3,
    };
    pool.apply(lobby.lendIn(pool, w, 3, pool.ids, T0 + 30_000, rules));
    expect(pool.get("x")).toBeUndefined();
    pool.apply(lobby.lendIn(pool, { ...w, lease: 4 }, 3, pool.ids, T0 + 30_000, rules));
    expect(pool.get("x")?.kind).toBe("waiting");
  });

  it("takes back a wait whose owner left, and stops offering one its home no longer vouches for", () => {
    const { home, seat, ana } = lentOut();
    home.drain();
    home.apply(lobby.leave(home, [seat], "left"));
    expect(home.drain()).toContainEqual({ type: "recall", pool: "any/*", seatId: seat, lease: 1, wanted: false });
    const pool = new FakeLobby(POOL);
    const w: Wait = {
      seatId: "y",
      token: "t",
      owner: ana,
      enqueuedAt: T0,
      polledAt: T0,
      home: { lobby: "any/en", presentUntil: T0 + 40_000 },
      lease: 1,
    };
    pool.apply(lobby.lendIn(pool, w, undefined, pool.ids, T0 + 30_000, rules));
    const late: Wait = {
      ...w,
      seatId: "z",
      owner: person({ language: "de", anyLanguage: true }),
      home: { lobby: "any/de", presentUntil: T0 + 60_000 },
    };
    // Past its home's word, it is not offered…
    pool.apply(lobby.lendIn(pool, late, undefined, pool.ids, T0 + 40_001, rules));
    expect(pool.get("z")?.kind).toBe("waiting");
    // …and after a window more, forgotten.
    pool.apply(lobby.alarm(pool, pool.ids, T0 + 40_000 + rules.queueTtlMs, rules));
    expect(pool.get("y")).toBeUndefined();
  });

  it("vouches again for a lent wait while its owner is there", () => {
    const { home, seat } = lentOut();
    home.drain();
    home.sockets.set(seat, T0 + 45_000);
    home.apply(lobby.alarm(home, home.ids, T0 + 46_000, rules));
    expect(home.drain()).toContainEqual(
      expect.objectContaining({
        type: "lend",
        wait: expect.objectContaining({ lease: 1, home: { lobby: "any/en", presentUntil: T0 + 75_000 } }),
      }),
    );
  });
});

describe("a split language", () => {
  it("lends every wait to the pool once it may meet another feeling", () => {
    const l = new FakeLobby({ name: "any/en/😊", pool: "any/*", splitEmotion: true });
    const seat = waitingSeat(l.arrive(person(), T0));
    l.sockets.set(seat, T0 + 15_000);
    l.apply(lobby.alarm(l, l.ids, T0 + 14_999, rules));
    expect(l.get(seat)?.kind).toBe("waiting");
    l.apply(lobby.alarm(l, l.ids, T0 + 15_000, rules));
    expect(l.get(seat)?.kind).toBe("lent");
  });
});

describe("deadlines", () => {
  it("are never in the past, and name the next real event: expiry, a threshold, vouching, forgetting", () => {
    const l = new FakeLobby(ENGLISH);
    const seat = waitingSeat(l.arrive(person({ anyLanguage: true }), T0));
    const w = l.get(seat)!;
    expect(lobby.nextDeadline(w, null, T0, rules)).toBe(T0 + rules.widening.emotionAfterMs);
    expect(lobby.nextDeadline(w, null, T0 + 16_000, rules)).toBe(T0 + rules.queueTtlMs);
    expect(lobby.nextDeadline(w, T0 + 29_000, T0 + 29_500, rules)).toBe(T0 + rules.widening.languageAfterMs);
    for (const now of [T0, T0 + 100_000]) expect(lobby.nextDeadline(w, null, now, rules)).toBeGreaterThan(now);
  });

  it("greet a waiting socket with the protocol version and when the search widens", () => {
    const l = new FakeLobby(ENGLISH);
    const seat = waitingSeat(l.arrive(person({ anyLanguage: true }), T0));
    const frames = l.apply(lobby.socketOpened(l, seat, l.ids, T0 + 5_000, rules));
    expect(frames).toEqual([
      { type: "waiting", v: 3, queueKey: "any:😊:en", widening: { emotionAfterMs: 10_000, languageAfterMs: 25_000 } },
    ]);
  });
});
