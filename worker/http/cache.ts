import type { Context } from "hono";
import { localDevelopment } from "../platform/config";

const STATS_CACHE_SECONDS = 5;
export const PUBLIC_CACHE = { "Cache-Control": `public, max-age=${STATS_CACHE_SECONDS}` };

/**
 * Counts from a few seconds ago: cheap to serve, worthless to scrape, and one report per
 * location however many ask. In local development `?fresh` skips the cache, so the bench and
 * the tests read exact figures.
 */
export async function cached<T>(c: Context<{ Bindings: Env }>, path: string, compute: () => Promise<T>): Promise<T> {
  if (localDevelopment(c.env) && c.req.query("fresh") !== undefined) return compute();
  const key = new Request(new URL(path, c.req.url));
  const hit = await caches.default.match(key);
  if (hit) return hit.json<T>();
  const value = await compute();
  c.executionCtx.waitUntil(caches.default.put(key, Response.json(value, { headers: PUBLIC_CACHE })));
  return value;
}
