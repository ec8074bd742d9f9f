// Types openapi-typescript generated from the served document, used as an
// integrator would: a new contact's body and a listed contact.
import type { components, paths } from "./schema";

type NewContact = components["schemas"]["CreateContactRequest"];
type Listed = paths["/v1/contacts"]["get"]["responses"]["200"]["content"]["application/json"]["items"][number];

export const ann: NewContact = { external_id: "ts-1", email: "ann@example.com", attributes: { tier: "Gold" } };
export const name = (contact: Listed): string => contact.full_name ?? contact.email ?? contact.messaging_id ?? "";
