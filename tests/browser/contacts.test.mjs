// All Contacts, New Contact, Details, Edit, Update Consent and Delete,
// driven as a person would.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { api, setUp, shot, signIn, tableHeadings, tableRows, OTHER_TOKEN } from "./support.mjs";

test("signing in: a wrong token is refused, the right one opens the workspace's contacts", async (t) => {
  const { server, page } = await setUp(t, { signedIn: false, env: { CONTACTS_USAGE_LIMIT: "1000" } });
  await page.goto(`${server.url}/`);
  assert.match(page.url(), /\/sign-in\?next=%2F$/);
  await page.getByLabel("Access token").fill("not-a-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("This token is not recognised").waitFor();
  await shot(page, "sign-in");
  await page.getByLabel("Access token").fill("dev-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "All Contacts" }).waitFor();
  assert.equal((await page.locator(".usage").textContent()).replace(/\s+/g, " ").trim(), "Contacts Usage 0 of 1,000");
  await page.getByText("No contacts yet").waitFor();
  const [cookie] = (await page.context().cookies()).filter((c) => c.name === "contacts_session");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, "Strict");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.goto(`${server.url}/`);
  assert.match(page.url(), /\/sign-in/);
});

test("a form without the session's CSRF token changes nothing", async (t) => {
  const { server, page } = await setUp(t);
  const contact = await api(server, "POST", "/v1/contacts", { external_id: "c-1", email: "ann@example.com" });
  const status = await page.evaluate(async (id) => {
    const response = await fetch(`/contacts/${id}/delete`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "csrf=0000",
    });
    return response.status;
  }, contact.messaging_id);
  assert.equal(status, 403);
  await api(server, "GET", `/v1/contacts/${contact.messaging_id}`);
});

test("New Contact shows the server's errors next to their fields, then creates the contact", async (t) => {
  const { server, page } = await setUp(t);
  const vip = await api(server, "POST", "/v1/lists", { name: "VIP" });
  await api(server, "POST", "/v1/attributes", { name: "loyalty_tier", label: "Loyalty tier", type: "text" });
  await api(server, "POST", "/v1/attributes", { name: "orders", label: "Orders", type: "number" });
  await api(server, "POST", "/v1/attributes", { name: "vip", label: "VIP", type: "boolean" });
  await api(server, "POST", "/v1/attributes", { name: "birthday", label: "Birthday", type: "date" });
  await api(server, "POST", "/v1/attributes", { name: "last_seen", label: "Last seen", type: "datetime" });
  await page.reload();
  await page.getByText("Add New", { exact: true }).click();
  await page.getByRole("menuitem", { name: "Create Contact" }).click();
  await page.getByRole("heading", { name: "New Contact" }).waitFor();
  await page.getByRole("button", { name: "Submit" }).click();
  const externalId = page.locator(".field", { has: page.getByLabel("External ID") });
  await externalId.getByText("Is required.").waitFor();
  await page.locator(".field", { has: page.getByLabel("Email", { exact: true }) }).getByText("A contact needs a phone number or an email address.").waitFor();
  await page.getByLabel("External ID").fill("crm-1");
  await page.getByLabel("First name").fill("Ann");
  await page.getByLabel("Phone number").fill("202-555-0143");
  await page.getByRole("button", { name: "Submit" }).click();
  const phone = page.locator(".field", { has: page.getByLabel("Phone number") });
  await phone.locator("p.error").getByText(/E\.164/).waitFor();
  assert.equal(await page.getByLabel("First name").inputValue(), "Ann");
  await shot(page, "new-contact-errors");
  await page.getByLabel("Phone number").fill("+12025550143");
  await page.getByLabel("Last name").fill("Lee");
  await page.getByLabel("Email").fill("ann@example.com");
  await page.getByLabel("Timezone").selectOption("America/New_York");
  await page.getByLabel("Country").selectOption("US");
  await page.getByLabel("VIP", { exact: true }).first().check();
  await page.getByLabel("Loyalty tier").fill("Gold");
  await page.getByLabel("Orders").fill("12");
  await page.locator("select[name='attributes.vip']").selectOption("true");
  await page.getByLabel("Birthday").fill("1990-04-01");
  await page.getByLabel("Last seen").fill("2026-11-25T08:30:00");
  await shot(page, "new-contact");
  await page.getByRole("button", { name: "Submit" }).click();
  await page.getByRole("heading", { name: "Ann Lee" }).waitFor();
  await page.getByText("Contact created.").waitFor();
  const overview = await page.locator("dl.pairs").allTextContents();
  const text = overview.join(" ").replace(/\s+/g, " ");
  for (const expected of ["crm-1", "+12025550143", "ann@example.com", "US", "America/New_York", "Gold", "12", "true", "1990-04-01", "2026-11-25T08:30:00Z"]) {
    assert.ok(text.includes(expected), `${expected} in ${text}`);
  }
  await shot(page, "details-overview");
  await page.getByRole("link", { name: "Lists" }).last().click();
  await page.getByRole("link", { name: "VIP" }).last().click();
  assert.ok(page.url().endsWith(`/?list=${vip.id}`));
  assert.deepEqual((await tableRows(page)).map((row) => row[0]), ["Ann Lee"]);
});

test("Details: the Lists tab says No data for a contact in no list", async (t) => {
  const { server, page } = await setUp(t);
  const contact = await api(server, "POST", "/v1/contacts", { external_id: "c-1", email: "bo@example.com" });
  await page.goto(`${server.url}/contacts/${contact.messaging_id}?tab=lists`);
  await page.getByText("No data").waitFor();
  await shot(page, "details-lists");
});

test("Edit explains a concurrent change (412) and reloads the contact as it is now", async (t) => {
  const { server, page } = await setUp(t);
  const contact = await api(server, "POST", "/v1/contacts", { external_id: "c-1", first_name: "Ann", email: "ann@example.com" });
  await page.goto(`${server.url}/contacts/${contact.messaging_id}/edit`);
  await api(server, "PATCH", `/v1/contacts/${contact.messaging_id}`, { first_name: "Anna" });
  await page.getByLabel("Last name").fill("Lee");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Someone else changed this contact after you opened it.").waitFor();
  await shot(page, "edit-conflict");
  const now = await api(server, "GET", `/v1/contacts/${contact.messaging_id}`);
  assert.equal(now.first_name, "Anna");
  assert.equal(now.last_name, null);
  await page.getByRole("link", { name: "Reload" }).click();
  assert.equal(await page.getByLabel("First name").inputValue(), "Anna");
  await page.getByLabel("Last name").fill("Lee");
  await page.getByLabel("Email").fill("");
  await page.getByLabel("Phone number").fill("+12025550143");
  await shot(page, "edit");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Changes saved.").waitFor();
  const saved = await api(server, "GET", `/v1/contacts/${contact.messaging_id}`);
  assert.deepEqual([saved.first_name, saved.last_name, saved.email, saved.phone], ["Anna", "Lee", null, "+12025550143"]);
});

test("Update Consent: only Subscribed or Unsubscribed, recorded with its source", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/contacts", { external_id: "c-1", first_name: "Ann", phone: "+12025550143" });
  await page.reload();
  await page.getByLabel("Actions for Ann").click();
  await page.getByRole("menuitem", { name: "Update Consent" }).click();
  const dialog = page.getByRole("dialog", { name: "Update Consent" });
  await dialog.getByText("Not Subscribed can't be chosen").waitFor();
  assert.equal(await dialog.getByRole("radio", { name: "Not Subscribed" }).count(), 0);
  await dialog.getByRole("group", { name: /SMS/ }).getByLabel("Subscribed", { exact: true }).check();
  await dialog.getByRole("group", { name: /Email/ }).getByLabel("Unsubscribed").check();
  await shot(page, "update-consent");
  await dialog.getByRole("button", { name: "Update" }).click();
  await page.getByText("Consent updated.").waitFor();
  const consent = page.locator("section", { has: page.getByRole("heading", { name: "Consent" }) });
  const history = await consent.locator("table.history tbody tr").allTextContents();
  assert.equal(history.length, 2);
  assert.ok(history.every((row) => row.includes("console")));
});

test("Delete asks first, then removes the contact", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/contacts", { external_id: "c-1", first_name: "Ann", email: "ann@example.com" });
  await api(server, "POST", "/v1/contacts", { external_id: "c-2", first_name: "Bo", email: "bo@example.com" });
  await page.reload();
  await page.getByLabel("Actions for Ann").click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete contact" });
  await dialog.getByText("This can't be undone").waitFor();
  await shot(page, "delete");
  await dialog.getByRole("link", { name: "Cancel" }).click();
  assert.equal(await dialog.count(), 0);
  assert.equal((await tableRows(page)).length, 2);
  await page.getByLabel("Actions for Ann").click();
  await page.getByRole("menuitem", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByText("Contact deleted.").waitFor();
  assert.deepEqual((await tableRows(page)).map((row) => row[0]), ["Bo"]);
});

test("filters apply only when Filter is clicked; Add Filter offers the rest", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/attributes", { name: "tier", label: "Tier", type: "text" });
  await api(server, "POST", "/v1/contacts", { external_id: "c-1", first_name: "Ann", last_name: "Lee", email: "ann@example.com", country: "US", attributes: { tier: "gold" } });
  await api(server, "POST", "/v1/contacts", { external_id: "c-2", first_name: "Bo", last_name: "Lee", email: "bo@example.com", country: "DE" });
  await api(server, "POST", "/v1/contacts", { external_id: "c-3", first_name: "Cy", last_name: "Ng", phone: "+4915112345678", country: "DE" });
  await page.reload();
  assert.equal((await tableRows(page)).length, 3);
  await page.getByRole("searchbox", { name: "Full name" }).fill("lee");
  assert.equal((await tableRows(page)).length, 3, "typing alone does not filter");
  await page.getByRole("button", { name: "Filter", exact: true }).click();
  await page.waitForURL(/full_name=lee/);
  assert.deepEqual((await tableRows(page)).map((row) => row[0]).sort(), ["Ann Lee", "Bo Lee"]);
  await page.getByLabel("Add filter").selectOption({ label: "Country" });
  await page.locator("#country").selectOption("DE");
  await shot(page, "all-contacts-filters");
  await page.getByRole("button", { name: "Filter", exact: true }).click();
  await page.waitForURL(/country=DE/);
  assert.deepEqual((await tableRows(page)).map((row) => row[0]), ["Bo Lee"]);
  await page.getByRole("link", { name: "Clear" }).click();
  await page.getByLabel("Add filter").selectOption({ label: "Tier" });
  await page.getByRole("searchbox", { name: "Tier" }).fill("GOLD");
  await page.getByRole("button", { name: "Filter", exact: true }).click();
  assert.deepEqual((await tableRows(page)).map((row) => row[0]), ["Ann Lee"]);
  await page.goto(`${server.url}/?phone=%2B49`);
  assert.deepEqual((await tableRows(page)).map((row) => row[0]), ["Cy Ng"]);
});

test("search finds by the start of a name, a phone's last digits and an email's domain, on the first page", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/contacts", { external_id: "w-1", first_name: "Wilhelmina", last_name: "Quaresma", email: "wil@quaresma.example", phone: "+12025550143" });
  await api(server, "POST", "/v1/contacts", { external_id: "w-2", first_name: "Jürgen", last_name: "García López", email: "jg@example.org" });
  for (let i = 0; i < 60; i++) {
    await api(server, "POST", "/v1/contacts", { external_id: `n-${i}`, first_name: "Ann", last_name: `Lee${i}`, email: `ann${i}@example.com` });
  }
  await page.reload();
  await page.getByRole("searchbox", { name: "Full name" }).fill("wil qua");
  await page.getByRole("button", { name: "Filter", exact: true }).click();
  await page.waitForURL(/full_name=wil/);
  assert.deepEqual((await tableRows(page)).map((row) => row[0]), ["Wilhelmina Quaresma"]);
  const found = async (query) => {
    await page.goto(`${server.url}/?${query}`);
    return (await tableRows(page)).map((row) => row[0]);
  };
  assert.deepEqual(await found("full_name=jur+gar"), ["Jürgen García López"]);
  assert.deepEqual(await found("full_name=lopez"), ["Jürgen García López"]);
  assert.equal((await found("full_name=ann+lee")).length, 50, "a common name fills the first page");
  await shot(page, "all-contacts-search");
  assert.deepEqual(await found("phone=0143"), ["Wilhelmina Quaresma"]);
  assert.deepEqual(await found("email=quaresma"), ["Wilhelmina Quaresma"]);
  assert.deepEqual(await found("email=example.org"), ["Jürgen García López"]);
});

test("Customize columns changes the table and is remembered", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/attributes", { name: "tier", label: "Tier", type: "text" });
  await api(server, "POST", "/v1/contacts", { external_id: "crm-9", first_name: "Ann", email: "ann@example.com", attributes: { tier: "gold" } });
  await page.reload();
  assert.ok((await tableHeadings(page)).includes("Email"));
  await page.getByRole("button", { name: "Customize columns" }).click();
  const dialog = page.getByRole("dialog", { name: "Customize columns" });
  await dialog.getByLabel("Email", { exact: true }).uncheck();
  await dialog.getByLabel("External ID").check();
  await dialog.getByLabel("Tier").check();
  await shot(page, "customize-columns");
  await dialog.getByRole("button", { name: "Save" }).click();
  await page.getByText("Columns saved.").waitFor();
  const headings = await tableHeadings(page);
  assert.ok(!headings.includes("Email"));
  assert.ok(headings.includes("External ID") && headings.includes("Tier"));
  const row = (await tableRows(page))[0];
  assert.ok(row.includes("crm-9") && row.includes("gold"));
  const saved = await api(server, "GET", "/v1/settings/columns");
  assert.ok(saved.columns.includes("tier") && !saved.columns.includes("email"));
});

test("pages follow the API's cursors", async (t) => {
  const { server, page } = await setUp(t);
  for (let i = 0; i < 55; i++) {
    await api(server, "POST", "/v1/contacts", { external_id: `c-${i}`, first_name: `Person${String(i).padStart(2, "0")}`, email: `p${i}@example.com` });
  }
  await page.reload();
  const first = await tableRows(page);
  assert.equal(first.length, 50);
  await shot(page, "all-contacts");
  await page.getByRole("link", { name: "More »" }).click();
  const second = await tableRows(page);
  assert.equal(second.length, 5);
  const names = new Set([...first, ...second].map((row) => row[0]));
  assert.equal(names.size, 55);
  assert.equal(await page.getByRole("link", { name: "More »" }).count(), 0);
  await page.getByRole("link", { name: "« First page" }).click();
  assert.equal((await tableRows(page)).length, 50);
});

test("Download CSV hands over the filtered contacts in the table's columns", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/contacts", { external_id: "c-1", first_name: "Ann", last_name: "Lee", email: "ann@example.com", country: "US" });
  await api(server, "POST", "/v1/contacts", { external_id: "c-2", first_name: "Bo", last_name: "Ng", email: "bo@example.com", country: "DE" });
  await page.goto(`${server.url}/?country=US`);
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download CSV" }).click();
  const download = await downloading;
  assert.match(download.suggestedFilename(), /^contacts-\d{4}-\d{2}-\d{2}\.csv$/);
  const path = await download.path();
  const { readFileSync } = await import("node:fs");
  const lines = readFileSync(path, "utf8").replace(/^\uFEFF/, "").trim().split(/\r\n/);
  assert.equal(lines.length, 2);
  assert.ok(lines[0].startsWith('"Full Name","Phone Number","Email","Country"'), lines[0]);
  assert.ok(lines[1].startsWith('"Ann Lee","","ann@example.com","US"'), lines[1]);
  await page.getByText("Your file is ready").waitFor();
  await shot(page, "download");

  await page.goto(`${server.url}/?country=US`);
  const workbook = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download as Excel (.xlsx)" }).click();
  const xlsx = await workbook;
  assert.match(xlsx.suggestedFilename(), /^contacts-\d{4}-\d{2}-\d{2}\.xlsx$/);
  assert.equal(readFileSync(await xlsx.path()).subarray(0, 4).toString("latin1"), "PK\x03\x04");
});

test("a workspace sees only its own contacts", async (t) => {
  const { server, page } = await setUp(t);
  const theirs = await api(server, "POST", "/v1/contacts", { external_id: "c-1", first_name: "Secret", email: "s@example.com" }, OTHER_TOKEN);
  await page.reload();
  await page.getByText("No contacts yet").waitFor();
  const response = await page.goto(`${server.url}/contacts/${theirs.messaging_id}`);
  assert.equal(response.status(), 404);
  await signIn(page, server, OTHER_TOKEN);
  assert.deepEqual((await tableRows(page)).map((row) => row[0]), ["Secret"]);
});

test("All Contacts with a realistic workspace (the README's screenshot)", async (t) => {
  const { server, page } = await setUp(t, { env: { CONTACTS_USAGE_LIMIT: "10000" } });
  const vip = await api(server, "POST", "/v1/lists", { name: "VIP" });
  const people = [
    ["Amelia", "Hughes", "+447911123456", "amelia.hughes@example.co.uk", "GB", { sms: "subscribed", email: "subscribed" }],
    ["Lukas", "Schneider", "+4915123456789", "lukas.schneider@example.de", "DE", { whatsapp: "subscribed" }],
    ["Sofía", "García", "+34612345678", "sofia.garcia@example.es", "ES", { sms: "unsubscribed", email: "subscribed" }],
    ["Kenji", "Watanabe", "+819012345678", "kenji.w@example.jp", "JP", {}],
    ["Olivia", "Martin", "+33612345678", "olivia.martin@example.fr", "FR", { sms: "subscribed", whatsapp: "subscribed", email: "unsubscribed" }],
    ["Noah", "Johnson", "+12025550143", "noah.johnson@example.com", "US", { email: "subscribed" }],
    ["Priya", "Sharma", "+919812345678", "priya.sharma@example.in", "IN", { whatsapp: "subscribed" }],
  ];
  for (const [i, [first, last, phone, email, country, consent]] of people.entries()) {
    await api(server, "POST", "/v1/contacts", {
      external_id: `crm-${1001 + i}`, first_name: first, last_name: last, phone, email, country, consent,
      lists: i % 2 === 0 ? [vip.id] : [],
    });
  }
  await page.setViewportSize({ width: 1440, height: 720 });
  await page.reload();
  assert.equal((await tableRows(page)).length, people.length);
  await page.getByText("Add New", { exact: true }).click();
  await page.screenshot({ path: `${(await import("./support.mjs")).shots}/readme-all-contacts.png` });
});

test("unknown pages and malformed IDs are pages a person can act on", async (t) => {
  const { server, page } = await setUp(t);
  let response = await page.goto(`${server.url}/no/such/page`);
  assert.equal(response.status(), 404);
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
  await page.getByRole("link", { name: "Go to All Contacts" }).click();
  await page.getByRole("heading", { name: "All Contacts" }).waitFor();
  response = await page.goto(`${server.url}/contacts/not-an-id`);
  assert.equal(response.status(), 404);
  await page.getByText("no contact has Messaging ID", { exact: false }).waitFor();
  const api = await fetch(`${server.url}/v1/nothing`, { headers: { accept: "text/html" } });
  assert.equal(api.headers.get("content-type"), "application/problem+json", "the API's paths stay the API's");
});

test("the row menu works from the keyboard", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/contacts", { external_id: "c-1", first_name: "Ann", email: "ann@example.com" });
  await page.reload();
  await page.getByLabel("Actions for Ann").focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Details");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Ann" }).waitFor();
  await page.getByRole("link", { name: "All Contacts" }).first().click();
  await page.getByLabel("Actions for Ann").focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("details.row-menu[open]").count(), 0, "Escape closes the menu");
});

test("on a phone the page fits the screen and the table scrolls inside it", async (t) => {
  const { server, page } = await setUp(t);
  for (let i = 0; i < 5; i++) {
    await api(server, "POST", "/v1/contacts", { external_id: `c-${i}`, first_name: `Person${i}`, last_name: "Example", email: `p${i}@example.com`, phone: `+1202555014${i}`, country: "US" });
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(fits, "no sideways scrolling of the page");
  const scrolls = await page.locator(".table-wrap").evaluate((el) => el.scrollWidth > el.clientWidth);
  assert.ok(scrolls, "the table scrolls within its frame");
  await shot(page, "all-contacts-phone");
});
