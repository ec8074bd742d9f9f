// The Upload CSV wizard, from choosing the file to the result.
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { api, setUp, shot } from "./support.mjs";

function file(name, content) {
  const path = join(mkdtempSync(join(tmpdir(), "contacts-upload-")), name);
  writeFileSync(path, content);
  return path;
}

test("the wizard checks the file before anything is sent", async (t) => {
  const { server, page } = await setUp(t);
  await page.goto(`${server.url}/`);
  await page.getByText("Add New", { exact: true }).click();
  await page.getByRole("menuitem", { name: "Upload CSV" }).click();
  await page.getByRole("heading", { name: "Upload CSV" }).waitFor();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByText("Choose a CSV file first.").waitFor();
  await page.locator("#file").setInputFiles(file("contacts.txt", "Email\nann@example.com\n"));
  await page.getByText("contacts.txt is not a .csv or .xlsx file.").waitFor();
  const big = file("big.csv", "");
  truncateSync(big, 51 * 1024 * 1024);
  await page.locator("#file").setInputFiles(big);
  await page.getByText("big.csv is 51.0 MB; the limit is 50 MB.").waitFor();
  await shot(page, "upload-file-too-large");
  await page.getByRole("button", { name: "Next" }).click();
  assert.equal(await page.getByRole("heading", { name: "Map columns" }).isVisible(), false);
  assert.deepEqual((await api(server, "GET", "/v1/imports")).items, []);
});

test("a file dropped on the drop zone is chosen", async (t) => {
  const { server, page } = await setUp(t);
  await page.goto(`${server.url}/upload`);
  const drop = await page.evaluateHandle(() => {
    const data = new DataTransfer();
    data.items.add(new File(["Email\nann@example.com\n"], "dropped.csv", { type: "text/csv" }));
    return data;
  });
  await page.locator("label.drop").dispatchEvent("dragover", { dataTransfer: drop });
  assert.ok(await page.locator("label.drop.over").count(), "the zone shows it will take the file");
  await page.locator("label.drop").dispatchEvent("drop", { dataTransfer: drop });
  await page.getByText("dropped.csv (").waitFor();
  await page.getByRole("button", { name: "Next" }).click();
  await page.locator('#mapping-table tr[data-header="Email"]').waitFor();
});

test("Upload CSV: settings, mapping with a new attribute, consent, a dry run, then the import and its error file", async (t) => {
  const { server, page } = await setUp(t);
  const vip = await api(server, "POST", "/v1/lists", { name: "VIP" });
  await api(server, "POST", "/v1/attributes", { name: "orders", label: "Orders", type: "number" });
  const csv = [
    "First Name,Last Name,Phone Number,Email,External ID,Tier,Orders,Notes",
    "Ann,Lee,+12025550143,ann@example.com,crm-1,gold,3,likes tea",
    "Bo,Ng,+4915112345678,bo@example.com,crm-2,silver,five,",
    "Cy,Oh,,cy@example.com,crm-3,,7,",
  ].join("\r\n");
  await page.goto(`${server.url}/upload`);
  await page.locator("#file").setInputFiles(file("customers.csv", csv));
  await page.getByText("customers.csv (").waitFor();
  await page.getByLabel("VIP").check();
  await page.getByLabel("Set timezone for all contacts").selectOption("Europe/Berlin");
  await page.getByLabel("Remove: delete contacts that are not in the file").check();
  await page.getByText("Permanent deletion.").waitFor();
  await page.getByLabel("Retain: keep contacts that are not in the file").check();
  assert.equal(await page.getByText("Permanent deletion.").isVisible(), false);
  await shot(page, "upload-settings");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Map columns" }).waitFor();
  const row = (header) => page.locator(`#mapping-table tr[data-header="${header}"]`);
  await row("Orders").getByText("1 invalid").waitFor();
  assert.equal(await row("Email").locator("select.map").inputValue(), "email");
  assert.equal(await row("Orders").locator("select.map").inputValue(), "orders");
  assert.equal(await row("Tier").locator("select.map").inputValue(), "");
  await row("Tier").locator("select.map").selectOption("+create");
  assert.equal(await row("Tier").locator(".create-name").inputValue(), "tier");
  await row("Tier").locator(".create-type").selectOption("text");
  await row("Notes").locator("select.map").selectOption("");
  await shot(page, "upload-mapping");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Consent" }).waitFor();
  await page.getByLabel("SMS").selectOption("subscribed");
  await page.getByLabel("Dry run").check();
  await page.getByRole("button", { name: "Submit" }).click();
  await page.getByText("Consent: A subscribed default needs consent_confirmed").waitFor();
  await page.getByLabel("I confirm that the contacts set to Subscribed agreed").check();
  await shot(page, "upload-consent");
  await page.getByRole("button", { name: "Submit" }).click();
  const report = page.locator("#import-progress .import-report[data-finished=true]");
  await report.waitFor();
  assert.equal(await report.getAttribute("data-dry-run"), "true");
  const counts = async () => Object.fromEntries(await report.locator("table.counts tr").evaluateAll((rows) =>
    rows.map((r) => [r.querySelector("th").textContent.trim(), Number(r.querySelector("td").textContent.replace(/,/g, ""))])));
  assert.deepEqual(await counts(), { "Rows read": 3, "Would be created": 2, "Would be updated": 0, Unchanged: 0, "Skipped (already exist)": 0, Rejected: 1, "Invalid values replaced": 0, "Would be removed": 0 });
  assert.equal((await api(server, "GET", "/v1/contacts")).items.length, 0, "a dry run writes no contact");
  await shot(page, "upload-dry-run");
  await page.getByRole("button", { name: "Import for real" }).click();
  await page.locator("#import-progress .import-report[data-finished=true][data-dry-run=false]").waitFor();
  const real = page.locator("#import-progress .import-report");
  assert.equal(await real.getAttribute("data-status"), "completed");
  const done = Object.fromEntries(await real.locator("table.counts tr").evaluateAll((rows) =>
    rows.map((r) => [r.querySelector("th").textContent.trim(), Number(r.querySelector("td").textContent)])));
  assert.equal(done.Created, 2);
  assert.equal(done.Rejected, 1);
  await shot(page, "upload-result");
  const downloading = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download the rejected rows (CSV)" }).click();
  const errors = readFileSync(await (await downloading).path(), "utf8").replace(/^\uFEFF/, "").trim().split(/\r?\n/);
  assert.equal(errors.length, 2);
  assert.ok(errors[0].endsWith(',"error_row","error"'), errors[0]);
  assert.ok(errors[1].startsWith('"Bo","Ng","+4915112345678","bo@example.com","crm-2","silver","five",'), errors[1]);
  const contacts = (await api(server, "GET", "/v1/contacts")).items;
  assert.deepEqual(contacts.map((c) => c.external_id).sort(), ["crm-1", "crm-3"]);
  for (const contact of contacts) {
    assert.equal(contact.timezone, "Europe/Berlin");
    assert.deepEqual(contact.lists, [vip.id]);
  }
  const ann = contacts.find((c) => c.external_id === "crm-1");
  assert.deepEqual(ann.attributes, { orders: 3, tier: "gold" });
  assert.equal(ann.consent.sms, "subscribed");
});

test("a Mailchimp export goes straight through the wizard, and the example CSV downloads", async (t) => {
  const { server, page } = await setUp(t);
  await page.goto(`${server.url}/upload`);
  const downloading = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download example CSV" }).click();
  const example = await downloading;
  assert.equal(example.suggestedFilename(), "contacts-template.csv");
  const template = readFileSync(await example.path(), "utf8");
  assert.ok(template.startsWith('"External ID","First Name","Last Name"'), template);
  const exported = new URL("../fixtures/exporters/mailchimp.csv", import.meta.url);
  await page.locator("#file").setInputFiles(exported.pathname);
  await page.getByText("mailchimp.csv (").waitFor();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Map columns" }).waitFor();
  const row = (header) => page.locator(`#mapping-table tr[data-header="${header}"]`);
  assert.equal(await row("Email Address").locator("select.map").inputValue(), "email");
  assert.equal(await row("Phone Number").locator("select.map").inputValue(), "phone");
  assert.equal(await row("CC").locator("select.map").inputValue(), "country");
  assert.equal(await row("TIMEZONE").locator("select.map").inputValue(), "timezone");
  await shot(page, "upload-mailchimp-mapping");
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("heading", { name: "Consent" }).waitFor();
  await page.getByRole("button", { name: "Submit" }).click();
  const report = page.locator("#import-progress .import-report[data-finished=true]");
  await report.waitFor();
  assert.equal(await report.getAttribute("data-status"), "completed");
  const contacts = (await api(server, "GET", "/v1/contacts")).items;
  assert.deepEqual(
    contacts.map((c) => [c.first_name, c.last_name, c.phone, c.country, c.timezone, c.external_id]).sort(),
    [
      ["Jürgen", "Müller", "+4930901820", "DE", "Europe/Berlin", null],
      ["Sofía", "García Núñez", "+34612345678", "ES", "Europe/Madrid", null],
    ],
  );
});

test("Upload CSV updates by External ID and removes contacts missing from the file", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/contacts", { external_id: "a", first_name: "Ann", email: "ann@example.com" });
  await api(server, "POST", "/v1/contacts", { external_id: "b", first_name: "Bo", email: "bo@example.com" });
  await page.goto(`${server.url}/upload`);
  await page.locator("#file").setInputFiles(file("update.csv", "External ID;First Name;Email\na;Anna;ann@example.com\nc;Cy;cy@example.com\n"));
  await page.getByLabel("Remove: delete contacts that are not in the file").check();
  await page.getByLabel("Update existing contacts").check();
  await page.getByLabel("External ID", { exact: true }).check();
  await page.getByLabel("Keep their values").check();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByText("semicolon separated").waitFor();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByRole("button", { name: "Submit" }).click();
  const report = page.locator("#import-progress .import-report[data-finished=true]");
  await report.waitFor();
  const counts = Object.fromEntries(await report.locator("table.counts tr").evaluateAll((rows) =>
    rows.map((r) => [r.querySelector("th").textContent.trim(), Number(r.querySelector("td").textContent)])));
  assert.deepEqual([counts.Created, counts.Updated, counts.Removed], [1, 1, 1]);
  const names = (await api(server, "GET", "/v1/contacts")).items.map((c) => c.first_name).sort();
  assert.deepEqual(names, ["Anna", "Cy"]);
});
