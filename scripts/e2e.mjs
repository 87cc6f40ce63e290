// The browser step of `npm test`: finds Chromium, installs Debian's when it is missing and this
// user may (root, or passwordless sudo), then runs the e2e suite. Without a browser it says
// exactly what to run and skips, so a newcomer's `npm test` still ends green; in CI a missing
// browser is a failure, so CI can never pass by skipping.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const DEBIAN_CHROMIUM = "/usr/bin/chromium";
const PACKAGES = "chromium fonts-noto-color-emoji"; // the font: emotion buttons render in screenshots
const chosen = process.env.CHROMIUM_PATH;
const browser = chosen || DEBIAN_CHROMIUM;
const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? "");

/** "" for root, "sudo -n " when sudo needs no password, null when this user cannot install packages. */
function installPrefix() {
  if (process.getuid?.() === 0) return "";
  try {
    execFileSync("sudo", ["-n", "true"], { stdio: "ignore" });
    return "sudo -n ";
  } catch {
    return null;
  }
}

// A browser the user chose is never swapped behind their back for another one.
if (!existsSync(browser) && !chosen && existsSync("/usr/bin/apt-get")) {
  const sudo = installPrefix();
  if (sudo !== null) {
    console.log(`Chromium is missing: installing Debian's ${PACKAGES} (once, about a minute)…`);
    const install = `${sudo}apt-get update -qq && ${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${PACKAGES}`;
    const result = spawnSync("sh", ["-c", install], { stdio: "inherit" });
    if (result.status !== 0) console.error(`Installing Chromium failed (exit ${result.status}).`);
  }
}

if (!existsSync(browser)) {
  const why = chosen ? `CHROMIUM_PATH points to ${chosen}, which does not exist` : `there is no Chromium at ${DEBIAN_CHROMIUM} and this user cannot install it`;
  const paragraph =
    `Browser tests skipped: ${why}. Every other suite passed (build, type checks, workerd tests, load smoke, deploy dry runs). ` +
    `To run them, install Debian's Chromium with \`sudo apt-get install -y ${PACKAGES}\` (or set CHROMIUM_PATH to a Chromium or Chrome binary), then run \`npm run e2e\`.`;
  if (inCI) {
    console.error(`${paragraph}\nCI must run the browser tests: failing.`);
    process.exit(1);
  }
  console.warn(`\n${paragraph}\n`);
  process.exit(0);
}

const run = spawnSync("vitest", ["run", "--config", "web-client/vitest.e2e.config.ts"], { stdio: "inherit", env: { ...process.env, CHROMIUM_PATH: browser } });
process.exit(run.status ?? 1);
