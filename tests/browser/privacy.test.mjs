// Erase personal data: the row action's confirmation says what it does;
// the contact is gone and a form bringing its email back is refused.
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
});
