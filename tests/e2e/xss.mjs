// Hostile mail in real headless Chromium (test plan 28 and 30). Opens every ticket made from the
// corpus in tests/fixtures/xss/ and its HTML version, and every attachment, twice: as served (with
// the app's Content-Security-Policy) and with CSP bypassed, so the sanitiser must hold on its own.
// Fails when any script runs (the payloads set `top.__pwned` and open a dialog), a dialog opens, a
// request leaves the page's origin, the page navigates or gains a frame, markup outside the
// sanitiser's allow-list reaches the page, or the page loses its shape. CSP violations are logged:
// they mean CSP blocked something, which is allowed as a second line but named.
//
// Environment: RD_BASE (http://127.0.0.1:PORT), RD_USER, RD_PASSWORD, RD_CASES (JSON file from
// tests/it/web/xss.rs: [{marker, kind, number, files: [{id, served, download_name}]}]),
// RD_CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();
const base = env("RD_BASE");
const origin = new URL(base).origin;
const cases = JSON.parse(readFileSync(env("RD_CASES"), "utf8"));

const failures = [];
const fail = (where, what) => failures.push(`${where}: ${what}`);
const cspLog = [];

// Runs in every document before the page's own content: collects CSP violations.
function watchCsp() {
  window.__csp = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}${e.sample ? ` (${e.sample})` : ""}`);
  }, true);
}

// What the sanitised HTML may contain; checked in the page itself.
function audit() {
  const problems = [];
  const allowedSchemes = ["http:", "https:", "mailto:"];
  const forbiddenTags = new Set(["script", "style", "link", "meta", "base", "iframe", "frame", "frameset", "object",
    "embed", "applet", "form", "input", "button", "textarea", "select", "option", "svg", "math", "img", "image",
    "video", "audio", "source", "track", "picture", "template", "noscript", "portal", "fencedframe", "param",
    "marquee", "isindex", "keygen", "title", "xmp", "plaintext", "listing", "noembed", "noframes", "animate", "set"]);
  const allowedAttrs = new Set(["href", "hreflang", "rel", "lang", "title", "cite", "datetime", "dir", "align",
    "char", "charoff", "span", "size", "width", "height", "start", "summary", "abbr", "axis", "colspan", "rowspan",
    "scope", "headers", "valign", "alt", "coords", "shape", "value", "type", "reversed", "nowrap"]);
  const bodies = document.querySelectorAll(".html-body");
  if (bodies.length > 1) problems.push(`${bodies.length} HTML bodies`);
  for (const body of bodies) {
    for (const el of body.querySelectorAll("*")) {
      const tag = el.localName;
      if (forbiddenTags.has(tag) || el.namespaceURI !== "http://www.w3.org/1999/xhtml") {
        problems.push(`<${tag}> (${el.namespaceURI}) in the HTML body`);
      }
      for (const a of el.attributes) {
        if (!allowedAttrs.has(a.name)) problems.push(`<${tag} ${a.name}="${a.value.slice(0, 60)}">`);
        if (["href", "cite", "src", "action"].includes(a.name)) {
          let scheme;
          try { scheme = new URL(a.value, "http://relative.invalid/").protocol; } catch { scheme = "unparseable"; }
          if (!allowedSchemes.includes(scheme)) problems.push(`<${tag} ${a.name}="${a.value.slice(0, 60)}"> (${scheme})`);
          if (new URL(a.value, "http://relative.invalid/").host === "relative.invalid") {
            problems.push(`relative URL <${tag} ${a.name}="${a.value.slice(0, 60)}">`);
          }
        }
      }
      const pos = getComputedStyle(el).position;
      if (pos === "fixed" || pos === "absolute" || pos === "sticky") problems.push(`<${tag}> positioned ${pos}`);
    }
  }
  const marker = window.__pwned;
  const pwned = marker === undefined ? null : typeof marker === "string" ? marker : `clobbered by markup: ${marker}`;
  if (document.contentType !== "text/html") return { problems, pwned, csp: window.__csp ?? [] };
  // The page around it keeps its shape.
  if (document.querySelectorAll("base").length) problems.push("a <base> in the document");
  if (document.baseURI !== location.href) problems.push(`base URI is ${document.baseURI}`);
  if (document.querySelectorAll("meta[http-equiv], script, iframe, object, embed, frame").length) {
    problems.push("meta refresh, script or frame elements in the document");
  }
  const headings = [...document.querySelectorAll("h1")].filter((h) => !h.closest(".html-body"));
  if (headings.length !== 1) problems.push(`${headings.length} page headings`);
  for (const f of document.forms) {
    if (f.closest(".html-body") || !(f.getAttribute("action") ?? "").startsWith("/")) {
      problems.push(`a form posting to ${f.getAttribute("action")}`);
    }
  }
  const aside = document.querySelector("aside.side-col");
  if (location.pathname.startsWith("/tickets/") && (!aside || aside.closest(".html-body") || aside.closest("details"))) {
    problems.push("the side column is missing or swallowed by the mail");
  }
  for (const body of bodies) {
    if (!body.parentElement?.matches("details") || !body.closest(".main-col")) problems.push("the HTML body moved");
  }
  return { problems, pwned, csp: window.__csp ?? [] };
}

const browser = await chromium.launch({
  executablePath: env("RD_CHROMIUM", "/usr/bin/chromium"),
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});

// Opens `path` in a fresh page and watches it; `then` acts on it; returns what the page did.
async function visit(context, where, path, then) {
  const page = await context.newPage();
  const seen = { dialogs: [], errors: [], navigations: 0, popups: 0 };
  page.on("dialog", (d) => { seen.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on("pageerror", (e) => seen.errors.push(e.message));
  page.on("popup", () => { seen.popups += 1; });
  page.on("framenavigated", (f) => { if (f === page.mainFrame()) seen.navigations += 1; });
  try {
    await page.goto(`${base}${path}`, { waitUntil: "load" });
    await then(page);
    await page.waitForTimeout(600); // animations, refreshes and lazy loads get their chance
    const url = page.url();
    if (url !== `${base}${path}`) fail(where, `navigated to ${url}`);
    if (seen.navigations !== 1) fail(where, `${seen.navigations} navigations of the page`);
    if (page.frames().length !== 1) fail(where, `${page.frames().length - 1} frames in the page`);
    const a = await page.evaluate(audit);
    if (a.pwned !== null) fail(where, `a script ran or markup set a global (__pwned = ${a.pwned})`);
    for (const p of a.problems) fail(where, p);
    for (const c of a.csp) cspLog.push(`${where}: ${c}`);
  } catch (e) {
    fail(where, `${e.message.split("\n")[0]}`);
  } finally {
    for (const d of seen.dialogs) fail(where, `a dialog opened: ${d}`);
    for (const e of seen.errors) fail(where, `a script error (something ran): ${e}`);
    if (seen.popups) fail(where, `${seen.popups} pop-ups`);
    await page.close();
  }
}

async function pass(name, bypassCSP) {
  const context = await browser.newContext({ bypassCSP, locale: "nb-NO", acceptDownloads: true });
  await context.addInitScript(watchCsp);
  // Nothing may leave the origin: every request elsewhere is recorded (and kept off the network).
  // One that CSP stopped inside the browser never left; it is logged, not failed.
  const elsewhere = [];
  const blocked = new Set();
  await context.route("**/*", (route) => {
    if (route.request().url().startsWith(`${origin}/`)) return route.continue();
    return route.abort();
  });
  context.on("request", (r) => { if (!r.url().startsWith(`${origin}/`)) elsewhere.push(r); });
  context.on("requestfailed", (r) => { if (r.failure()?.errorText === "csp") blocked.add(r); });

  const login = await context.newPage();
  await login.goto(`${base}/login`);
  await login.fill("input[name=username]", env("RD_USER"));
  await login.fill("input[name=password]", env("RD_PASSWORD"));
  await Promise.all([login.waitForURL(/\/tickets$/), login.click("button[type=submit]")]);
  await login.close();

  // The log lists every hostile subject, as text.
  await visit(context, `${name} /tickets`, "/tickets", async (page) => {
    const text = await page.locator("main").innerText();
    for (const c of cases) if (!text.includes(c.marker)) fail(`${name} /tickets`, `${c.marker} is not listed`);
  });

  for (const c of cases) {
    const where = `${name} ${c.marker} (${c.kind})`;
    await visit(context, where, `/tickets/${c.number}`, async (page) => {
      const summary = page.locator("details:has(.html-body) > summary");
      if (await summary.count()) {
        await summary.click();
        const body = page.locator(".html-body");
        if (!(await body.innerText()).includes(c.marker)) fail(where, "the HTML version does not show the mail");
        await body.hover();
        for (const el of (await body.locator("*").all()).slice(0, 40)) await el.hover({ timeout: 200, force: true }).catch(() => {});
      } else if (!(await page.locator("pre.body").innerText()).includes(c.marker)) {
        fail(where, "the report's text is not shown");
      }
    });
    for (const f of c.files) await file(context, `${name} ${c.marker} file ${f.download_name}`, c.number, f);
  }
  for (const r of elsewhere) {
    if (blocked.has(r)) cspLog.push(`${name}: request to ${r.url()} blocked`);
    else fail(name, `a request left the origin: ${r.url()}`);
  }
  await context.close();
}

const bidiOrControl = /[\u0000-\u001f\u007f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

// One attachment: its headers, then opened in the browser as a link and as an inline preview.
async function file(context, where, number, f) {
  for (const path of [`/tickets/${number}/files/${f.id}`, `/tickets/${number}/files/${f.id}?inline=1`]) {
    const inline = path.endsWith("?inline=1") && f.served === "raster";
    const res = await context.request.get(`${base}${path}`);
    const h = res.headers();
    if (h["x-content-type-options"] !== "nosniff") fail(where, `${path}: no nosniff`);
    if (h["content-security-policy"] !== "default-src 'none'; sandbox") fail(where, `${path}: CSP ${h["content-security-policy"]}`);
    const disposition = h["content-disposition"] ?? "";
    if (!disposition.startsWith(inline ? "inline; " : "attachment; ") || !disposition.includes("filename*=UTF-8''")) {
      fail(where, `${path}: Content-Disposition ${disposition}`);
    }
    if (inline) {
      // A raster image (perhaps with HTML and script inside) is only ever a picture.
      await visit(context, `${where} ${path}`, path, async (page) => {
        const type = await page.evaluate(() => document.contentType);
        if (!/^image\/(gif|png)$/.test(type)) fail(where, `${path} rendered as ${type}`);
      });
      continue;
    }
    const page = await context.newPage();
    const dialogs = [];
    page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 10000 }).catch(() => null),
      page.goto(`${base}${path}`).catch(() => null),
    ]);
    if (!download) {
      fail(where, `${path} was not downloaded (opened as ${await page.evaluate(() => document.contentType).catch(() => "?")})`);
    } else {
      const saved = download.suggestedFilename();
      if (bidiOrControl.test(saved) || /[\\/]/.test(saved) || saved.startsWith(".")) {
        fail(where, `${path} saved as ${JSON.stringify(saved)}`);
      }
      if (/^[\p{L}\p{N} .-]+$/u.test(f.download_name) && saved !== f.download_name) {
        fail(where, `${path} saved as ${JSON.stringify(saved)}, not ${JSON.stringify(f.download_name)}`);
      }
      await download.cancel();
    }
    const pwned = await page.evaluate(() => window.__pwned).catch(() => undefined);
    if (pwned !== undefined) fail(where, `${path}: a script ran (${pwned})`);
    for (const d of dialogs) fail(where, `${path}: a dialog opened: ${d}`);
    await page.close();
  }
}

try {
  await pass("with CSP", false);
  await pass("sanitiser alone (CSP bypassed)", true);
} finally {
  await browser.close();
}

console.log(`xss: ${cases.length} cases, ${cases.reduce((n, c) => n + c.files.length, 0)} files, two passes`);
for (const c of cspLog) console.log(`CSP violation (blocked, allowed as a second line): ${c}`);
if (failures.length) {
  console.error(`xss: ${failures.length} failures`);
  for (const f of failures) console.error(`  ${f}`);
  process.exitCode = 1; // not exit(): output to a pipe would be cut short
} else {
  console.log("xss: ok");
}
