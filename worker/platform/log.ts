/**
 * One JSON object per line, so `wrangler tail --format json` and any log pipeline can
 * filter by event. Callers pass ids and counts only: never message text, names or tokens.
 */
import { meter } from "./metering";

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export function log(event: string, fields: LogFields = {}, level: "info" | "warn" | "error" = "info"): void {
  // Every line is an event Workers Logs bills: the bench's cost model counts them.
  meter("log.events");
  const line = JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
