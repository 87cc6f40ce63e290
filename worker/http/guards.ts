/**
 * What a request must pass before it may cost the isolate anything: its origin, its
 * network's rate limit, and (for a new search) a slot among the searches in flight.
 */

import { allowedOrigins, matchConcurrency } from "../platform/config";
import { ApiError, busy, rateLimited } from "../platform/errors";
import { log } from "../platform/log";
import { NETWORK_HEADER } from "../platform/socket-object";
import { networkKey } from "../trust/client-address";

/** The page's own origin always works; others only when listed in ALLOWED_ORIGINS. */
const originAllowed = (origin: string, requestUrl: string, env: Env): boolean =>
  origin === new URL(requestUrl).origin || allowedOrigins(env).includes(origin);

/** Refuses a browser's request from a page that is neither ours nor allowed (native apps send no Origin). */
export function checkOrigin(request: Request, env: Env, what = "Requests"): void {
  const origin = request.headers.get("Origin");
  if (origin && !originAllowed(origin, request.url, env))
    throw new ApiError(403, "origin_not_allowed", `${what} from ${origin} are not allowed.`);
}

/**
 * New searches this isolate is deciding. Past MATCH_CONCURRENCY one is turned away at once
 * (503 `busy`, Retry-After) instead of queuing: a request that waits longer than its client
 * does is work for nobody, and the client asks again, so an overloaded server would spend ever
 * more on abandoned requests. Being turned away costs next to nothing.
 */
let searchesInFlight = 0;
export async function admitted<T>(env: Env, work: () => Promise<T>): Promise<T> {
  if (searchesInFlight >= matchConcurrency(env)) throw busy();
  searchesInFlight++;
  try {
    return await work();
  } finally {
    searchesInFlight--;
  }
}

/**
 * A socket may only be opened as a WebSocket, from a browser only by the page's own origin or
 * an allowed one, and within its network's budget. The object gets the network (never taken
 * from the client) to charge a wrong token against it.
 */
export async function upgradeFrom(request: Request, env: Env): Promise<Request> {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError(426, "upgrade_required", "This endpoint only accepts WebSocket upgrades.");
  }
  checkOrigin(request, env, "Connections");
  const network = networkKey(request, env);
  await limit(env.SOCKETS_PER_IP, network, "sockets_ip", "connections");
  const forwarded = new Request(request);
  forwarded.headers.set(NETWORK_HEADER, network ?? "");
  return forwarded;
}

export async function limit(limiter: RateLimit, key: string | null, name: string, what: string): Promise<void> {
  if (key === null || (await limiter.limit({ key })).success) return;
  log("ratelimit.hit", { limiter: name }, "warn");
  throw rateLimited(what);
}
