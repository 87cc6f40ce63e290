/** Secrets that only deployed environments have (`wrangler secret put`), which `wrangler types` cannot see. */
interface Env {
  /** Turns on the optional bot gate (bot-check.ts). */
  TURNSTILE_SECRET?: string;
}
