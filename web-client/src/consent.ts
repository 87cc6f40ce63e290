/**
 * The first-visit step: a person confirms the minimum age and accepts the community guidelines
 * before the first chat. It is remembered on the device and nothing of it is sent to the
 * server: the API takes what it always took. The page and the apps share it (store:
 * `localStorage`, or AsyncStorage in React Native); the operator's age and the guidelines'
 * version come from `GET /api/policy`.
 */
import { GUIDELINES_VERSION } from "../../worker/constants";
import type { Policy } from "../../worker/protocol";
import { memoryStore, type FetchLike, type SessionStore } from "./client";

export type { Policy };

/** What the page shows when the server cannot be asked: the stricter default, never a weaker one. */
export const DEFAULT_POLICY: Policy = { minimumAge: 18, guidelinesVersion: GUIDELINES_VERSION, guidelines: "/guidelines", terms: "/terms", privacy: "/privacy" };

const POLICY_WAIT_MS = 3000;

type Given = { guidelinesVersion: number; minimumAge: number; at: string };

export class Consent {
  private readonly fetch: FetchLike;
  private readonly store: SessionStore;

  constructor(private readonly opts: { baseUrl: string; fetch?: FetchLike; store?: SessionStore; storeKey?: string }) {
    const g = globalThis as { fetch?: FetchLike; localStorage?: SessionStore };
    this.fetch = opts.fetch ?? ((url, init) => g.fetch!(url, init));
    this.store = opts.store ?? g.localStorage ?? memoryStore();
  }

  /** The operator's policy; offline or slow (the first screen waits for it), the default, which asks at least as much. */
  async policy(): Promise<Policy> {
    const asked = (async () => {
      const res = await this.fetch(new URL("/api/policy", this.opts.baseUrl).toString(), { method: "GET", headers: {} });
      return res.ok ? { ...DEFAULT_POLICY, ...((await res.json()) as Partial<Policy>) } : DEFAULT_POLICY;
    })();
    const slow = new Promise<Policy>((resolve) => setTimeout(() => resolve(DEFAULT_POLICY), POLICY_WAIT_MS));
    return Promise.race([asked.catch(() => DEFAULT_POLICY), slow]);
  }

  /** Asked again when the guidelines changed or the operator raised the age since it was given. */
  async needed(policy: Policy): Promise<boolean> {
    const given = parse(await this.store.getItem(this.key));
    return !given || given.guidelinesVersion < policy.guidelinesVersion || given.minimumAge < policy.minimumAge;
  }

  async accept(policy: Policy): Promise<void> {
    const given: Given = { guidelinesVersion: policy.guidelinesVersion, minimumAge: policy.minimumAge, at: new Date().toISOString() };
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
