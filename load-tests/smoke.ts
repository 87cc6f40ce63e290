/**
 * CI smoke for the load tooling: a few dozen chats for a few seconds against a local
 * `wrangler dev`, through the same driver and scenario as the full load test. It checks
 * correctness only (nothing lost, nobody mispaired, every user chatted), never timings:
 * a shared CI machine's latency proves nothing.
 */
import { formatSummary, runLoad } from "./driver/run.ts";
import { startService } from "./local-server.ts";

const server = await startService();
let failures: string[];
try {
  const s = await runLoad({ baseUrl: server.baseUrl, chats: 30, rampS: 2, holdS: 4, rampDownS: 1 });
  console.log(formatSummary(s));
  const c = s.counters;
  failures = [
    c.messages_lost !== 0 && `${c.messages_lost} messages lost`,
    c.messages_unanswered !== 0 && `${c.messages_unanswered} messages neither acknowledged nor refused`,
    c.pairing_errors !== 0 && `${c.pairing_errors} pairing errors`,
    s.rates.match_success !== 1 && `match success ${s.rates.match_success} (every user should reach a chat)`,
    (c.messages_delivered ?? 0) < s.users && `only ${c.messages_delivered} messages delivered for ${s.users} users`,
  ].filter((f): f is string => typeof f === "string");
} finally {
  await server.stop();
}
if (failures.length) {
  console.error(`load smoke FAILED: ${failures.join("; ")}`);
  process.exit(1);
}
console.log("load smoke passed: 0 lost, 0 unanswered, 0 pairing errors");
