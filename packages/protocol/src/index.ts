/**
 * What the worker and every client share, with no dependency: the values (limits, close
 * codes, paths, the protocol version) and the wire's plain types. The server's zod schemas
 * are the separate entry `@strangers/protocol/schemas`.
 */
export * from "./constants.ts";
export * from "./wire.ts";
