// Duplicates: the groups, "possible duplicate of" on Details, the merge
// screen with its choices and consent outcome, and Not the same person.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import { api, setUp, shot } from "./support.mjs";

test("a group is merged on the merge screen: choices per field, the consent outcome shown, the kept contact after", async (t) => {
  const { server, page } = await setUp(t);
  const ann = await api(server, "POST", "/v1/contacts", {
    external_id: "crm-1", first_name: "Ann", last_name: "Lee", phone: "+12025550143",
    consent: { email: "subscribed", sms: "subscribed" },
  });
  const anne = await api(server, "POST", "/v1/contacts", {
    external_id: "crm-2", first_name: "Anne", phone: "+12025550143", email: "anne@example.com",
  });
  await api(server, "PUT", `/v1/contacts/${anne.messaging_id}/consent`, { email: "unsubscribed" });

  await page.goto(`${server.url}/contacts/${anne.messaging_id}`);
  const note = page.getByRole("note");
  await note.getByText("Possible duplicate of").waitFor();
  assert.match(await note.textContent(), /Ann Lee.*same phone/);

  await page.getByRole("link", { name: "Duplicates" }).click();
  const group = page.getByRole("region", { name: "Same phone: +12025550143" });
  assert.equal(await group.locator("tbody tr").count(), 2);
  await shot(page, "duplicates");
  await group.getByRole("link", { name: "Merge…" }).click();
  await page.getByRole("heading", { name: "Merge 2 contacts" }).waitFor();
  // The oldest is kept; its first name by default, the other's email (it has none).
  const row = (label) => page.locator("table.merge tbody tr", { has: page.getByRole("rowheader", { name: label, exact: true }) });
  assert.equal((await row("First name").locator("td.after").textContent()).trim(), "Ann");
  assert.equal((await row("Email").locator("td.after").textContent()).trim(), "anne@example.com");
  // Consent spelled out: the unsubscribe recorded later wins; SMS stays subscribed.
  assert.equal((await row("Email consent").locator("td.after").textContent()).trim(), "Unsubscribed");
  assert.equal((await row("SMS consent").locator("td.after").textContent()).trim(), "Subscribed");
  assert.match(await row("External ID").locator("td.after").textContent(), /crm-1.*freed: crm-2/s);
  await row("First name").getByLabel("Anne").check();
  assert.equal((await row("First name").locator("td.after").textContent()).trim(), "Anne");
  await shot(page, "merge");
  await page.getByRole("button", { name: "Merge 2 contacts" }).click();

  await page.getByText("Merged 2 contacts into this one.").waitFor();
  assert.equal(new URL(page.url()).pathname, `/contacts/${ann.messaging_id}`);
  await page.getByRole("heading", { name: "Anne Lee" }).waitFor();
  const history = page.locator("section", { has: page.getByRole("heading", { name: "Consent" }) });
  const merges = history.locator(`table.history [title="merge:${anne.messaging_id}"]`);
  assert.equal(await merges.count(), 3);
  assert.equal((await merges.first().textContent()).trim(), "Merge of 1 contact");
  assert.match(await history.locator("table.history").textContent(), /External IDs freed: crm-2/);
  await shot(page, "merged");
  // The merged contact's page is the contact it became; no group is left.
  await page.goto(`${server.url}/contacts/${anne.messaging_id}`);
  assert.equal(new URL(page.url()).pathname, `/contacts/${ann.messaging_id}`);
  await page.goto(`${server.url}/duplicates`);
  await page.getByText("No duplicates found.").waitFor();
});

test("Not the same person hides a group; a contact changed meanwhile stops the merge", async (t) => {
  const { server, page } = await setUp(t);
  const bo = await api(server, "POST", "/v1/contacts", { external_id: "crm-1", first_name: "Bo", email: "bo@example.com" });
  await api(server, "POST", "/v1/contacts", { external_id: "crm-2", first_name: "Bob", email: "BO@example.com" });
  await page.goto(`${server.url}/duplicates`);
  const group = page.getByRole("region", { name: "Same email: bo@example.com" });
  await group.getByRole("link", { name: "Merge…" }).click();
  await api(server, "PATCH", `/v1/contacts/${bo.messaging_id}`, { last_name: "Changed" });
  await page.getByRole("button", { name: "Merge 2 contacts" }).click();
  await page.getByText(`Contact ${bo.messaging_id} changed since this screen was shown`).waitFor();
  await page.getByRole("link", { name: "Cancel" }).click();
  await page.getByRole("region", { name: "Same email: bo@example.com" }).getByRole("button", { name: "Not the same person" }).click();
  await page.getByText("Marked as not the same person").waitFor();
  await page.getByText("No duplicates found.").waitFor();
});

test("a scan for similar names shows its progress, then its groups with the others", async (t) => {
  const { server, page } = await setUp(t);
  await api(server, "POST", "/v1/contacts", { external_id: "crm-1", first_name: "Zoë", last_name: "Müller", country: "DE", email: "zoe@mail.example" });
  await api(server, "POST", "/v1/contacts", { external_id: "crm-2", first_name: "Zoe", last_name: "Muller", country: "DE", email: "zm@other.example" });
  await api(server, "POST", "/v1/contacts", { external_id: "crm-3", first_name: "Jon", last_name: "Smith", country: "US", email: "jon@a.example" });
  await page.goto(`${server.url}/duplicates`);
  const panel = page.getByRole("region", { name: "Similar names" });
  await panel.getByText("None has run yet.").waitFor();
  await panel.getByRole("button", { name: "Scan for similar names" }).click();
  await page.getByText(/Scanning for similar names|Last scan/).first().waitFor();
  await panel.getByText(/3 contacts read, 1 group of similar names found/).waitFor();
  const group = page.getByRole("region", { name: "Similar name: Zoe Muller" });
  assert.equal(await group.locator("tbody tr").count(), 2);
  await page.getByRole("link", { name: "Similar name", exact: true }).click();
  await page.getByRole("region", { name: "Similar name: Zoe Muller" }).waitFor();
  await shot(page, "similar-names");
  assert.ok(await panel.getByRole("button", { name: "Scan again" }).isVisible());
  await page.getByRole("region", { name: "Similar name: Zoe Muller" }).getByRole("link", { name: "Zoë Müller" }).click();
  const note = page.getByRole("note");
  await note.getByText("Possible duplicate of").waitFor();
  assert.match(await note.textContent(), /Zoe Muller \(similar name\)/);
});
