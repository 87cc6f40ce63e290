import { defineConfig } from "vitest/config";

// End-to-end: Node drives headless Chromium against `wrangler dev` (no workerd test pool).
export default defineConfig({
  root: new URL("..", import.meta.url).pathname,
  test: {
    include: ["web-client/e2e/**/*.e2e.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // One browser and one server for the whole run; the scenario steps build on each other.
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
