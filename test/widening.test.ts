import type { MatchFound, MatchRequest, MatchWaiting } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import { connect, lobbyOf, match, newUser, timePasses, uniqueMode, wait, waitUntil } from "./helpers";

// In tests the search widens to any emotion after 1 s and to any language after 2 s (vitest.config.ts);
// nobody waits for that: the time passes for the lobbies (timePasses).
const poll = (user: MatchRequest, waiting: MatchWaiting) => match({ ...user, ticket: waiting.ticket });

/**
 * Polls until the wait is matched: a pairing across languages is made by the pool, which the
 * waits reach a moment after their owners' polls lent them.
 */
async function pollUntilMatched(user: MatchRequest, waiting: MatchWaiting): Promise<MatchFound> {
  let answer = await poll(user, waiting);
  await waitUntil(async () => (answer = await poll(user, waiting)).matched, 3000, "a pairing");
  return answer as MatchFound;
}

/** One joins its chat; the other's poll finds the same pairing. */
async function joined(one: MatchFound, other: MatchRequest, waiting: MatchWaiting): Promise<MatchFound> {
  await (await connect(one.wsUrl, one.token)).next("welcome");
  return pollUntilMatched(other, waiting);
}

describe("widening", () => {
  it("says when the search will widen", async () => {
    const waiting = await wait(newUser({ mode: uniqueMode(), anyLanguage: true }));
    expect(waiting.widening.emotionAfterMs).toBeGreaterThan(500);
    expect(waiting.widening.languageAfterMs).toBeGreaterThan(waiting.widening.emotionAfterMs);
    const exactOnly = await wait(newUser({ mode: uniqueMode() }));
    expect(exactOnly.widening.languageAfterMs).toBeNull();
  });

  it("never relaxes anything before both sides waited past the threshold", async () => {
    const mode = uniqueMode();
    const happy = newUser({ mode, emotion: "😊" });
    const sad = newUser({ mode, emotion: "😢" });
    const happyWait = await wait(happy);
    const sadWait = await wait(sad);
    expect((await poll(sad, sadWait)).matched).toBe(false);
    expect((await poll(happy, happyWait)).matched).toBe(false);
  });

  it("lets an exact match win over a widened one", async () => {
    const mode = uniqueMode();
    const happy = newUser({ mode, emotion: "😊", userName: "Happy" });
    const happyWait = await wait(happy);
    await timePasses(1200, lobbyOf(mode));
    await poll(happy, happyWait);
    // A newcomer of another emotion only ever looks in its own queue…
    expect((await match(newUser({ mode, emotion: "😢" }))).matched).toBe(false);
    // …so the next happy newcomer still gets the happy waiter, exactly.
    expect(await match(newUser({ mode, emotion: "😊" }))).toMatchObject({
      matched: true,
      partnerName: "Happy",
      relaxed: [],
    });
  });

  it("widens to the same language with any emotion, and says so to both", async () => {
    const mode = uniqueMode();
    const happy = newUser({ mode, emotion: "😊" });
    const sad = newUser({ mode, emotion: "😢" });
    const happyWait = await wait(happy);
    const sadWait = await wait(sad);
    await timePasses(1200, lobbyOf(mode));
    await poll(happy, happyWait);
    // The later waiter claims the earlier one.
    const sadMatch = (await poll(sad, sadWait)) as MatchFound;
    expect(sadMatch).toMatchObject({ matched: true, relaxed: ["emotion"] });
    expect(await joined(sadMatch, happy, happyWait)).toMatchObject({
      matched: true,
      sessionId: sadMatch.sessionId,
      relaxed: ["emotion"],
    });
  });

  it("widens to any language only for users who allowed it", async () => {
    // "Any language" spans every queue of a mode: a mode of its own keeps other tests' waiters out.
    const [emotion, mode] = ["🤔", uniqueMode()];
    const [english, spanish, german] = ["en", "es", "de"];
    const ana = newUser({ mode, language: english, emotion, anyLanguage: true });
    const ben = newUser({ mode, language: spanish, emotion, anyLanguage: true });
    const carl = newUser({ mode, language: german, emotion });
    const waits = new Map<MatchRequest, MatchWaiting>();
    for (const u of [carl, ana, ben]) waits.set(u, await wait(u));
    const lobbies = [english, spanish, german].map((language) => lobbyOf(mode, language));
    await timePasses(1200, ...lobbies);
    for (const u of [carl, ana, ben]) expect((await poll(u, waits.get(u)!)).matched).toBe(false);
    await timePasses(1000, ...lobbies);
    await poll(carl, waits.get(carl)!);
    await poll(ana, waits.get(ana)!);
    const benMatch = await pollUntilMatched(ben, waits.get(ben)!);
    expect(benMatch).toMatchObject({ matched: true, relaxed: ["language"] });
    expect(await joined(benMatch, ana, waits.get(ana)!)).toMatchObject({
      matched: true,
      sessionId: benMatch.sessionId,
    });
    expect((await poll(carl, waits.get(carl)!)).matched).toBe(false);
  });
});
