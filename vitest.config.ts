import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      // Short windows so expiry and idle paths run in seconds, not minutes.
      miniflare: { bindings: { QUEUE_TTL_SECONDS: "2", ROOM_IDLE_SECONDS: "300" } },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // The worker's JSON event log is noise in test output; warnings and errors still show.
    onConsoleLog: (_log, type) => (type === "stdout" ? false : undefined),
  },
});
