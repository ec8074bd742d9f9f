// What every browser test shares: a fresh local server over its own data
// folder, headless Chromium that may reach nothing but that server,
// signing in, seeding through the API, and a screenshot per screen.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");
const binary = process.env.CONTACTS_LOCAL_BIN ?? join(root, "target/debug/contacts-local");
export const shots = process.env.CONTACTS_SCREENSHOTS ?? join(root, "target/browser");
export const TOKEN = "dev-token";
export const OTHER_TOKEN = "other-token";

function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.on("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

/** Starts the local server on a free loopback port with an empty store. */
export async function startServer(env = {}) {
  const data = mkdtempSync(join(tmpdir(), "contacts-browser-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(binary, [], {
    env: {
      ...process.env,
      CONTACTS_ADDR: `127.0.0.1:${port}`,
      CONTACTS_DATA_DIR: data,
      CONTACTS_TOKENS: `${TOKEN}=dev,${OTHER_TOKEN}=other`,
      RUST_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/sign-in`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Calls the API as the dev workspace; returns the parsed JSON body. */
export async function api(server, method, path, body, token = TOKEN) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Headless Chromium with one page; every request that leaves the server is
 * refused and remembered in `outside`.
 */
export async function openBrowser(server) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 860 } });
  const outside = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(server.url)) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  // What the content security policy blocked counts as reaching outside.
  page.on("console", (message) => {
    if (message.type() === "error" && message.text().includes("Content Security Policy")) {
      outside.push(`blocked: ${message.text()}`);
    }
  });
  return { browser, context, page, outside };
}

/** Signs in on the sign-in page with `token`. */
export async function signIn(page, server, token = TOKEN) {
  await page.goto(`${server.url}/sign-in`);
  await page.getByLabel("Access token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/`);
}

/** Saves a full-page screenshot of the current screen as `name`.png. */
export async function shot(page, name) {
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** The rows of the contacts table as arrays of cell texts. */
export async function tableRows(page) {
  return page.locator("table.contacts tbody tr:not(.empty)").evaluateAll((rows) =>
    rows.map((row) => [...row.querySelectorAll("td")].slice(1, -1).map((td) => td.textContent.trim())),
  );
}

/** The table's column headings (without the tool columns). */
export async function tableHeadings(page) {
  return page.locator("table.contacts thead th").evaluateAll((cells) =>
    cells.slice(1, -1).map((th) => th.textContent.trim()),
  );
}

/**
 * A fresh server and browser for test `t`, signed in unless `signedIn` is
 * false; both stop when the test ends, which also checks that no page
 * reached outside the server.
 */
export async function setUp(t, { env = {}, signedIn = true } = {}) {
  const server = await startServer(env);
  const { browser, page, context, outside } = await openBrowser(server);
  t.after(async () => {
    await browser.close();
    await server.stop();
    if (outside.length > 0) throw new Error(`pages reached outside the server: ${outside.join(", ")}`);
  });
  if (signedIn) await signIn(page, server);
  return { server, page, context };
}
