// Accessibility of every page in real headless Chromium: axe-core's WCAG 2.1 A and AA rules at
// 1280 and 375 px wide must find nothing, and at 320 px no page may scroll sideways (WCAG 1.4.10
// Reflow: a wide table scrolls inside its own box). Prints what it found, page by page; exits
// non-zero when anything was found.
//
// Environment: RD_BASE (http://127.0.0.1:PORT), RD_USER, RD_PASSWORD, RD_PAGES (paths, comma-
// separated, seen signed in), RD_PUBLIC (paths seen signed out), RD_CHROMIUM (default
// /usr/bin/chromium).
import { env, launch } from "./browser.mjs";
import AxeBuilder from "@axe-core/playwright";

const base = env("RD_BASE");
const list = (k) => env(k, "").split(",").filter(Boolean);
const pages = list("RD_PAGES"), open = list("RD_PUBLIC");
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

const browser = await launch();
const found = [];
let checked = 0;
try {
  const context = await browser.newContext({ locale: "nb-NO" });
  const page = await context.newPage();
  const visit = async (path, signedIn) => {
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${base}${path}`);
      if (signedIn && page.url().includes("/login")) throw new Error(`${path}: not signed in`);
      const result = await new AxeBuilder({ page }).withTags(WCAG).analyze();
      checked += 1;
      for (const v of result.violations) {
        const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ");
        found.push(`${path} at ${width} px: ${v.id} (${v.impact}, ${v.nodes.length}×): ${v.help} — ${where}`);
      }
    }
    await page.setViewportSize({ width: 320, height: 640 });
    await page.goto(`${base}${path}`);
    const [scroll, view] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    // A box that scrolls on its own must be reachable by keyboard (something in it takes focus).
    const stuck = await page.evaluate(() => [...document.querySelectorAll("table, pre, .scroll")]
      .filter((e) => e.scrollWidth > e.clientWidth + 1)
      .filter((e) => !e.querySelector("a[href], button, input, select, textarea, [tabindex]") && !e.hasAttribute("tabindex"))
      .map((e) => `${e.tagName.toLowerCase()}${e.className ? "." + e.className : ""}`));
    if (stuck.length) found.push(`${path} at 320 px: scrolls inside a box no keyboard reaches (${stuck.join(", ")})`);
    if (scroll > view + 1) {
      const wide = await page.evaluate(() => [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".scroll"))
        .slice(0, 3).map((e) => `${e.tagName.toLowerCase()}${e.className ? "." + e.className : ""}`).join(", "));
      found.push(`${path} at 320 px: ${scroll} px wide, scrolls sideways (${wide})`);
    }
  };
  for (const path of open) await visit(path, false);
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", env("RD_USER"));
  await page.fill("input[name=password]", env("RD_PASSWORD"));
  await Promise.all([page.waitForEvent("load"), page.click("button[type=submit]")]);
  for (const path of pages) await visit(path, true);
} finally {
  await browser.close();
}
console.log(`a11y: ${checked} page views checked with axe-core (${WCAG.join(", ")}), ${pages.length + open.length} pages at 320 px`);
if (found.length) {
  console.error(`a11y: ${found.length} findings\n${found.join("\n")}`);
  process.exit(1);
}
