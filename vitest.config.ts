import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      // Short windows so expiry and idle paths run in seconds, not minutes.
      miniflare: {
        bindings: { QUEUE_TTL_SECONDS: "2", ROOM_IDLE_SECONDS: "300", ALLOWED_ORIGINS: "https://app.example" },
        // A wider device budget, so tests that make 50 attempts from one device run in seconds;
        // the flood test sends well past it.
        ratelimits: { MATCH_PER_DEVICE: { namespace_id: "1001", simple: { limit: 120, period: 10 } } },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // The worker's JSON event log is noise in test output; warnings and errors still show.
    onConsoleLog: (_log, type) => (type === "stdout" ? false : undefined),
  },
});
