/**
 * A language split by feeling (LOBBY_SPLIT_LANGUAGES = "en" in this project): one lobby per
 * feeling, each the authority over its exact queue, and the pool of the mode pairing waits of
 * two feelings once both may meet.
 */

import { listDurableObjectIds } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { MatchFound, MatchRequest, MatchWaiting } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import { lobbyNameOf } from "../worker/matching/matchmaker";
import { match, matched, newUser, timePasses, uniqueMode, wait, waitUntil, windows } from "./helpers";

const poll = (user: MatchRequest, waiting: MatchWaiting) => match({ ...user, ticket: waiting.ticket });

describe("a language split by feeling", () => {
  it("has a lobby per feeling; other languages keep one lobby", () => {
    expect(lobbyNameOf({ mode: "any", language: "en", emotion: "😊" }, env)).toBe("any/en/😊");
    expect(lobbyNameOf({ mode: "any", language: "es", emotion: "😊" }, env)).toBe("any/es");
  });

  it("pairs a feeling's exact queue in its own lobby", async () => {
    const mode = uniqueMode();
    const lobbies = (await listDurableObjectIds(env.LOBBY)).length;
    await wait(newUser({ mode, language: "en", emotion: "😊", userName: "Ana" }));
    await wait(newUser({ mode, language: "en", emotion: "😢" }));
    expect(await matched(newUser({ mode, language: "en", emotion: "😊" }))).toMatchObject({
      partnerName: "Ana",
      relaxed: [],
    });
    expect((await listDurableObjectIds(env.LOBBY)).length).toBe(lobbies + 2);
  });

  it("pairs across the split: two feelings meet in the pool once both waited past the threshold", async () => {
    const mode = uniqueMode();
    const happy = newUser({ mode, language: "en", emotion: "😊" });
    const sad = newUser({ mode, language: "en", emotion: "😢" });
    const [happyWait, sadWait] = [await wait(happy), await wait(sad)];
    // Past the threshold (1 s in tests) a poll lends each to the pool, which pairs them and tells both homes.
    const home = (emotion: string) =>
      env.LOBBY.get(env.LOBBY.idFromName(lobbyNameOf({ mode, language: "en", emotion }, env)));
    await timePasses(windows.emotionAfterMs, home("😊"), home("😢"));
    let pairing: MatchFound | null = null;
    await waitUntil(
      async () => {
        const [a, b] = await Promise.all([poll(happy, happyWait), poll(sad, sadWait)]);
        pairing = a.matched ? a : b.matched ? b : null;
        return pairing !== null;
      },
      5000,
      "the pool to pair them",
    );
    expect(pairing).toMatchObject({ relaxed: ["emotion"] });
    await waitUntil(
      async () => (await poll(happy, happyWait)).matched && (await poll(sad, sadWait)).matched,
      3000,
      "both told",
    );
    const [a, b] = (await Promise.all([poll(happy, happyWait), poll(sad, sadWait)])) as MatchFound[];
    expect(a.sessionId).toBe(b.sessionId);
  });
});
