"""An integrator's program, through the Python client openapi-python-client
generated from the served document: a custom attribute, a contact, a filtered
listing, an import (settings, upload to its link, polled to the end) and an
export (polled, downloaded). Usage: program.py <API base URL> <bearer token>."""

import sys
import time
import uuid

import httpx

from contacts_api_client import AuthenticatedClient
from contacts_api_client.api.attributes import create_attribute
from contacts_api_client.api.contacts import create_contact
from contacts_api_client.api.exports import create_export, get_export
from contacts_api_client.api.imports import create_import, get_import
from contacts_api_client.api.listing import list_contacts
from contacts_api_client.models import (
    AttributeBody,
    ContactBody,
    ContactPage,
    CreateAttributeRequest,
    CreateAttributeRequestTypeType1,
    CreateContactRequest,
    CreateContactRequestAttributes,
    CreatedExport,
    CreatedImport,
    ExportBody,
    ExportRequest,
    ExportRequestFilter,
    ImportBody,
    ImportSettings,
    MatchBy,
    UpdateExisting,
)


def expect(value, kind):
    """The typed body the client parsed, or the problem it got instead."""
    if not isinstance(value, kind):
        sys.exit(f"expected {kind.__name__}, got {value!r}")
    return value


def until(fetch, done, what):
    for _ in range(300):
        value = fetch()
        if done(value):
            return value
        time.sleep(0.1)
    sys.exit(f"{what} did not finish")


def main(base_url, token):
    # The workspace may hold other data: this run's names are its own.
    run = uuid.uuid4().hex[:8]
    tier, ann_email = f"tier_{run}", f"ann-{run}@example.com"
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    expect(
        create_attribute.sync(
            client=client,
            body=CreateAttributeRequest(name=tier, label=f"Tier {run}", type_=CreateAttributeRequestTypeType1.TEXT),
        ),
        AttributeBody,
    )
    attributes = CreateContactRequestAttributes.from_dict({tier: "Gold"})
    ann = expect(
        create_contact.sync(
            client=client,
            body=CreateContactRequest(
                external_id=f"py-{run}-1", first_name="Ann", email=ann_email, country="DE", attributes=attributes
            ),
        ),
        ContactBody,
    )
    page = expect(list_contacts.sync(client=client, country="DE", emaileq=ann_email), ContactPage)
    assert [c.messaging_id for c in page.items] == [ann.messaging_id], page
    assert page.items[0].attributes.additional_properties[tier] == "Gold", page.items[0]

    csv = (
        f"External ID,First Name,Email,{tier}\n"
        f"py-{run}-1,Anne,{ann_email},Platinum\n"
        f"py-{run}-2,Bo,bo-{run}@example.com,Silver\n"
    ).encode()
    settings = ImportSettings(update_existing=UpdateExisting(match_by=MatchBy.EXTERNAL_ID))
    created = expect(
        create_import.sync(client=client, body=settings, file_name="people.csv", file_size=len(csv)), CreatedImport
    )
    httpx.put(created.upload_url, content=csv, headers={"content-type": created.upload_content_type}).raise_for_status()
    done = until(
        lambda: expect(get_import.sync(created.import_id, client=client), ImportBody),
        lambda body: body.status.value in ("completed", "failed"),
        "the import",
    )
    assert done.status.value == "completed", done
    assert (done.counts.created, done.counts.updated, done.counts.rejected) == (1, 1, 0), done.counts

    started = expect(
        create_export.sync(client=client, body=ExportRequest(filter_=ExportRequestFilter.from_dict({f"attr.{tier}": "Silver"}))),
        CreatedExport,
    )
    finished = until(
        lambda: expect(get_export.sync(started.export_id, client=client), ExportBody),
        lambda body: body.status.value in ("completed", "failed"),
        "the export",
    )
    assert finished.status.value == "completed", finished
    file = httpx.get(finished.download_url)
    file.raise_for_status()
    lines = file.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and '"Bo"' in lines[1], lines
    print("the generated Python client created, listed, imported and exported")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
