// What the Chromium scripts share: their settings from the environment, a check that stops the
// script with what was expected, and the headless browser (Debian's chromium, or RD_CHROMIUM)
// started without anything that would reach outside the machine.
import { chromium } from "playwright-core";

export const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();

export function check(ok, what) {
  if (!ok) throw new Error(`expected: ${what}`);
}

export function launch() {
  return chromium.launch({
    executablePath: env("RD_CHROMIUM", "/usr/bin/chromium"),
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
}
