/**
 * The first-visit step: a person confirms the minimum age and accepts the community guidelines
 * before the first chat. It is remembered on the device and nothing of it is sent to the
 * server: the API takes what it always took. The page and the apps share it (store:
 * `localStorage`, or AsyncStorage in React Native); the operator's age and the guidelines'
 * version come from `GET /api/policy`.
 */
import { GUIDELINES_VERSION, type Policy } from "@strangers/protocol";
import { type FetchLike, memoryStore, type SessionStore } from "./client";

export type { Policy };

/** What the page shows until (or unless) the server says otherwise; an operator's higher age asks again (`needed`). */
export const DEFAULT_POLICY: Policy = {
  minimumAge: 18,
  guidelinesVersion: GUIDELINES_VERSION,
  guidelines: "/guidelines",
  terms: "/terms",
  privacy: "/privacy",
};

type Given = { guidelinesVersion: number; minimumAge: number; at: string };

export class Consent {
  private readonly fetch: FetchLike;
  private readonly store: SessionStore;

  constructor(private readonly opts: { baseUrl: string; fetch?: FetchLike; store?: SessionStore; storeKey?: string }) {
    const g = globalThis as { fetch?: FetchLike; localStorage?: SessionStore };
    this.fetch = opts.fetch ?? ((url, init) => g.fetch!(url, init));
    this.store = opts.store ?? g.localStorage ?? memoryStore();
  }

  /** The operator's policy, or the default when the server cannot be asked. */
  async policy(): Promise<Policy> {
    try {
      const res = await this.fetch(new URL("/api/policy", this.opts.baseUrl).toString(), {
        method: "GET",
        headers: {},
      });
      if (res.ok) return { ...DEFAULT_POLICY, ...((await res.json()) as Partial<Policy>) };
    } catch {
      // Offline: the default.
    }
    return DEFAULT_POLICY;
  }

  /** Asked again when the guidelines changed or the operator raised the age since it was given. */
  async needed(policy: Policy): Promise<boolean> {
    const given = parse(await this.store.getItem(this.key));
    return !given || given.guidelinesVersion < policy.guidelinesVersion || given.minimumAge < policy.minimumAge;
  }

  async accept(policy: Policy): Promise<void> {
    const given: Given = {
      guidelinesVersion: policy.guidelinesVersion,
      minimumAge: policy.minimumAge,
      at: new Date().toISOString(),
    };
    await this.store.setItem(this.key, JSON.stringify(given));
  }

  private get key(): string {
    return this.opts.storeKey ?? "strangers.consent";
  }
}

function parse(raw: string | null): Given | null {
  try {
    const given = raw ? (JSON.parse(raw) as Given) : null;
    return typeof given?.guidelinesVersion === "number" && typeof given.minimumAge === "number" ? given : null;
  } catch {
    return null;
  }
}
