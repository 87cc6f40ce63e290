/**
 * The service's HTTP API, as the client calls it: the match request (a search, or a poll with
 * its ticket), who's around, the health check, the operator's policy. Every failure comes back
 * as a value (a `ClientError`, or null where there is nothing to show), never as a throw. URLs
 * are built from strings, not with `URL`, whose React Native version lacks most of the API.
 */
import type { Around, ErrorCode, ErrorResponse, MatchRequest, MatchResponse, Policy } from "@strangers/protocol";

/** The part of `fetch` used here; the global one of browsers, Node 18+ and React Native fits. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ ok: boolean; status: number; headers: { get(name: string): string | null }; json(): Promise<unknown> }>;

export type ClientError = {
  /** A server code (unknown ones included, shown by message) or a client-side one. */
  code: ErrorCode | "unreachable";
  message: string;
  status?: number;
  retryAfterSeconds?: number;
  until?: string;
  /** With `bot_check_required` / `bot_check_failed`: the Turnstile site key to render the check with. */
  siteKey?: string;
};

/** What `GET /api/around` is asked about: a queue. */
export type Queue = { emotion?: string | null; language?: string | null; mode?: string | null };

export const isError = (r: MatchResponse | ClientError): r is ClientError => !("success" in r);

export class Api {
  private readonly origin: string;
  private readonly fetch: FetchLike;

  /** `baseUrl`: the API's origin, e.g. "https://chat.example.com"; a path after it is ignored, as the API lives at the root. */
  constructor(baseUrl: string, fetch?: FetchLike) {
    this.origin = /^[a-z][a-z\d+.-]*:\/\/[^/?#]+/i.exec(baseUrl)?.[0] ?? baseUrl.replace(/\/+$/, "");
    const g = globalThis as { fetch?: FetchLike };
    this.fetch = fetch ?? ((url, init) => g.fetch!(url, init));
  }

  /** `POST /api/match`: a new search, or with `ticket` a poll of the wait it names. */
  async match(body: MatchRequest): Promise<MatchResponse | ClientError> {
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await this.fetch(`${this.origin}/api/match`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch {
      return { code: "unreachable", message: "Can't reach the server. Check your connection and try again." };
    }
    const json = (await res.json().catch(() => null)) as MatchResponse | ErrorResponse | null;
    if (res.ok && json?.success) return json;
    const error = json && !json.success ? json.error : null;
    const retryAfter = Number(res.headers.get("Retry-After")) || error?.retryAfterSeconds;
    return {
      code: error?.code ?? "internal_error",
      message: error?.message ?? `The server could not take the request (HTTP ${res.status}).`,
      status: res.status,
      ...(retryAfter ? { retryAfterSeconds: retryAfter } : {}),
      ...(error?.until ? { until: error.until } : {}),
      ...(error?.siteKey ? { siteKey: error.siteKey } : {}),
    };
  }

  /** `GET /api/around` for a queue; null when the server cannot say right now (or the queue cannot be named). */
  around(queue: Queue): Promise<Around | null> {
    return this.get<Around>(() => {
      // encodeURIComponent throws on a lone surrogate: inside get's try, like the request.
      const query = (["emotion", "language", "mode"] as const)
        .filter((key) => queue[key])
        .map((key) => `${key}=${encodeURIComponent(queue[key]!)}`)
        .join("&");
      return `/api/around${query ? `?${query}` : ""}`;
    });
  }

  /** Whether the API answers at all (a refused socket looks like a network failure to a browser). */
  async reachable(): Promise<boolean> {
    try {
      return (await this.fetch(`${this.origin}/api/health`, { method: "GET", headers: {} })).ok;
    } catch {
      return false;
    }
  }

  /** `GET /api/policy`; null when the server cannot be asked. */
  policy(): Promise<Partial<Policy> | null> {
    return this.get<Partial<Policy>>(() => "/api/policy");
  }

  private async get<T>(path: () => string): Promise<T | null> {
    try {
      const res = await this.fetch(`${this.origin}${path()}`, { method: "GET", headers: {} });
      return res.ok ? ((await res.json()) as T) : null;
    } catch {
      return null;
    }
  }
}
