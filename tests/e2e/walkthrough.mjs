// A staff member's walk through the web view in real headless Chromium: sign in, filter the log,
// open a ticket, see its screenshot, change its municipality and re-route it. Takes screenshots of
// the main pages. Exits non-zero with a message when anything is not as a person would expect.
//
// Environment: RD_BASE (http://127.0.0.1:PORT), RD_USER, RD_PASSWORD, RD_TOKEN (a word in the
// ticket's subject), RD_SHOTS (folder for screenshots), RD_CHROMIUM (default /usr/bin/chromium).
import { check, env, launch } from "./browser.mjs";
import { mkdirSync } from "node:fs";

const base = env("RD_BASE"), token = env("RD_TOKEN"), shots = env("RD_SHOTS");
mkdirSync(shots, { recursive: true });

const browser = await launch();
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, locale: "nb-NO" });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" && !m.text().includes("favicon")) errors.push(`console: ${m.text()}`); });

  // Signing in: the log sends us to the sign-in page and back.
  await page.goto(`${base}/tickets`);
  check(page.url().includes("/login"), "an unsigned visitor is sent to sign in");
  await page.screenshot({ path: `${shots}/login.png` });
  await page.fill("input[name=username]", env("RD_USER"));
  await page.fill("input[name=password]", env("RD_PASSWORD"));
  await page.click("button[type=submit]");
  await page.waitForURL(/\/tickets$/);
  const count = await page.locator("table.tickets tbody tr").count();
  check(count >= 2, `at least two tickets in the log (saw ${count})`);
  await page.screenshot({ path: `${shots}/ticket-log.png`, fullPage: true });

  // Filtering: the class facet, then a search for the ticket.
  await page.click("aside.filters a:has-text('Programfeil')");
  check((await page.locator("aside.filters a.active").count()) === 1, "the chosen filter is marked");
  await page.fill("input[name=q]", token);
  await page.click("form.search button[type=submit]");
  await page.waitForURL(/q=/);
  const rows = page.locator("table.tickets tbody tr");
  check((await rows.count()) === 1, "the search finds exactly the one ticket");

  // The ticket, with its screenshot drawn.
  await rows.first().locator("td a").first().click();
  await page.waitForURL(/\/tickets\/RD-/);
  check((await page.locator("h1").innerText()).includes(token), "the ticket page shows the subject");
  const thumb = page.locator("img.thumb").first();
  await thumb.waitFor();
  const width = await thumb.evaluate((img) => img.decode().then(() => img.naturalWidth, (e) => `${e}`));
  // A thumbnail made by the server (the 1280×800 screenshot scaled into 480×320), not the original.
  check(width === 480, `the screenshot thumbnail is drawn (got ${width})`);
  await page.screenshot({ path: `${shots}/ticket.png`, fullPage: true });

  // Re-route: to Nordre Land, whose contact gets the routing mail.
  await page.selectOption("select[name=municipality]", "nordre-land");
  await Promise.all([page.waitForEvent("load"), page.click("form[action$='/municipality'] button")]);
  await Promise.all([page.waitForEvent("load"), page.click("form[action$='/reroute'] button")]);
  const outgoing = await page.locator("section:has(h2:has-text('Utgående e-post'))").innerText();
  check(outgoing.includes("anne.m.t.eng@nordre-land.kommune.no"), "the new routing mail is listed");
  const audit = await page.locator("table.audit").innerText();
  check(audit.includes("Gjøvik kommune → Nordre Land kommune"), "the change is in the audit trail");

  // The other main pages.
  await page.goto(`${base}/dashboard`);
  check((await page.locator("svg.chart rect").count()) === 30, "the chart has a bar per day");
  await page.screenshot({ path: `${shots}/dashboard.png`, fullPage: true });
  await page.goto(`${base}/mail`);
  await page.screenshot({ path: `${shots}/set-aside.png`, fullPage: true });
  await page.goto(`${base}/lang/en`);
  await page.goto(`${base}/tester`);
  check((await page.locator("h1").innerText()) === "Policy tester", "English is selectable");
  await page.screenshot({ path: `${shots}/policy-tester.png` });
  check(errors.length === 0, `no script or console errors (${errors.join("; ")})`);
  console.log("walkthrough: ok");
} catch (e) {
  console.error(`walkthrough failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
