/**
 * Compares the two waiting-list backends (MATCHMAKER = "kv" | "durable-object") in one run:
 * the same driver and scenario against a fresh local service per backend, at a steady
 * arrival rate and in a burst. Reports time to match, storage operations per pairing (read
 * from /api/stats, which counts them) and pairing errors.
 *
 *   npm run compare-matchmakers [-- --chats 300 --json]
 */
import { parseArgs } from "node:util";
import type { StatsSnapshot } from "../worker/protocol.ts";
import { runLoad, type LoadSummary } from "./driver/run.ts";
import { startService } from "./local-server.ts";

const { values } = parseArgs({
  options: { chats: { type: "string", default: "300" }, json: { type: "boolean", default: false } },
});
const chats = Number(values.chats);
/** Users arrive over this many seconds: the burst is what a single queue object has to absorb. */
const PROFILES = [
  { name: "steady", rampS: Math.max(2, Math.round((2 * chats) / 25)) },
  { name: "burst", rampS: 2 },
];

type Row = {
  backend: string;
  profile: string;
  arrivalsPerS: number;
  summary: LoadSummary;
  pairings: number;
  operations: Record<string, number>;
};

const rows: Row[] = [];
for (const backend of ["kv", "durable-object"]) {
  for (const profile of PROFILES) {
    const server = await startService({ vars: { MATCHMAKER: backend, MESSAGE_LOG_SAMPLE_RATE: "0" } });
    try {
      const summary = await runLoad({ baseUrl: server.baseUrl, chats, rampS: profile.rampS, holdS: 10, rampDownS: 2 });
      const stats = (await (await fetch(`${server.baseUrl}/api/stats`)).json()) as StatsSnapshot;
      const pairings = stats.pairingsPerMinute.reduce((sum, m) => sum + m.pairings, 0);
      rows.push({ backend, profile: profile.name, arrivalsPerS: Math.round((2 * chats) / profile.rampS), summary, pairings, operations: stats.operations });
    } finally {
      await server.stop();
    }
  }
}

const perPairing = (ops: Record<string, number>, prefix: string, pairings: number) => {
  const total = Object.entries(ops)
    .filter(([name]) => name.startsWith(prefix))
    .reduce((sum, [, n]) => sum + n, 0);
  return pairings ? (total / pairings).toFixed(1) : "–";
};

if (values.json) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log(`| backend | arrivals | users/s | match p50 / p99 ms | match success | pairings | KV ops / pairing | queue-object calls / pairing | pairing errors | lost |`);
  console.log(`|---|---|---|---|---|---|---|---|---|---|`);
  for (const r of rows) {
    const m = r.summary.trends.match_time;
    console.log(
      `| ${r.backend} | ${r.profile} | ${r.arrivalsPerS} | ${m ? `${m.p50.toFixed(0)} / ${m.p99.toFixed(0)}` : "–"} | ` +
        `${((r.summary.rates.match_success ?? 0) * 100).toFixed(1)} % | ${r.pairings} | ${perPairing(r.operations, "kv.", r.pairings)} | ` +
        `${perPairing(r.operations, "queue.", r.pairings)} | ${r.summary.counters.pairing_errors ?? 0} | ${r.summary.counters.messages_lost ?? 0} |`,
    );
  }
}
if (rows.some((r) => (r.summary.counters.pairing_errors ?? 0) > 0)) process.exitCode = 1;
