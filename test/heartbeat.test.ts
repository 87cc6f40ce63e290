/**
 * A socket that stops pinging without closing is noticed as gone. Its last ping is the runtime's
 * record, which no test can move back, so these tests wait out a real heartbeat timeout: in this
 * project (vitest.config.ts: heartbeat) one second, with test sockets pinging every 250 ms.
 */

import { CLOSE } from "@strangers/protocol";
import { describe, expect, it } from "vitest";
import { lobbyOf, match, newUser, pairUp, sleep, timePasses, uniqueMode, waitOnSocket, windows } from "./helpers";

/** Past the heartbeat timeout since the last ping, with room for a busy machine. */
const QUIET_FOR_MS = windows.heartbeatTimeoutMs + 500;

describe("presence without goodbyes", () => {
  it("tells a user its partner vanished when it speaks, and drops the vanished socket", async () => {
    const { aliceMatch, aliceChat: alice, bobChat: bob } = await pairUp();
    bob.vanish();
    // Nothing polls for the timeout; the next message finds out.
    await sleep(QUIET_FOR_MS);
    alice.send({ type: "message", text: "are you there?" });
    expect(await alice.next("partner_offline")).toMatchObject({ partnerId: aliceMatch.partnerId });
    expect(await alice.next("message")).toMatchObject({ text: "are you there?" });
    expect((await bob.closed).code).toBe(CLOSE.stale);
    expect(alice.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("does not offer a waiter whose waiting socket stopped answering", async () => {
    const mode = uniqueMode();
    const { socket } = await waitOnSocket(newUser({ mode }));
    socket.vanish();
    await sleep(QUIET_FOR_MS);
    // The request that opened the wait counts as presence for two poll intervals: that passes too, so only the socket could keep it offered.
    await timePasses(windows.pollPresenceMs, lobbyOf(mode));
    expect((await match(newUser({ mode }))).matched).toBe(false);
  });
});
