/**
 * Counts operations per isolate: storage operations (KV, SQLite rows, alarms; rows and alarms
 * also by what wrote them), calls to each
 * kind of object and the busiest single object of each sharded kind, and the times an object
 * was woken (`room.event`, `room.alarm`, …: what a quiet chat costs). Increments only; read
 * through /api/stats, and by the bench for its capacity and cost models. On Cloudflare every
 * isolate counts its own share, so the figures are only meaningful on one local runtime.
 */
const counts = new Map<string, number>();
/** Calls per object of the sharded kinds, to find the busiest one (rooms are one per chat: never hot). */
const perObject = new Map<string, Map<string, number>>();

export function meter(operation: string, n = 1): void {
  counts.set(operation, (counts.get(operation) ?? 0) + n);
}

/** Rows written (what SQLite storage bills) and alarms set: in all, and by what wrote them (`rows.written.room.pending`). */
export function meterStorage(operation: "rows.written" | "alarms.set", by: string, n = 1): void {
  meter(operation, n);
  meter(`${operation}.${by}`, n);
}

/** Objects counted one by one per kind; past this (lobby names are the clients' to choose), the rest share one count. */
const OBJECTS_COUNTED = 1_000;

/** A call to an object: counted by kind (`call.lobby`), and by object for the kinds whose objects each serve many. */
export function meterCall(kind: string, object: string | null): void {
  meter(`call.${kind}`);
  if (object === null) return;
  let objects = perObject.get(kind);
  if (!objects) perObject.set(kind, (objects = new Map()));
  const key = objects.has(object) || objects.size < OBJECTS_COUNTED ? object : "(others)";
  objects.set(key, (objects.get(key) ?? 0) + 1);
}

/** Every count, plus `call.<kind>.busiest`: the most calls any one object of that kind received. */
export function meterReadings(): { [operation: string]: number } {
  const readings: { [operation: string]: number } = Object.fromEntries(counts);
  for (const [kind, objects] of perObject) readings[`call.${kind}.busiest`] = Math.max(...objects.values());
  return readings;
}
