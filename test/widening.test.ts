import { describe, expect, it } from "vitest";
import type { MatchFound, MatchRequest, MatchWaiting } from "../worker/protocol";
import { match, newUser, sleep, uniqueLanguage } from "./helpers";

// In tests the search widens to any emotion after 1 s and to any language after 2 s (vitest.config.ts).
const poll = (user: MatchRequest, wait: MatchWaiting) => match({ ...user, ticket: wait.ticket });

describe("widening", () => {
  it("says when the search will widen", async () => {
    const wait = (await match(newUser({ language: uniqueLanguage(), anyLanguage: true }))) as MatchWaiting;
    expect(wait.widening.emotionAfterMs).toBeGreaterThan(500);
    expect(wait.widening.languageAfterMs).toBeGreaterThan(wait.widening.emotionAfterMs);
    const exactOnly = (await match(newUser({ language: uniqueLanguage() }))) as MatchWaiting;
    expect(exactOnly.widening.languageAfterMs).toBeNull();
  });

  it("never relaxes anything before both sides waited past the threshold", async () => {
    const language = uniqueLanguage();
    const happy = newUser({ language, emotion: "😊" });
    const sad = newUser({ language, emotion: "😢" });
    const happyWait = (await match(happy)) as MatchWaiting;
    const sadWait = (await match(sad)) as MatchWaiting;
    expect(sadWait.matched).toBe(false);
    expect((await poll(sad, sadWait)).matched).toBe(false);
    expect((await poll(happy, happyWait)).matched).toBe(false);
  });

  it("lets an exact match win over a widened one", async () => {
    const language = uniqueLanguage();
    const happy = newUser({ language, emotion: "😊" });
    const happyWait = (await match(happy)) as MatchWaiting;
    await sleep(1200);
    await poll(happy, happyWait);
    // A newcomer of another emotion only ever looks in its own queue…
    const sadWait = (await match(newUser({ language, emotion: "😢" }))) as MatchWaiting;
    expect(sadWait.matched).toBe(false);
    // …so the next happy newcomer still gets the happy waiter, exactly.
    const exact = (await match(newUser({ language, emotion: "😊" }))) as MatchFound;
    expect(exact).toMatchObject({ matched: true, sessionId: happyWait.sessionId, relaxed: [] });
  });

  it("widens to the same language with any emotion, and says so to both", async () => {
    const language = uniqueLanguage();
    const happy = newUser({ language, emotion: "😊" });
    const sad = newUser({ language, emotion: "😢" });
    const happyWait = (await match(happy)) as MatchWaiting;
    const sadWait = (await match(sad)) as MatchWaiting;
    await sleep(1200);
    await poll(happy, happyWait);
    const sadMatch = (await poll(sad, sadWait)) as MatchFound;
    expect(sadMatch).toMatchObject({ matched: true, sessionId: happyWait.sessionId, relaxed: ["emotion"] });
    expect(await poll(happy, happyWait)).toMatchObject({ matched: true, sessionId: happyWait.sessionId, relaxed: ["emotion"] });
  });

  it("widens to any language only for users who allowed it", async () => {
    // "Any language" spans every queue of a mode: a mode of its own keeps other tests' waiters out.
    const [emotion, mode] = ["🤔", uniqueLanguage()];
    const [english, spanish, german] = [uniqueLanguage(), uniqueLanguage(), uniqueLanguage()];
    const ana = newUser({ mode, language: english, emotion, anyLanguage: true });
    const ben = newUser({ mode, language: spanish, emotion, anyLanguage: true });
    const carl = newUser({ mode, language: german, emotion });
    const waits = new Map<MatchRequest, MatchWaiting>();
    for (const u of [carl, ana, ben]) waits.set(u, (await match(u)) as MatchWaiting);
    await sleep(1200);
    for (const u of [carl, ana, ben]) expect((await poll(u, waits.get(u)!)).matched).toBe(false);
    await sleep(1000);
    await poll(carl, waits.get(carl)!);
    await poll(ana, waits.get(ana)!);
    const benMatch = await poll(ben, waits.get(ben)!);
    expect(benMatch).toMatchObject({ matched: true, sessionId: waits.get(ana)!.sessionId, relaxed: ["language"] });
    expect((await poll(carl, waits.get(carl)!)).matched).toBe(false);
  });
});
