/** Runs in its own vitest project, where TURNSTILE_SECRET is set (vitest.config.ts): the gate is on. */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { allDeviceShards } from "../worker/platform/stubs";
import { SITEVERIFY_URL } from "../worker/trust/bot-check";
import { networkOf } from "../worker/trust/client-address";
import { fingerprint } from "../worker/trust/identity";
import { newUser, postMatch, uniqueMode } from "./helpers";

const SECRET = "test-turnstile-secret";

/** A local stand-in for Cloudflare's siteverify: each token it issued passes once, with the right secret. */
function siteverify({ reachable = true } = {}) {
  const issued = new Set(["token-1", "token-2"]);
  const seen: { secret: string; response: string; remoteip: string | null }[] = [];
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (request.url !== SITEVERIFY_URL) return realFetch(input, init);
    if (!reachable) throw new TypeError("network connection lost");
    const form = await request.formData();
    const call = {
      secret: String(form.get("secret")),
      response: String(form.get("response")),
      remoteip: form.get("remoteip") as string | null,
    };
    seen.push(call);
    const success = call.secret === SECRET && issued.delete(call.response);
    return Response.json({ success, "error-codes": success ? [] : ["invalid-input-response"] });
  });
  return seen;
}

beforeEach(() => vi.restoreAllMocks());
afterEach(() => vi.restoreAllMocks());

describe("the optional human check (Turnstile)", () => {
  it("asks a new device once, verifies the token server-side, and remembers the device", async () => {
    const seen = siteverify();
    const user = newUser({ mode: uniqueMode() });
    const asked = await postMatch(user);
    expect(asked.status).toBe(403);
    expect(await asked.json()).toMatchObject({ error: { code: "bot_check_required", siteKey: "test-site-key" } });

    const wrong = await postMatch({ ...user, turnstileToken: "forged" });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ error: { code: "bot_check_failed" } });

    const address = { "CF-Connecting-IP": "203.0.113.5" };
    expect((await postMatch({ ...user, turnstileToken: "token-1" }, { headers: address })).status).toBe(200);
    expect(seen.at(-1)).toEqual({ secret: SECRET, response: "token-1", remoteip: "203.0.113.5" });
    // Remembered: no token needed again; a token is never good twice.
    expect((await postMatch(user)).status).toBe(200);
    const replay = await postMatch({ ...newUser({ mode: uniqueMode() }), turnstileToken: "token-1" });
    expect(await replay.json()).toMatchObject({ error: { code: "bot_check_failed" } });
  });

  it("after a ban marks a network, asks its devices again on their next search, but never throws a waiter out of its wait", async () => {
    siteverify();
    const address = { "CF-Connecting-IP": "198.51.100.7" };
    const user = newUser({ mode: uniqueMode() });
    const waiting = (await (await postMatch({ ...user, turnstileToken: "token-1" }, { headers: address })).json()) as {
      ticket: string;
    };
    // Someone else on that network is banned: every shard marks it.
    const network = await fingerprint(env, networkOf("198.51.100.7"));
    await Promise.all(
      allDeviceShards(env).map((shard) => shard.mark("someone-else", network, Date.now(), Date.now() + 86_400_000)),
    );
    // The wait goes on: its polls are not re-challenged.
    const poll = await postMatch({ ...user, ticket: waiting.ticket }, { headers: address });
    expect(poll.status).toBe(200);
    expect(await poll.json()).toMatchObject({ success: true, matched: false });
    // A new search is, and so is a made-up ticket, which is only a new search.
    for (const body of [
      { ...newUser(), deviceId: user.deviceId },
      { ...user, ticket: "aaaaaaaaaaaa.bbbbbbbbbbbb" },
    ]) {
      const asked = await postMatch(body, { headers: address });
      expect(asked.status).toBe(403);
      expect(await asked.json()).toMatchObject({ error: { code: "bot_check_required" } });
    }
  });

  it("fails closed when siteverify cannot be reached", async () => {
    siteverify({ reachable: false });
    const res = await postMatch({ ...newUser({ mode: uniqueMode() }), turnstileToken: "token-2" });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "bot_check_failed" } });
  });
});
