"""Formats of the served OpenAPI document that schemathesis can't draw from
their pattern alone: `iana-timezone` is one of the names the document lists
in `x-timezones` (loaded from CONTACTS_OPENAPI_DOCUMENT, the document as
served). Loaded by scripts/test through SCHEMATHESIS_HOOKS."""

import json
import os

import schemathesis
from hypothesis import strategies as st


def documented_timezones():
    with open(os.environ["CONTACTS_OPENAPI_DOCUMENT"], encoding="utf-8") as file:
        schemas = json.load(file)["components"]["schemas"]
    return schemas["CreateContactRequest"]["properties"]["timezone"]["x-timezones"]


schemathesis.openapi.format("iana-timezone", st.sampled_from(documented_timezones()))
