/**
 * For type-checking only, never shipped: the protocol's source, compiled here with the
 * client's, has two server-side helpers (`chatUrl`, `waitUrl`) that build URLs with `URL`. The
 * client neither calls them nor bundles them; this is the part of `URL` they use.
 */
declare class URL {
  constructor(url: string, base?: string);
  protocol: string;
  readonly searchParams: { set(name: string, value: string): void };
  toString(): string;
}
