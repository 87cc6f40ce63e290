import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { policy, settings, timings, type Vars } from "../worker/platform/config";

// Each case is a fresh object, so nothing is served from the parsed-settings cache.
const withVars = (vars: Record<string, unknown>) => ({ ...env, ...vars }) as Env;

describe("settings", () => {
  it("takes the defaults for vars left out or set to an empty string", () => {
    const s = settings({} as Env);
    expect(s.QUEUE_TTL_SECONDS).toBe(30_000);
    expect(s.MATCH_CONCURRENCY).toBe(128);
    expect(s.MATCHMAKER).toBe("kv");
    expect(s.ALLOWED_ORIGINS).toEqual([]);
    expect(settings(withVars({ MINIMUM_AGE: "", LOBBY_SPLIT_LANGUAGES: "" })).MINIMUM_AGE).toBe(18);
    expect(settings(withVars({ MESSAGE_LOG_SAMPLE_RATE: " ", MODERATION_ACTION: " Refuse " }))).toMatchObject({
      MESSAGE_LOG_SAMPLE_RATE: 0.01,
      MODERATION_ACTION: "refuse",
    });
  });

  it("reads numbers written as strings or as TOML numbers, and lists by comma", () => {
    const s = settings(withVars({ ROOM_IDLE_SECONDS: 60, MINIMUM_AGE: "21", LOBBY_SPLIT_LANGUAGES: " EN, pt ,," }));
    expect(timings(withVars({ ROOM_IDLE_SECONDS: 60 })).roomIdleMs).toBe(60_000);
    expect(policy(withVars({ MINIMUM_AGE: "21" })).minimumAge).toBe(21);
    expect(s.LOBBY_SPLIT_LANGUAGES).toEqual(["en", "pt"]);
  });

  it("names every bad setting instead of quietly using a default", () => {
    const bad = withVars({
      MATCH_CONCURRENCY: "many",
      MINIMUM_AGE: "12",
      MATCHMAKER: "redis",
      QUEUE_TTL_SECONDS: "-5",
      MODERATION_ACTION: "block",
      REPORT_THRESHOLD: "2.5",
    });
    expect(() => settings(bad)).toThrow(/MATCH_CONCURRENCY must be a number/);
    expect(() => settings(bad)).toThrow(/MINIMUM_AGE must be at least 13/);
    expect(() => settings(bad)).toThrow(/MATCHMAKER must be one of kv, durable-object/);
    expect(() => settings(bad)).toThrow(/QUEUE_TTL_SECONDS must be more than 0/);
    expect(() => settings(bad)).toThrow(/MODERATION_ACTION must be one of mask, refuse, off/);
    expect(() => settings(bad)).toThrow(/REPORT_THRESHOLD must be a whole number/);
  });

  it("parses every deployed environment's vars from wrangler.toml", () => {
    const deployed = JSON.parse((env as unknown as { DEPLOYED_VARS: string }).DEPLOYED_VARS) as Record<string, Vars>;
    expect(Object.keys(deployed)).toEqual(["staging", "production"]);
    for (const vars of Object.values(deployed)) {
      const s = settings(vars);
      expect(s.LOCAL_DEVELOPMENT).toBe(false);
      expect(s.MINIMUM_AGE).toBeGreaterThanOrEqual(18);
    }
  });

  it("parses the test project's own vars", () => {
    expect(settings(env).MATCH_CONCURRENCY).toBe(1000);
    expect(timings(env).queueTtlMs).toBe(5000);
  });
});
