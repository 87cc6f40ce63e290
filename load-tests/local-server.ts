/**
 * Starts the servers the smoke test and the bench drive: the service under `wrangler
 * dev`, and the floor relay. Each gets free ports and a fresh state directory, so runs
 * neither collide with a developer's `npm run dev` nor inherit an old queue.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type LocalServer = {
  baseUrl: string;
  /** The processes that serve requests (workerd under wrangler), for RSS and CPU. */
  serverPids(): number[];
  stop(): Promise<void>;
};

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
 * Durable Object storage goes to tmpfs when there is one: workerd holds every outgoing
 * frame until the write before it is durable (the output gate), so on a disk the bench
 * would mostly measure this machine's fsync, which production storage does not share.
 */
function stateRoot(): string {
  return existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
}

/**
 * A private copy of what `wrangler dev` serves. wrangler reloads the worker (and drops
 * every Durable Object and socket) whenever a source file changes, so a run against the
 * working tree would be cut short by anyone editing it.
 */
function snapshot(dir: string): string {
  const app = join(dir, "app");
  for (const path of ["worker", "wrangler.toml", "web-client/dist"]) {
    if (existsSync(join(ROOT, path))) cpSync(join(ROOT, path), join(app, path), { recursive: true });
  }
  // The assets directory named in wrangler.toml must exist even before the web client is built.
  mkdirSync(join(app, "web-client/dist"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"));
  return app;
}

export async function startService(): Promise<LocalServer> {
  const port = await freePort();
  const state = mkdtempSync(join(stateRoot(), "lt-wrangler-"));
  const app = snapshot(state);
  const child = spawn(
    // Wrangler's own Node (ours), not whatever `node` is first on PATH: wrangler needs Node 22.
    process.execPath,
    [
      join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--ip", "127.0.0.1",
      "--port", String(port),
      "--inspector-port", String(await freePort()),
      "--persist-to", join(state, "storage"),
      // Otherwise the Node parent prints a line per request and per worker log: measurable load of its own.
      "--log-level", "warn",
      "--show-interactive-dev-session=false",
    ],
    { cwd: app, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(`${baseUrl}/api/health`, child, () => stderr);
  return {
    baseUrl,
    serverPids: () => descendants(child.pid!).filter((pid) => commandOf(pid).includes("workerd")),
    stop: async () => {
      await stopProcess(child);
      rmSync(state, { recursive: true, force: true });
    },
  };
}

export async function startFloor(): Promise<LocalServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", fileURLToPath(new URL("./floor/relay.ts", import.meta.url)), String(port)],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHealth(`${baseUrl}/api/health`, child, () => stderr);
  return { baseUrl, serverPids: () => [child.pid!], stop: () => stopProcess(child) };
}

async function waitForHealth(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${log()}`);
    try {
      // A wrangler whose runtime died still accepts connections and never answers: time out.
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill();
  throw new Error(`server did not become healthy at ${url}:\n${log()}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

// ---------------------------------------------------------------- /proc, for server RSS and CPU

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
    for (const [child, parent] of parentOf) if (parent === pid) out.push(child), walk(child);
  };
  walk(root);
  return out;
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
