// Staff's flows through the incidents, privacy and status pages in real headless Chromium: confirm
// a suspected incident for the public status page and post an update, see both there as a visitor
// without signing in, and walk a privacy case through its steps. Exits non-zero with a message when
// anything is not as a person would expect.
//
// Environment: RD_BASE, RD_USER, RD_PASSWORD, RD_INCIDENT, RD_PRIVACY (numbers), RD_COORDINATOR
// (a staff username), RD_CHROMIUM.
import { check, env, launch } from "./browser.mjs";

const base = env("RD_BASE"), incident = env("RD_INCIDENT"), privacy = env("RD_PRIVACY");
const title = "Innlogging i Visma.net feiler", update = "Visma har funnet feilen og retter den";

const browser = await launch();
const errors = [];
const watch = (page) => {
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error" && !m.text().includes("favicon")) errors.push(`console: ${m.text()}`); });
};
const submit = (page, selector) => Promise.all([page.waitForEvent("load"), page.click(selector)]);
try {
  const staff = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "nb-NO" });
  const page = await staff.newPage();
  watch(page);
  await page.goto(`${base}/login`);
  await page.fill("input[name=username]", env("RD_USER"));
  await page.fill("input[name=password]", env("RD_PASSWORD"));
  await submit(page, "button[type=submit]");

  // Incidents: from the list to the incident, confirmed for the status page, then an update.
  await page.click("nav a[href='/incidents']");
  await page.waitForURL(/\/incidents$/);
  await page.click(`table.tickets a:has-text('${incident}')`);
  await page.waitForURL(new RegExp(`/incidents/${incident}$`));
  check((await page.locator("table.tickets tbody tr").count()) >= 2, "the incident lists its reports");
  check((await page.locator("p.number").innerText()).includes("Mistenkt"), "it is suspected before it is confirmed");
  await page.fill("form[action$='/confirm'] input[name=text]", title);
  await submit(page, "form[action$='/confirm'] button");
  check((await page.locator("p.number").innerText()).includes("Bekreftet"), "confirmed");
  await page.selectOption("form[action$='/update'] select[name=stage]", "identified");
  await page.fill("form[action$='/update'] textarea[name=text]", update);
  await submit(page, "form[action$='/update'] button");
  const timeline = await page.locator("ul.events").innerText();
  check(timeline.includes(update), "the update is in the timeline");

  // The public status page, as a visitor who never signed in.
  const visitor = await browser.newContext({ viewport: { width: 375, height: 800 }, locale: "nb-NO" });
  const pub = await visitor.newPage();
  watch(pub);
  await pub.goto(`${base}/status`);
  check(!pub.url().includes("/login"), "the status page needs no sign-in");
  const status = await pub.locator("main").innerText();
  check(status.includes(title), `the confirmed incident is on the status page (${status.slice(0, 300)})`);
  check(status.includes(update), "with its update");
  check(!/operational|All Systems/i.test(status), "in bokmål");
  await visitor.close();

  // A privacy case: coordinator, assessment, the report, the authority notified.
  await page.click("nav a[href='/privacy']");
  await page.waitForURL(/\/privacy$/);
  await page.click(`a:has-text('${privacy}')`);
  await page.waitForURL(new RegExp(`/privacy/${privacy}$`));
  await page.fill("form[action$='/coordinator'] input[name=coordinator]", env("RD_COORDINATOR"));
  await submit(page, "form[action$='/coordinator'] button");
  check((await page.locator("main").innerText()).includes(`Koordinator: ${env("RD_COORDINATOR")}`), "the coordinator is shown");
  await submit(page, "form[action$='/stage'] button");
  check((await page.locator("p.number").innerText()).includes("Vurdering"), "the case is being assessed");
  await page.fill("textarea[name=timeline]", "08:10 lønnsslipp sendt til feil ansatt; 08:40 meldt");
  await page.fill("textarea[name=personal_data]", "Lønn og kontonummer");
  await submit(page, "form.report button[type=submit]");
  check((await page.locator("textarea[name=personal_data]").inputValue()) === "Lønn og kontonummer", "the report is kept");
  await submit(page, "form[action$='/authority'] button");
  check((await page.locator("p.deadline").innerText()).includes("Datatilsynet varslet"), "the authority is notified in time");
  const steps = await page.locator("ul.events").innerText();
  for (const step of ["Koordinator", "Personverntrinn", "Avviksrapport", "Datatilsynet varslet"]) {
    check(steps.includes(step), `the case's timeline has ${step}`);
  }
  check(errors.length === 0, `no script or console errors (${errors.join("; ")})`);
  console.log("flows: incidents, status page and privacy case ok");
} catch (e) {
  console.error(`flows failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
