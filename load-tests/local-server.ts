/**
 * Starts the servers the smoke test, the bench and the e2e tests drive: the service, and
 * the floor relay. Each gets free ports and a fresh state directory, so runs neither
 * collide with a developer's `npm run dev` nor inherit an old queue.
 *
 * The service runs one of two ways, both on a snapshot of worker/ and wrangler.toml:
 * - "wrangler": `wrangler dev`, the documented local runtime (smoke, e2e). A second
 *   workerd process, its proxy, sits in front of the worker; it runs out of open files
 *   near 1,600 chats.
 * - "workerd": the same code, bindings and vars on one workerd process through
 *   Miniflare's API, clients connected straight to it (the bench). What it still holds
 *   per chat: 2 open files per client socket (workerd keeps a duplicate of each accepted
 *   connection) and 3 per live SQLite-backed Durable Object (.sqlite, -wal, -shm; the
 *   storage is on tmpfs, but workerd's in-memory storage has no SQL API). A chat's room
 *   lives as long as the chat; a Device object lives while it is busy, so mostly during
 *   the ramp.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type LocalServer = {
  baseUrl: string;
  /** The processes that serve requests (the workerd processes), for RSS, CPU and open files. */
  serverPids(): number[];
  stop(): Promise<void>;
  /** "workerd" only: the bundle it runs (its `// path` comments name each source module). */
  bundle?: string;
};

export type ServiceOptions = {
  /** "wrangler" unless told otherwise: what `npm run dev` runs is what the smoke and e2e tests check. */
  runtime?: "wrangler" | "workerd";
  /** Overrides of wrangler.toml's [vars]. */
  vars?: Record<string, string>;
  /** "workerd" only: open workerd's V8 inspector on this port (the profiler's way in). */
  inspectorPort?: number;
  /** "workerd" only: which worker, by its wrangler config: the service (default) or the bench's reference room. */
  config?: typeof SERVICE_CONFIG | typeof REFERENCE_CONFIG;
};

export const SERVICE_CONFIG = "wrangler.toml";
/** The bench's second reference: a minimal hibernating relay room on the same runtime (reference/relay-room.ts). */
export const REFERENCE_CONFIG = "load-tests/reference/wrangler.toml";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * State goes to tmpfs when there is one: workerd holds every outgoing frame until the
 * write before it is durable (the output gate), so on a disk a run would mostly measure
 * this machine's fsync, which production storage does not share.
 */
function stateRoot(): string {
  return existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
}

/**
 * A private copy of what the service runs. wrangler reloads the worker (and drops every
 * Durable Object and socket) whenever a source file changes, and a bundle made mid-edit
 * may not build, so a run against the working tree would be at the mercy of anyone
 * editing it.
 */
function snapshot(dir: string): string {
  const app = join(dir, "app");
  for (const path of ["worker", "wrangler.toml", "web-client/dist", "load-tests/reference"]) {
    if (existsSync(join(ROOT, path))) cpSync(join(ROOT, path), join(app, path), { recursive: true });
  }
  // The assets directory named in wrangler.toml must exist even before the web client is built.
  mkdirSync(join(app, "web-client/dist"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"));
  return app;
}

export async function startService(options: ServiceOptions = {}): Promise<LocalServer> {
  const state = mkdtempSync(join(stateRoot(), "lt-service-"));
  try {
    const server =
      options.runtime === "workerd"
        ? await startWorkerd(state, options.config ?? SERVICE_CONFIG, options.vars ?? {}, options.inspectorPort)
        : await startWrangler(state, options.vars ?? {});
    return {
      ...server,
      stop: async () => {
        await server.stop();
        rmSync(state, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(state, { recursive: true, force: true });
    throw err;
  }
}

async function startWrangler(state: string, vars: Record<string, string>): Promise<LocalServer> {
  const port = await freePort();
  const app = snapshot(state);
  const args = [
    join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    join(state, "storage"),
    // Otherwise the Node parent prints a line per request and per worker log: measurable load of its own.
    "--log-level",
    "warn",
    "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  const child = spawn(
    // Wrangler's own Node (ours), not whatever `node` is first on PATH: wrangler needs Node 22.
    process.execPath,
    args,
    // Its own process group, so stopping it also stops the workerd processes it started.
    {
      cwd: app,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  const server = {
    baseUrl: `http://127.0.0.1:${port}`,
    serverPids: () => workerdBelow(child.pid!),
    stop: () => stopProcess(child),
  };
  await waitForHealth(server, child);
  return server;
}

async function startWorkerd(
  state: string,
  config: string,
  vars: Record<string, string>,
  inspectorPort?: number,
): Promise<LocalServer> {
  const port = await freePort();
  const app = snapshot(state);
  // Loaded here, not at the top: the smoke and the e2e tests never need them.
  const [{ build }, { Miniflare, convertV4MiniflareOptions }, { unstable_getMiniflareWorkerOptions }] =
    await Promise.all([import("esbuild"), import("miniflare"), import("wrangler")]);
  // Bindings, vars, SQLite classes, rate limits and assets exactly as `wrangler dev` reads them.
  const { workerOptions, define, main } = unstable_getMiniflareWorkerOptions(join(app, config));
  // Rules for finding unbundled modules: the bundle has none, and Miniflare 5 refuses to convert them.
  const { modulesRules: _, ...bindingsAndSettings } = workerOptions;
  const script = join(state, "worker.js");
  await build({
    entryPoints: [main!],
    outfile: script,
    define,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    // The package conditions and runtime modules wrangler's own bundler uses for workerd.
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "error",
  });
  const before = new Set(workerdBelow(process.pid));
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...bindingsAndSettings,
      rootPath: dirname(join(app, config)),
      scriptPath: script,
      modules: true,
      // Module names are paths below this; workerd refuses a "../" in them.
      modulesRoot: state,
      // Typed `unknown` by wrangler (an Omit over an index signature); it holds [vars].
      bindings: { ...(workerOptions.bindings as Record<string, string>), ...vars },
      host: "127.0.0.1",
      port,
      ...(inspectorPort ? { inspectorPort, inspectorHost: "127.0.0.1" } : {}),
      // On tmpfs. Not workerd's in-memory storage (`unsafeEphemeralDurableObjects`): it has no SQL API,
      // and every class here is SQLite-backed, so each live object still holds its .sqlite, -wal and -shm.
      resourcePersistencePath: join(state, "storage"),
      // The worker's log lines would otherwise be parsed and printed by this process, between the results;
      // LT_SERVER_LOG=<file> keeps its warnings and errors (and the runtime's own) there instead.
      handleStructuredLogs: serverLog(),
    }),
  );
  await mf.ready.catch(async (err) => {
    await mf.dispose();
    throw err;
  });
  const pids = workerdBelow(process.pid).filter((pid) => !before.has(pid));
  return { baseUrl: `http://127.0.0.1:${port}`, serverPids: () => pids, stop: () => mf.dispose(), bundle: script };
}

/** What the server logs at warn level or above, appended to LT_SERVER_LOG when set; otherwise nothing. */
function serverLog(): (log: { level: string; message: string }) => void {
  const file = process.env.LT_SERVER_LOG;
  if (!file) return () => {};
  return ({ level, message }) => {
    if (level !== "info" && level !== "log" && level !== "debug") appendFileSync(file, `${level}\t${message}\n`);
  };
}

export async function startFloor(): Promise<LocalServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      "--experimental-strip-types",
      "--disable-warning=ExperimentalWarning",
      fileURLToPath(new URL("./floor/relay.ts", import.meta.url)),
      String(port),
    ],
    { detached: true, stdio: ["ignore", "ignore", "pipe"] },
  );
  const server = {
    baseUrl: `http://127.0.0.1:${port}`,
    serverPids: () => [child.pid!],
    stop: () => stopProcess(child),
  };
  await waitForHealth(server, child);
  return server;
}

async function waitForHealth(server: LocalServer, child: ChildProcess): Promise<void> {
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const url = `${server.baseUrl}/api/health`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${stderr}`);
    try {
      // A wrangler whose runtime died still accepts connections and never answers: time out.
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await server.stop();
  throw new Error(`server did not become healthy at ${url}:\n${stderr}`);
}

/** Stops a server started in its own process group, and everything it started. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    process.kill(-child.pid!, "SIGTERM");
  });
}

// ---------------------------------------------------------------- /proc, for server RSS, CPU and open files

/** Every process below `root`, from the parent links in /proc/<pid>/stat. */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parentOf.set(Number(entry), Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1].split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parentOf)
      if (parent === pid) {
        out.push(child);
        walk(child);
      }
  };
  walk(root);
  return out;
}

function workerdBelow(root: number): number[] {
  return descendants(root).filter((pid) => commandOf(pid).includes("workerd"));
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/** Resident memory in bytes. */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const CLOCK_TICKS = 100;
/** CPU seconds (user + system) used so far. */
export function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

export function openFilesOf(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}
