import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";
import { unstable_readConfig } from "wrangler";

type Project = {
  matchmaker?: "kv" | "durable-object";
  include: string[];
  exclude?: string[];
  bindings?: Record<string, string>;
};

/** A test project running inside workerd with the worker's real bindings, on one matchmaker backend. */
function workerd(
  name: string,
  { matchmaker = "kv", include, exclude = [], bindings = {} }: Project,
): TestProjectInlineConfiguration {
  return {
    extends: true,
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // Short windows so expiry, idle and widening paths run in seconds, not minutes.
          bindings: {
            MATCHMAKER: matchmaker,
            QUEUE_TTL_SECONDS: "5",
            CONNECT_WINDOW_SECONDS: "3",
            // Test sockets ping four times per timeout: every second here (test/helpers.ts).
            HEARTBEAT_TIMEOUT_SECONDS: "4",
            ROOM_IDLE_SECONDS: "300",
            WIDEN_EMOTION_SECONDS: "1",
            WIDEN_LANGUAGE_SECONDS: "2",
            ALLOWED_ORIGINS: "https://app.example",
            // Tests of matching fire hundreds of requests at once at one isolate; turning them away is the overload project's test.
            MATCH_CONCURRENCY: "1000",
            // A wider device budget, so tests that make 50 attempts from one device run in seconds; the flood test sends well past it.
            MATCHES_PER_DEVICE: "120",
            ...bindings,
          },
        },
      }),
    ],
    test: { name, include, exclude },
  };
}

/** The vars each deployed environment gets, so test/config.test.ts can parse them: a dry-run deploy never runs the worker. */
const DEPLOYED_VARS = JSON.stringify(
  Object.fromEntries(
    ["staging", "production"].map((name) => [
      name,
      unstable_readConfig({ config: "wrangler.toml", env: name }, { hideWarnings: true }).vars,
    ]),
  ),
);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    // The worker's JSON event log is noise in test output; warnings and errors still show.
    onConsoleLog: (_log, type) => (type === "stdout" ? false : undefined),
    projects: [
      workerd("kv", {
        include: ["test/**/*.test.ts", "web-client/test/**/*.test.ts", "packages/client/test/workerd/**/*.test.ts"],
        exclude: [
          "test/bot-check.test.ts",
          "test/split.test.ts",
          "test/moderation-refuse.test.ts",
          "test/overload.test.ts",
          "test/hibernation.test.ts",
          "test/heartbeat.test.ts",
        ],
        bindings: { DEPLOYED_VARS },
      }),
      // The matchmaking suite runs again with the lobbies' other store: both must pass the same tests.
      workerd("durable-object", {
        matchmaker: "durable-object",
        include: ["test/match.test.ts", "test/widening.test.ts", "test/lobby.test.ts", "test/interests.test.ts"],
      }),
      // English split into a lobby per feeling.
      workerd("split", { include: ["test/split.test.ts"], bindings: { LOBBY_SPLIT_LANGUAGES: "en" } }),
      // The moderation filter refusing instead of masking.
      workerd("moderation-refuse", {
        include: ["test/moderation-refuse.test.ts"],
        bindings: { MODERATION_ACTION: "refuse" },
      }),
      // An isolate that takes two match requests at once, so a handful overload it.
      workerd("overload", { include: ["test/overload.test.ts"], bindings: { MATCH_CONCURRENCY: "2" } }),
      // Sockets that go quiet must be seen gone: their last ping is the runtime's record, which no test can move back, so
      // these tests wait a real heartbeat timeout, made one second long (sockets ping every 250 ms).
      workerd("heartbeat", {
        include: ["test/hibernation.test.ts", "test/heartbeat.test.ts"],
        bindings: { HEARTBEAT_TIMEOUT_SECONDS: "1" },
      }),
      // The optional human check, switched on.
      workerd("bot-check", {
        include: ["test/bot-check.test.ts"],
        bindings: { TURNSTILE_SECRET: "test-turnstile-secret", TURNSTILE_SITE_KEY: "test-site-key" },
      }),
      // The client package in Node 22, no DOM and no workerd: the global fetch and WebSocket against the real
      // worker under `wrangler dev`, which the global setup starts once and every test file shares.
      {
        extends: true,
        resolve: { conditions: ["strangers-source"] },
        test: {
          name: "client",
          environment: "node",
          include: ["packages/client/test/*.test.ts"],
          globalSetup: ["packages/client/test/global-setup.ts"],
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
