// Staff sign-in at the OpenID provider (the local oidc-provider) in real headless Chromium: a
// municipal user lands with her role and sees only her municipality's tickets, the helpdesk sees
// them all, a person without a mapped group is refused, and signing out goes on to the provider's
// end-session and back (the provider asks for the password again afterwards). Exits non-zero with a
// message when anything is not as a person would expect.
//
// Environment: RD_BASE (http://127.0.0.1:PORT), RD_ISSUER (the provider), RD_PASSWORD (the test
// accounts' password at the provider), RD_GJOVIK and RD_OTHER (ticket numbers, comma-separated),
// RD_CHROMIUM (default /usr/bin/chromium).
import { check, env, launch } from "./browser.mjs";

const base = env("RD_BASE"), issuer = env("RD_ISSUER"), password = env("RD_PASSWORD");
const gjovik = env("RD_GJOVIK").split(","), other = env("RD_OTHER").split(",");

const browser = await launch();
const errors = [];

// A fresh browser (no session at routedesk or the provider) that asks for the ticket log, is sent
// to sign in, takes "Logg inn med …" and signs in at the provider as `email`.
async function signIn(email) {
  const context = await browser.newContext({ locale: "nb-NO" });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(`${email}: page error: ${e.message}`));
  // The refusal (403) and the other municipality's ticket (404) are checked by their status.
  const expected = /^Failed to load resource: the server responded with a status of 40[34]/;
  page.on("console", (m) => {
    if (m.type() === "error" && page.url().startsWith(base) && !expected.test(m.text())) {
      errors.push(`${email}: console: ${m.text()}`);
    }
  });
  await page.goto(`${base}/tickets`);
  check(page.url().startsWith(`${base}/login`), `${email}: an unsigned visitor is sent to sign in`);
  const button = page.locator("a#sso");
  check((await button.innerText()).trim() === "Logg inn med Testregionen", "the sign-in button names the provider");
  await button.click();
  await page.waitForURL((u) => u.href.startsWith(`${issuer}/interaction/`));
  await page.fill("#login", email);
  await page.fill("#password", password);
  await page.click("#submit");
  await page.waitForURL((u) => u.href.startsWith(base));
  await page.waitForLoadState();
  return { context, page };
}

async function ticketsShown(page) {
  const html = await page.content();
  return { shown: (n) => html.includes(`href="/tickets/${n}"`), html };
}

try {
  // A municipal user: Gjøvik's tickets, nobody else's.
  {
    const { context, page } = await signIn("kari@gjovik.kommune.no");
    check(new URL(page.url()).pathname === "/tickets", `kari lands on the ticket log (at ${page.url()})`);
    const header = await page.locator("header").innerText();
    check(header.includes("Kari Nordmann") && header.includes("municipal (gjovik)"), `kari's role is shown (${header})`);
    const { shown } = await ticketsShown(page);
    for (const n of gjovik) check(shown(n), `kari sees Gjøvik's ${n}`);
    for (const n of other) check(!shown(n), `kari does not see ${n}`);
    const res = await page.goto(`${base}/tickets/${other[0]}`);
    check(res.status() === 404, `another municipality's ticket is not found for kari (${res.status()})`);
    await context.close();
  }

  // The helpdesk: every ticket.
  const { context: hege, page } = await signIn("helpdesk@region.test");
  check(new URL(page.url()).pathname === "/tickets", "hege lands on the ticket log");
  check((await page.locator("header").innerText()).includes("Hege Helpdesk · helpdesk"), "hege is helpdesk");
  const { shown } = await ticketsShown(page);
  for (const n of [...gjovik, ...other]) check(shown(n), `the helpdesk sees ${n}`);

  // Someone the region gave no group: refused with a page that says why.
  {
    const { context, page: refused } = await signIn("ingen@region.test");
    const text = await refused.locator("main").innerText();
    check(text.includes("kontoen din har ingen rolle i routedesk"), `a clear refusal (${text})`);
    check(new URL(refused.url()).pathname === "/auth/callback", "refused where the provider sent her back");
    const res = await refused.goto(`${base}/tickets`);
    check(new URL(refused.url()).pathname === "/login" && res.ok(), "and not signed in");
    await context.close();
  }

  // Signing out: routedesk's session ends, the browser goes on to the provider's end-session and
  // comes back to the sign-in page.
  const ended = [];
  page.on("request", (r) => { if (r.url().startsWith(`${issuer}/session/end`)) ended.push(r.url()); });
  await page.click("header form[action='/logout'] button");
  await page.waitForURL(`${base}/login`, { timeout: 20000 });
  check(ended.length > 0 && ended[0].includes("id_token_hint="), `the provider's end-session was reached (${ended})`);
  await page.goto(`${base}/tickets`);
  check(new URL(page.url()).pathname === "/login", "signed out of routedesk");
  // Signed out at the provider too: it asks for the password again.
  await page.click("a#sso");
  await page.waitForURL((u) => u.href.startsWith(`${issuer}/interaction/`));
  check(await page.locator("#password").isVisible(), "the provider asks for the password again");
  await hege.close();

  check(errors.length === 0, `no script or console errors (${errors.join("; ")})`);
  console.log("sso: ok");
} catch (e) {
  console.error(`sso failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
