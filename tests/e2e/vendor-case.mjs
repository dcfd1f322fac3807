// The vendor case in real headless Chromium, after the system administrator answered the routing
// mail with the vendor's case number: the log's filter finds the ticket, the ticket shows the case,
// staff tick "open for all in the region" and press "resolved by the vendor". Exits non-zero with a
// message when anything is not as a person would expect.
//
// Environment: RD_BASE, RD_USER, RD_PASSWORD, RD_TICKET, RD_CASE (the vendor's number), RD_CONTACT
// (who recorded it), RD_SHOTS (folder for a screenshot), RD_CHROMIUM.
import { check, env, launch } from "./browser.mjs";
import { mkdirSync } from "node:fs";

const base = env("RD_BASE"), ticket = env("RD_TICKET"), number = env("RD_CASE"), shots = env("RD_SHOTS");
mkdirSync(shots, { recursive: true });

const browser = await launch();
const errors = [];
const submit = (page, selector) => Promise.all([page.waitForEvent("load"), page.click(selector)]);
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, locale: "nb-NO" });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" && !m.text().includes("favicon")) errors.push(`console: ${m.text()}`); });
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", env("RD_USER"));
  await page.fill("input[name=password]", env("RD_PASSWORD"));
  await submit(page, "button[type=submit]");

  // The log: "with a vendor case" finds the ticket the administrator answered.
  await page.click("aside.filters a:has-text('Med leverandørsak')");
  await page.waitForURL(/vendor=case/);
  const rows = page.locator("table.tickets tbody tr");
  check((await rows.count()) === 1, "exactly the one ticket has a vendor case");
  check((await rows.first().innerText()).includes(ticket), "and it is the ticket answered");
  await rows.first().locator("td a").first().click();
  await page.waitForURL(new RegExp(`/tickets/${ticket}$`));

  // The case on the ticket, recorded from the mail, with who and when.
  const section = page.locator("section.vendor-case");
  let text = await section.innerText();
  check(text.includes(`Visma ${number}`), `the case number is shown (${text})`);
  check(text.includes(env("RD_CONTACT")), "with who recorded it");
  check(!(await section.locator("input[name=open]").isChecked()), "not yet open for all in the region");

  // "Open for all in the region", confirmed with the checkbox.
  await section.locator("input[name=open]").check();
  await submit(page, "section.vendor-case form[action$='/vendor'] button");
  check(await page.locator("section.vendor-case input[name=open]").isChecked(), "the checkbox stays ticked");
  check((await page.locator("table.audit").innerText()).includes("Meldt åpen for alle i regionen"), "confirmed in the audit trail");
  await page.locator("section.vendor-case").screenshot({ path: `${shots}/vendor-case.png` });

  // Resolved by the vendor: the ticket is resolved, the reporter is told.
  await submit(page, "form[action$='/vendor-resolved'] button");
  check((await page.locator("p.number .status").innerText()) === "Løst", "the ticket is resolved");
  text = await page.locator("section.vendor-case").innerText();
  check(text.includes("Løst hos leverandøren"), "the case is resolved");
  check((await page.locator("form[action$='/vendor-resolved']").count()) === 0, "and cannot be resolved twice");
  const outgoing = await page.locator("section:has(h2:has-text('Utgående e-post'))").innerText();
  check(outgoing.includes("Løst:"), "the notice to the reporter is listed");
  check(errors.length === 0, `no script or console errors (${errors.join("; ")})`);
  console.log("vendor case: ok");
} catch (e) {
  console.error(`vendor case failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
