// The main flow by keyboard alone, in real headless Chromium: sign in, filter the log, open a
// ticket, reclassify it and re-route it, moving only with Tab and acting only with Enter and the
// arrow keys; every element reached shows where the focus is. Exits non-zero with a message when
// a step cannot be done so.
//
// Environment: RD_BASE (http://127.0.0.1:PORT), RD_USER, RD_PASSWORD, RD_TICKET (the ticket to
// open, in the log filtered by class application), RD_CHROMIUM (default /usr/bin/chromium).
import { check, env, launch } from "./browser.mjs";

const base = env("RD_BASE"), ticket = env("RD_TICKET");

const browser = await launch();
let steps = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: "nb-NO" });

  // Tab until the focused element matches `selector` (and holds `text`); it must show its focus.
  const tabTo = async (selector, text, what) => {
    for (let i = 0; i < 120; i++) {
      await page.keyboard.press("Tab");
      const [hit, outline] = await page.evaluate(([sel, txt]) => {
        const el = document.activeElement;
        const hit = !!el && el.matches(sel) && (!txt || (el.textContent || "").includes(txt));
        const style = el ? getComputedStyle(el) : null;
        return [hit, style ? `${style.outlineStyle} ${style.outlineWidth}` : ""];
      }, [selector, text ?? ""]);
      if (hit) {
        check(!outline.startsWith("none") && !outline.endsWith(" 0px"), `${what} shows where the focus is (outline ${outline})`);
        steps += 1;
        return;
      }
    }
    throw new Error(`expected: ${what} is reached with Tab`);
  };
  const enter = async () => {
    await Promise.all([page.waitForEvent("load"), page.keyboard.press("Enter")]);
  };

  await page.goto(`${base}/login`);
  await tabTo("input[name=username]", null, "the user name field");
  await page.keyboard.type(env("RD_USER"));
  await tabTo("input[name=password]", null, "the password field");
  await page.keyboard.type(env("RD_PASSWORD"));
  await enter();
  check(/\/tickets$/.test(page.url()), `signed in, on the log (at ${page.url()})`);

  await tabTo("aside.filters a", "Programfeil", "the class filter");
  await enter();
  check(page.url().includes("class=application"), "the log is filtered by class");

  await tabTo(`table.tickets a[href="/tickets/${ticket}"]`, null, "the ticket in the log");
  await enter();
  check(page.url().endsWith(`/tickets/${ticket}`), "the ticket is open");

  await tabTo("select[name=class]", null, "the class field");
  // A closed select takes the arrow keys in place: from application fault to operations.
  await page.keyboard.press("ArrowDown");
  await tabTo("form[action$='/class'] button", null, "the class form's button");
  await enter();
  const head = await page.locator(".ticket-head").innerText();
  check(head.includes("Drift"), `the ticket is reclassified (${head})`);

  // Entries of a kind in the audit trail (its third column).
  const entries = (kind) => page.evaluate((k) => [...document.querySelectorAll("table.audit tr")]
    .filter((r) => r.cells[2] && r.cells[2].innerText.trim() === k).length, kind);
  check((await entries("Ny type")) === 1, "the reclassification is in the audit trail");
  const before = await entries("Sendt videre");
  await tabTo("form[action$='/reroute'] button", null, "the re-route button");
  await enter();
  const after = await entries("Sendt videre");
  check(after === before + 1, `the re-routing is in the audit trail (${before} routings, then ${after})`);
} finally {
  await browser.close();
}
console.log(`keyboard: the main flow in ${steps} focus stops, by keyboard alone`);
