// The admin page in a real headless browser (Debian's Chromium, driven by playwright-core):
// log in (a wrong token first), filter the trail, watch a budget refusal appear after support
// overspends, see the verification status, and no CSP violation or script error on the way.
// scripts/server-checks.sh runs it against a server it started; SCREENSHOT=path keeps a picture.
//
// Environment: BASE_URL, ADMIN_TOKEN, SUPPORT_TOKEN, APP_TOKEN, SPKI (the server key's SPKI
// SHA-256, base64: Chromium trusts exactly that key and no other certificate error),
// NODE_EXTRA_CA_CERTS (the dev CA, for this script's own fetch calls).
import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
const fail = (message) => { console.error("admin page: FAILED: " + message); process.exit(1); };

async function api(path, token, body) {
  const response = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + token },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--ignore-certificate-errors-spki-list=" + process.env.SPKI,
  ],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Every console error counts (a CSP violation is one), except the browser's own note on the
  // 401s the wrong-token login draws.
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 401/.test(m.text())) problems.push("console: " + m.text());
  });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));

  const response = await page.goto(base + "/admin");
  const csp = response.headers()["content-security-policy"] || "";
  if (!csp.includes("default-src 'none'")) fail("no strict CSP on the page: " + csp);

  // A wrong token is refused and the data stays hidden.
  await page.fill("#token", "not-a-token");
  await page.click("#login-button");
  await page.waitForSelector("#login-error:not([hidden])");
  if (await page.isVisible("#app")) fail("the app is visible after a wrong token");

  // Seal a value, open it masked as support until the budget refuses.
  const sealed = await api("/v1/seal", process.env.APP_TOKEN,
    { items: [{ table: "customers", column: "card_number", row: 1, value: "4111111111111111" }] });
  if (sealed.status !== 200) fail("seal: " + JSON.stringify(sealed.body));
  const envelope = sealed.body.items[0].envelope;
  let refused = false;
  for (let i = 0; i < 10 && !refused; i++) {
    const r = await api("/v1/mask", process.env.SUPPORT_TOKEN, {
      purpose: "support-ticket",
      items: [{ table: "customers", column: "card_number", row: 1, envelope }],
    });
    if (r.status === 429) refused = true;
    else if (r.status !== 200) fail("mask: " + r.status + " " + JSON.stringify(r.body));
  }
  if (!refused) fail("the budget never refused");

  // Log in as admin.
  await page.fill("#token", process.env.ADMIN_TOKEN);
  await page.click("#login-button");
  await page.waitForSelector("#app:not([hidden])");
  await page.waitForFunction(() => document.querySelector("#who").textContent.includes("admin"));

  // Filter the trail by outcome: the budget refusal is there, by support on card_number.
  await page.selectOption("#f-outcome", "budget");
  await page.click("#apply");
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("#trail tbody tr")];
    return rows.length > 0 && rows.every((tr) => tr.className === "outcome-budget");
  });
  const rows = await page.$$eval("#trail tbody tr", (trs) => trs.map((tr) => tr.textContent));
  if (!rows.every((r) => r.includes("support") && r.includes("customers.card_number") && r.includes("budget")))
    fail("filtered rows: " + JSON.stringify(rows.slice(0, 3)));

  // The budget table shows it spent.
  const budgets = await page.$$eval("#budgets tbody tr", (trs) => trs.map((tr) => tr.textContent));
  if (!budgets.some((r) => r.includes("support") && r.includes("customers.card_number")))
    fail("budgets: " + JSON.stringify(budgets));

  // Verification status (entries after the last checkpoint are reported, not hidden).
  await page.waitForFunction(() => /verified/.test(document.querySelector("#verify-status").textContent));
  const status = await page.textContent("#verify-status");

  if (process.env.SCREENSHOT) {
    // support's opens and the refusal, in the first screenful.
    await page.selectOption("#f-outcome", "");
    await page.fill("#f-principal", "support");
    await page.click("#apply");
    await page.waitForFunction(() => document.querySelectorAll("#trail tbody tr").length > 1);
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: false });
  }
  if (problems.length) fail("browser problems: " + problems.join("; "));
  console.log(`admin page: ok (login refused then accepted; ${rows.length} budget refusal row(s); status: ${status.trim()})`);
} finally {
  await browser.close();
}
