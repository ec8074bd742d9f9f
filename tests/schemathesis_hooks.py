"""Formats of the served OpenAPI document that schemathesis can't draw from
their pattern alone: `iana-timezone` is one of the names the document lists
in `x-timezones` (loaded from CONTACTS_OPENAPI_DOCUMENT, the document as
served); and data a valid merge needs (contacts that exist, created through
CONTACTS_FUZZ_API with CONTACTS_FUZZ_TOKEN). Loaded by scripts/test through
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


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """A merge names contacts that exist: a generated valid merge gets
    fresh contacts in place of its random IDs (the survivor, the ones it
    merges, the contacts its choices and versions name), so it reaches the
    merge itself; invalid (negative) cases are sent as generated."""
    if case.operation.label != MERGE or case.meta is None:
        return
    if case.meta.generation.mode.is_negative or not isinstance(case.body, dict):
        return
    merged = case.body.get("merge")
    if not isinstance(merged, list) or not 1 <= len(merged) <= 9:
        return
    api, token = os.environ["CONTACTS_FUZZ_API"], os.environ["CONTACTS_FUZZ_TOKEN"]
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
