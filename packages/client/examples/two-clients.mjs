// Two strangers through @strangers/client, in plain Node 22 (no TypeScript, no DOM): both search
// in a mode of their own, get paired, A says one thing, B hears it, both stop.
//
//   node two-clients.mjs [baseUrl]        (default http://127.0.0.1:8787)
//
// It ships in the package: after `npm install /path/to/strangers-client-0.1.0.tgz`, run
// `node node_modules/@strangers/client/examples/two-clients.mjs`. Exits 0 when B received A's message, 1 with the reason otherwise (20 s at most).
import { ChatClient } from "@strangers/client";

const baseUrl = process.argv[2] ?? "http://127.0.0.1:8787";
const TIMEOUT_MS = 20_000;
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
// Modes are free-form ([a-z0-9-], at most 16): one for this run, so nobody else is paired with A or B.
const mode = `p${run}`.slice(0, 16);
const text = `hello from A (${run})`;

const log = (...args) => console.log(`[${((performance.now() - started) / 1000).toFixed(2)}s]`, ...args);
const started = performance.now();
const clients = [];

function fail(reason) {
  console.error(`FAIL: ${reason}`);
  for (const c of clients) c.close();
  process.exit(1);
}
const timer = setTimeout(() => fail(`timed out after ${TIMEOUT_MS / 1000} s`), TIMEOUT_MS);

function client(name) {
  const c = new ChatClient({
    baseUrl,
    identity: { userId: `probe-${name}-${run}`, deviceId: `probe-device-${name}-${run}` },
  });
  c.on("status", ({ status }) => log(`${name} status: ${status}`));
  c.on("error", (e) => log(`${name} error: ${e.code} ${e.message}`));
  clients.push(c);
  return c;
}

const statusOf = (c, wanted) =>
  new Promise((resolve) => {
    if (c.status === wanted) return resolve();
    const off = c.on("status", ({ status }) => {
      if (status !== wanted) return;
      off();
      resolve();
    });
  });

const a = client("A");
const b = client("B");
const received = new Promise((resolve) =>
  b.on("message", ({ message, mine }) => {
    if (!mine && message.text === text) resolve(message);
  }),
);
for (const c of [a, b]) c.on("error", (e) => e.code !== "unreachable" || fail(`${baseUrl} is unreachable`));

const criteria = { emotion: "😊", language: "en", mode };
await a.match({ ...criteria, userName: "A" });
await b.match({ ...criteria, userName: "B" });
await Promise.all([statusOf(a, "chatting"), statusOf(b, "chatting")]);
log(`paired: A is talking to ${a.partner?.name}, B to ${b.partner?.name}`);

const clientId = a.send(text);
log(`A sent ${JSON.stringify(text)} (clientId ${clientId})`);
const message = await received;
log(`B received ${JSON.stringify(message.text)} (id ${message.id})`);

const ended = new Promise((resolve) => b.on("ended", ({ reason }) => resolve(reason)));
a.leave();
log(`B's chat ended: ${await ended}`);
b.leave();
clearTimeout(timer);
log("OK");
process.exit(0);
