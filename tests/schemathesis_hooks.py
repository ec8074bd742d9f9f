"""Formats of the served OpenAPI document that schemathesis can't draw from
their pattern alone: `iana-timezone` is one of the names the document lists
in `x-timezones` (loaded from CONTACTS_OPENAPI_DOCUMENT, the document as
served); and data a valid merge or removal of a list member needs
(contacts and lists that exist, created through CONTACTS_FUZZ_API with
CONTACTS_FUZZ_TOKEN). Loaded by scripts/test through
SCHEMATHESIS_HOOKS."""

import json
import os
import uuid

import requests

import schemathesis
from hypothesis import strategies as st


def documented_timezones():
    with open(os.environ["CONTACTS_OPENAPI_DOCUMENT"], encoding="utf-8") as file:
        schemas = json.load(file)["components"]["schemas"]
    return schemas["CreateContactRequest"]["properties"]["timezone"]["x-timezones"]


schemathesis.openapi.format("iana-timezone", st.sampled_from(documented_timezones()))


MERGE = "POST /v1/contacts/{messaging_id}/merge"
REMOVE_MEMBER = "DELETE /v1/lists/{id}/contacts/{messaging_id}"
GENERIC_FIELDS = {"first_name", "last_name", "phone", "email", "country", "timezone"}


def new_contact(api, token):
    """A contact of its own (an email, no phone), for a merge to name."""
    tag = uuid.uuid4().hex
    response = requests.post(
        f"{api}/v1/contacts",
        json={"external_id": f"fuzz-{tag}", "email": f"fuzz-{tag}@example.com"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["messaging_id"]


def new_member(api, token):
    """A new list with a new contact in it: their IDs."""
    headers = {"Authorization": f"Bearer {token}"}
    listed = requests.post(
        f"{api}/v1/lists",
        json={"name": f"fuzz-{uuid.uuid4().hex}"},
        headers=headers,
        timeout=10,
    )
    listed.raise_for_status()
    list_id, contact = listed.json()["id"], new_contact(api, token)
    added = requests.post(
        f"{api}/v1/lists/{list_id}/contacts",
        json={"messaging_ids": [contact]},
        headers=headers,
        timeout=10,
    )
    added.raise_for_status()
    return list_id, contact


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Data that exists: a generated valid merge gets fresh contacts in
    place of its random IDs (the survivor, the ones it merges, the contacts
    its choices and versions name), so it reaches the merge itself; a
    generated valid removal of a list member names a member of a list.
    Invalid (negative) cases are sent as generated."""
    if case.meta is None or case.meta.generation.mode.is_negative:
        return
    api, token = os.environ["CONTACTS_FUZZ_API"], os.environ["CONTACTS_FUZZ_TOKEN"]
    if case.operation.label == REMOVE_MEMBER:
        list_id, contact = new_member(api, token)
        case.path_parameters = {"id": list_id, "messaging_id": contact}
        return
    if case.operation.label != MERGE or not isinstance(case.body, dict):
        return
    merged = case.body.get("merge")
    if not isinstance(merged, list) or not 1 <= len(merged) <= 9:
        return
    ids = [new_contact(api, token) for _ in range(len(merged) + 1)]
    case.path_parameters = {"messaging_id": ids[0]}
    body = dict(case.body)
    body["merge"] = ids[1:]
    fields = body.get("fields") or {}
    body["fields"] = {
        name: ids[n % len(ids)]
        for n, name in enumerate(fields)
        if name in GENERIC_FIELDS
    }
    body["versions"] = {id: 1 for id in ids[: len(body.get("versions") or {})]}
    case.body = body
