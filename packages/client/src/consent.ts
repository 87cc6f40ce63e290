/**
 * The first-visit step: a person confirms the minimum age and accepts the community guidelines
 * before the first chat. It is remembered on the device and nothing of it is sent to the
 * server: the API takes what it always took. The page and the apps share it (store:
 * `localStorage`, or AsyncStorage in React Native); the operator's age and the guidelines'
 * version come from `GET /api/policy`.
 */
import { GUIDELINES_VERSION, type Policy } from "@strangers/protocol";
import { Api, type FetchLike } from "./api.ts";
import { Kept, memoryStore, type SessionStore } from "./store.ts";

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

export type ConsentOptions = {
  baseUrl: string;
  fetch?: FetchLike;
  /** The global `localStorage` where there is one, otherwise `memoryStore()`; AsyncStorage in React Native. */
  store?: SessionStore;
  storeKey?: string;
};

export class Consent {
  private readonly api: Api;
  private readonly given: Kept<Given>;

  constructor(opts: ConsentOptions) {
    const g = globalThis as { localStorage?: SessionStore };
    this.api = new Api(opts.baseUrl, opts.fetch);
    this.given = new Kept(opts.store ?? g.localStorage ?? memoryStore(), opts.storeKey ?? "strangers.consent", isGiven);
  }

  /** The operator's policy, or the default when the server cannot be asked. */
  async policy(): Promise<Policy> {
    return { ...DEFAULT_POLICY, ...(await this.api.policy()) };
  }

  /** Asked again when the guidelines changed or the operator raised the age since it was given. */
  async needed(policy: Policy): Promise<boolean> {
    const given = await this.given.read();
    return !given || given.guidelinesVersion < policy.guidelinesVersion || given.minimumAge < policy.minimumAge;
  }

  async accept(policy: Policy): Promise<void> {
    await this.given.write({
      guidelinesVersion: policy.guidelinesVersion,
      minimumAge: policy.minimumAge,
      at: new Date().toISOString(),
    });
  }
}

function isGiven(value: unknown): value is Given {
  const given = value as Partial<Given> | null;
  return typeof given?.guidelinesVersion === "number" && typeof given.minimumAge === "number";
}
