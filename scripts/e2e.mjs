// The browser step of `npm test`: makes sure there is a Chromium, then runs the e2e suite.
// A newcomer's `npm test` must pass without hand work, so a missing browser is installed from
// Debian when this user may, and otherwise skipped with the exact command to run. CI must never
// pass by skipping, so there a browser that cannot be found or installed is a failure.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const DEBIAN_CHROMIUM = "/usr/bin/chromium";
// The emoji font: without it the emotion buttons are empty boxes in the screenshots.
const PACKAGES = "chromium fonts-noto-color-emoji";
const chosen = process.env.CHROMIUM_PATH;
const browser = chosen || DEBIAN_CHROMIUM;
const inCI = !/^(|0|false|no)$/i.test(process.env.CI ?? "");
const isRoot = process.getuid?.() === 0;
const sudo = isRoot ? "" : "sudo ";
const manualInstall = `${sudo}apt-get update && ${sudo}apt-get install -y ${PACKAGES}`;

function maySudo() {
  try {
    execFileSync("sudo", ["-n", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs Debian's Chromium; returns why it could not, or null when it did. */
function installChromium() {
  if (!existsSync("/usr/bin/apt-get")) return `there is no Chromium at ${DEBIAN_CHROMIUM} and no apt-get to install it`;
  const prefix = isRoot ? "" : maySudo() ? "sudo -n " : null;
  if (prefix === null)
    return `there is no Chromium at ${DEBIAN_CHROMIUM} and installing it needs root or passwordless sudo`;
  console.log(`\nChromium is missing: installing Debian's ${PACKAGES} (once, about a minute)…`);
  // sudo resets the environment, hence `env` after it.
  const install = `${prefix}apt-get update && ${prefix}env DEBIAN_FRONTEND=noninteractive apt-get install -y ${PACKAGES}`;
  const { status } = spawnSync("sh", ["-c", install], { stdio: "inherit" });
  if (status === 0 && existsSync(DEBIAN_CHROMIUM)) return null;
  return `installing Debian's Chromium failed (apt-get exit ${status})`;
}

// A browser the user chose is never swapped behind their back for another one.
const missing = existsSync(browser)
  ? null
  : chosen
    ? `CHROMIUM_PATH is ${chosen}, which does not exist`
    : installChromium();

if (missing) {
  const remedy = chosen
    ? `point CHROMIUM_PATH at an existing Chromium or Chrome, or unset it and install Debian's with \`${manualInstall}\``
    : `install Debian's Chromium with \`${manualInstall}\` (or set CHROMIUM_PATH to an existing Chromium or Chrome)`;
  const paragraph =
    `Browser tests skipped: ${missing}. Every other suite passed (build, type checks, workerd tests, ` +
    `load smoke, deploy dry runs). To run them, ${remedy}, then run \`npm run e2e\`.`;
  if (inCI) {
    console.error(`\n${paragraph}\nIn CI the browser tests must run, so this is a failure.`);
    process.exit(1);
  }
  console.warn(`\n${paragraph}\n`);
  process.exit(0);
}

const run = spawnSync("vitest", ["run", "--config", "web-client/vitest.e2e.config.ts"], {
  stdio: "inherit",
  env: { ...process.env, CHROMIUM_PATH: browser },
});
if (run.error) console.error(`Could not start vitest: ${run.error.message}`);
process.exit(run.status ?? 1);
