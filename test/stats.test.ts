import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StatsSnapshot } from "../worker/protocol";
import { match, newUser, pairUp, uniqueLanguage, waitUntil } from "./helpers";

const stats = async (): Promise<StatsSnapshot> => (await exports.default.fetch("http://chat.test/api/stats")).json();

describe("GET /api/stats", () => {
  it("counts waiting users per queue, active rooms and pairings, and nothing about anyone", async () => {
    const language = uniqueLanguage();
    await match(newUser({ language, emotion: "😊" }));
    await waitUntil(async () => (await stats()).waiting[`any:😊:${language}`] === 1);

    const before = await stats();
    const { aliceChat } = await pairUp();
    await waitUntil(async () => (await stats()).activeRooms === before.activeRooms + 1);
    const during = await stats();
    expect(during.pairingsThisMinute + during.pairingsLastMinute).toBeGreaterThan(0);
    expect(JSON.stringify(during)).not.toMatch(/user-|device-|Tester|Alice|Bob/);

    aliceChat.send({ type: "leave" });
    await aliceChat.closed;
    await waitUntil(async () => (await stats()).activeRooms === before.activeRooms);
  });
});
