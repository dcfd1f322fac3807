// Signing in with a hostile `next` in real headless Chromium: whatever the link says, the browser
// ends on our own site and asks nothing of any other host. Browsers drop tabs and line breaks from
// URLs and read `\` as `/`, so `/%09/evil.example` would otherwise become `//evil.example`.
//
// Environment: RD_BASE (http://127.0.0.1:PORT), RD_USER, RD_PASSWORD, RD_CHROMIUM (default
// /usr/bin/chromium).
import { chromium } from "playwright-core";

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();
const base = new URL(env("RD_BASE"));
const hostile = [
  "/%09/evil.example",
  "/%0a/evil.example",
  "/%0d%0a/evil.example",
  "/%5Cevil.example",
  "%5C%5Cevil.example",
  "//evil.example",
  "/%20/evil.example",
  "https://evil.example/",
];

const browser = await chromium.launch({
  executablePath: env("RD_CHROMIUM", "/usr/bin/chromium"),
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const failures = [];
try {
  for (const next of hostile) {
    // A fresh browser profile per case: no session carried over.
    const context = await browser.newContext();
    const elsewhere = [];
    // Nothing leaves the machine: a request to any other host is answered here, and noted.
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.host === base.host) return route.continue();
      elsewhere.push(url.href);
      return route.fulfill({ status: 200, contentType: "text/html", body: "<h1>evil</h1>" });
    });
    const page = await context.newPage();
    await page.goto(`${base.origin}/login?next=${next}`);
    await page.fill("input[name=username]", env("RD_USER"));
    await page.fill("input[name=password]", env("RD_PASSWORD"));
    await page.click("button[type=submit]");
    // Wherever the sign-in leads, the browser leaves the sign-in page.
    await page.waitForURL((u) => u.pathname !== "/login", { timeout: 15000 }).catch(() => {});
    await page.waitForLoadState("load").catch(() => {});
    const landed = new URL(page.url());
    if (landed.origin !== base.origin) failures.push(`next=${next}: ended at ${landed.href}`);
    if (elsewhere.length) failures.push(`next=${next}: asked another host for ${elsewhere.join(", ")}`);
    if (landed.origin === base.origin && !landed.pathname.startsWith("/tickets")) {
      failures.push(`next=${next}: ended at ${landed.pathname}, not the ticket log`);
    }
    await context.close();

    // Where the sign-in answer sends a browser, read by Chromium's own URL parser: our CSP's
    // form-action stops a form's redirect to another site in Chromium, but the answer must not
    // name one in the first place.
    const direct = await browser.newContext();
    const probe = await direct.newPage();
    await probe.goto(`${base.origin}/login?next=${next}`);
    const csrf = await probe.locator("input[name=csrf]").getAttribute("value");
    const hidden = await probe.locator("input[name=next]").getAttribute("value");
    const answer = await probe.request.post(`${base.origin}/login`, {
      form: { username: env("RD_USER"), password: env("RD_PASSWORD"), csrf, next: hidden },
      maxRedirects: 0,
    });
    const location = answer.headers()["location"] ?? "";
    const target = await probe.evaluate((l) => new URL(l, document.baseURI).href, location);
    if (answer.status() !== 303) failures.push(`next=${next}: the sign-in answered ${answer.status()}`);
    if (new URL(target).origin !== base.origin) failures.push(`next=${next}: the sign-in sends the browser to ${target}`);
    await direct.close();
  }
  if (failures.length) throw new Error(failures.join("; "));
  console.log(`redirect: ok (${hostile.length} hostile links)`);
} catch (e) {
  console.error(`redirect failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
