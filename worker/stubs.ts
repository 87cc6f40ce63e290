/**
 * How every part of the worker reaches the objects, by name: one seat per wait, one room per
 * pairing. The stubs are typed by the bindings (worker-configuration.d.ts), so this module
 * imports neither class and nothing imports in a circle.
 */
export const seatStub = (env: Env, seatId: string) => env.WAITING_SEAT.get(env.WAITING_SEAT.idFromName(seatId));

export const roomStub = (env: Env, sessionId: string) => env.CHAT_ROOM.get(env.CHAT_ROOM.idFromName(sessionId));
