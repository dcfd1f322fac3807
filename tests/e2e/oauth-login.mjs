// A person signing in at the OpenID provider in real headless Chromium, as `routedesk oauth2
// login` asks: open the address it printed, fill in the provider's sign-in form, and come back to
// routedesk's loopback listener. Exits non-zero when the page routedesk answers with is not the
// "signed in" one.
//
// Environment: RD_URL (the address routedesk printed), RD_USER, RD_PASSWORD,
// RD_CHROMIUM (default /usr/bin/chromium).
import { env, launch } from "./browser.mjs";

const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(env("RD_URL"));
  await page.fill("#login", env("RD_USER"));
  await page.fill("#password", env("RD_PASSWORD"));
  await page.click("#submit");
  await page.waitForURL(/127\.0\.0\.1:\d+\/auth\/callback/, { timeout: 20000 });
  const text = await page.textContent("body");
  if (!text.includes("Signed in")) throw new Error(`routedesk answered: ${text}`);
  console.log("oauth2 login: ok");
} finally {
  await browser.close();
}
