/**
 * Whom per-address limits count against: what an attacker cannot choose freely. An IPv4
 * address is one budget; an IPv6 address is one of 2^64 in its /64 (one subscriber's usual
 * allocation), so the /64 is the budget.
 */
import { localDevelopment, type Vars } from "../platform/config";

/** The network a request comes from, from the address Cloudflare's edge reports. */
export function networkOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!address.includes(":")) return address;
  const [head, tail] = address.toLowerCase().split("::");
  const front = head ? head.split(":") : [];
  const back = tail ? tail.split(":") : [];
  const groups = tail === undefined ? front : [...front, ...Array(8 - front.length - back.length).fill("0"), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/**
 * The budget key of a request, or null when it is exempt. Only `LOCAL_DEVELOPMENT = "true"`
 * (wrangler.toml's top-level vars: `wrangler dev`, the tests) exempts requests without an
 * address or from loopback; deployed environments set it "false", where a request without
 * CF-Connecting-IP (a misconfigured proxy, a service binding) shares one budget with every
 * other such request instead of silently escaping the limits.
 */
export function networkKey(request: Request, env: Vars): string | null {
  const address = request.headers.get("CF-Connecting-IP");
  const local = localDevelopment(env);
  if (!address) return local ? null : "no-address";
  if (local && (address === "127.0.0.1" || address === "::1")) return null;
  return networkOf(address);
}
