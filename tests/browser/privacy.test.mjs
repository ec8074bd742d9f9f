// Erase personal data: the row action's confirmation says what it does;
// the contact is gone and a form bringing its email back is refused. The
// personal-data download, and the Activity tab's audit entries.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { api, setUp, shot, tableRows } from "./support.mjs";

test("Erase personal data asks first, then keeps the person out", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/contacts", { external_id: "c-1", first_name: "Ann", last_name: "Lee", email: "ann@example.com" });
  await api(server, "POST", "/v1/contacts", { external_id: "c-2", first_name: "Bo", email: "bo@example.com" });
  await page.reload();
  await page.getByLabel("Actions for Ann Lee").click();
  await page.getByRole("menuitem", { name: "Erase personal data" }).click();
  const dialog = page.getByRole("dialog", { name: "Erase personal data" });
  await dialog.getByText("Only a keyed hash of each is kept").waitFor();
  await shot(page, "erase");
  await dialog.getByRole("button", { name: "Erase" }).click();
  await page.getByText("Personal data erased").waitFor();
  assert.deepEqual((await tableRows(page)).map((row) => row[0]), ["Bo"]);

  await page.goto(`${server.url}/contacts/new`);
  await page.getByLabel("External ID").fill("c-3");
  await page.getByLabel("Email", { exact: true }).fill("ANN@example.com");
  await page.getByRole("button", { name: "Submit" }).click();
  const email = page.locator(".field", { has: page.getByLabel("Email", { exact: true }) });
  await email.locator("p.error").getByText(/^Erased on 2\d{3}-\d{2}-\d{2}/i).waitFor();
  await shot(page, "erased-refused");
});

test("Download personal data saves the contact's whole document", async (t) => {
  const { server, page } = await setUp(t);
  const bo = await api(server, "POST", "/v1/contacts", { external_id: "c-2", first_name: "Bo", email: "bo@example.com", consent: { sms: "subscribed" } });
  await page.goto(`${server.url}/contacts/${bo.messaging_id}`);
  await shot(page, "personal-data");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download personal data" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `personal-data-${bo.messaging_id}.json`);
  const text = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
  const document = JSON.parse(text);
  assert.equal(document.contact.email, "bo@example.com");
  assert.equal(document.contact.consent.sms, "subscribed");
  assert.deepEqual(document.audit.map((entry) => entry.operation), ["contact_created"]);
});

test("The Activity tab shows who changed the contact and which fields", async (t) => {
  const { server, page } = await setUp(t);
  const ann = await api(server, "POST", "/v1/contacts", { external_id: "c-1", first_name: "Ann", email: "ann@example.com" });
  await page.goto(`${server.url}/contacts/${ann.messaging_id}/edit`);
  await page.getByLabel("First name").fill("Anna");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Changes saved.").waitFor();
  await page.goto(`${server.url}/contacts/${ann.messaging_id}`);
  await page.getByRole("link", { name: "Activity" }).click();
  const activity = page.getByRole("region", { name: "Activity" });
  await activity.locator("table.history").waitFor();
  const rows = await activity.locator("tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.querySelectorAll("td")].map((td) => td.textContent.trim())),
  );
  assert.deepEqual(rows.map((row) => row.slice(2)), [
    ["Edited", "first name"],
    ["Created", "email, external id, first name"],
  ]);
  assert.match(rows[0][1], /^token:[0-9a-f]{8}$/);
  await shot(page, "activity");
});
