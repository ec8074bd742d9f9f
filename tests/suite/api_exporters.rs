//! Files as other tools export them (`tests/fixtures/exporters`, each a
//! header row and two data rows shaped like that tool's real output)
//! import with every setting omitted: names, emails, phones in E.164,
//! countries and time zones come out right, and the preview says for every
//! column what it maps to and why.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_imports::{import, snapshot};
use crate::support::{Server, send};

/// The bytes of a fixture.
pub(crate) fn exported(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/exporters/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One contact as expected: email, first and last name, phone, country,
/// time zone, External ID.
type Expected = [&'static str; 7];

/// Imports `file` into a fresh workspace with no settings and compares
/// every contact (by email) with `expected` (empty text for none); checks
/// that the preview maps exactly `mapped` (header → attribute).
async fn imports_as_exported(file: &str, mapped: &[(&str, &str)], expected: &[Expected]) {
    let server = Server::start().await;
    let bytes = exported(file);
    let (status, preview) = send(
        server
            .req(Method::POST, "/v1/imports/preview")
            .header("content-type", "text/csv")
            .body(bytes.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["importable"], true, "{file}: {preview}");
    let columns = preview["columns"].as_array().expect("columns");
    let proposed: Vec<(String, String)> = columns
        .iter()
        .filter(|c| c["attribute"].is_string())
        .map(|c| {
            (
                c["header"].as_str().unwrap_or_default().to_owned(),
                c["attribute"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let wanted: Vec<(String, String)> = mapped
        .iter()
        .map(|(h, a)| ((*h).to_owned(), (*a).to_owned()))
        .collect();
    assert_eq!(proposed, wanted, "{file}");
    for column in columns {
        let reason = column["reason"].as_str().unwrap_or_default();
        assert!(!reason.is_empty(), "{file}: {column} says no why");
    }

    let body = import(&server, json!({}), &bytes).await;
    assert_eq!(body["status"], "completed", "{file}: {body}");
    assert_eq!(
        (
            body["counts"]["created"].clone(),
            body["counts"]["rejected"].clone()
        ),
        (json!(expected.len()), json!(0)),
        "{file}: {body}"
    );
    let mut got: Vec<Value> = snapshot(&server).await;
    got.sort_by_key(|c| c["email"].as_str().unwrap_or_default().to_owned());
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let got: Vec<[String; 7]> = got
        .iter()
        .map(|c| {
            [
                text(&c["email"]),
                text(&c["first_name"]),
                text(&c["last_name"]),
                text(&c["phone"]),
                text(&c["country"]),
                text(&c["timezone"]),
                text(&c["external_id"]),
            ]
        })
        .collect();
    let expected: Vec<[String; 7]> = expected.iter().map(|row| row.map(str::to_owned)).collect();
    assert_eq!(got, expected, "{file}");
}

#[tokio::test]
async fn a_mailchimp_audience_export_imports_as_it_is() {
    imports_as_exported(
        "mailchimp.csv",
        &[
            ("Email Address", "email"),
            ("First Name", "first_name"),
            ("Last Name", "last_name"),
            ("Phone Number", "phone"),
            ("TIMEZONE", "timezone"),
            ("CC", "country"),
        ],
        &[
            [
                "juergen.mueller@example.com",
                "Jürgen",
                "Müller",
                "+4930901820",
                "DE",
                "Europe/Berlin",
                "",
            ],
            [
                "sofia.garcia@example.org",
                "Sofía",
                "García Núñez",
                "+34612345678",
                "ES",
                "Europe/Madrid",
                "",
            ],
        ],
    )
    .await;
}

#[tokio::test]
async fn a_google_contacts_export_imports_each_row_s_mobile() {
    imports_as_exported(
        "google_contacts.csv",
        &[
            ("First Name", "first_name"),
            ("Last Name", "last_name"),
            ("E-mail 1 - Value", "email"),
            ("Phone 1 - Value", "phone"),
            ("Address 1 - Country", "country"),
        ],
        &[
            [
                "oyvind.hansen@example.com",
                "Øyvind",
                "Hansen",
                "+4741234567",
                "NO",
                "",
                "",
            ],
            [
                "siobhan.kelly@example.org",
                "Siobhán",
                "Kelly",
                "+447400123456",
                "GB",
                "",
                "",
            ],
        ],
    )
    .await;
}

#[tokio::test]
async fn an_outlook_export_imports_the_mobile_phone() {
    imports_as_exported(
        "outlook.csv",
        &[
            ("First Name", "first_name"),
            ("Last Name", "last_name"),
            ("E-mail Address", "email"),
            ("Mobile Phone", "phone"),
            ("Home Country/Region", "country"),
        ],
        &[
            [
                "chloe.oconnor@example.org",
                "Chloë",
                "O'Connor",
                "+14152530000",
                "US",
                "",
                "",
            ],
            [
                "emilie.dubois@example.com",
                "Émilie",
                "Dubois",
                "+33612345678",
                "FR",
                "",
                "",
            ],
        ],
    )
    .await;
}

#[tokio::test]
async fn a_hubspot_export_imports_with_its_record_ids() {
    imports_as_exported(
        "hubspot.csv",
        &[
            ("Record ID", "external_id"),
            ("First Name", "first_name"),
            ("Last Name", "last_name"),
            ("Country/Region", "country"),
            ("Email", "email"),
            ("Mobile Phone Number", "phone"),
            ("Time Zone", "timezone"),
        ],
        &[
            [
                "ingrid.overgard@example.com",
                "Ingrid",
                "Øvergård",
                "+4741234567",
                "NO",
                "Europe/Oslo",
                "51234567801",
            ],
            [
                "minh.nguyen@example.org",
                "Minh",
                "Nguyễn",
                "+12127363100",
                "US",
                "America/Los_Angeles",
                "51234567802",
            ],
        ],
    )
    .await;
}

#[tokio::test]
async fn a_brevo_export_imports_its_sms_numbers() {
    imports_as_exported(
        "brevo.csv",
        &[
            ("EMAIL", "email"),
            ("LASTNAME", "last_name"),
            ("FIRSTNAME", "first_name"),
            ("SMS", "phone"),
            ("EXT_ID", "external_id"),
            ("CONTACT_TIMEZONE", "timezone"),
        ],
        &[
            [
                "helene.lefevre@example.com",
                "Hélène",
                "Lefèvre",
                "+33612345678",
                "",
                "Europe/Paris",
                "",
            ],
            [
                "ignacio.munoz@example.org",
                "Ignacio",
                "Muñoz Peña",
                "+34699123456",
                "",
                "Europe/Madrid",
                "",
            ],
        ],
    )
    .await;
}

#[tokio::test]
async fn a_hand_made_sheet_imports_full_names_country_names_and_national_mobiles() {
    imports_as_exported(
        "spreadsheet.csv",
        &[
            ("Name", "full_name"),
            ("E-mail", "email"),
            ("Mobile", "phone"),
            ("Country", "country"),
        ],
        &[
            [
                "j.mueller@example.com",
                "Jürgen",
                "Müller",
                "+4915123456789",
                "DE",
                "",
                "",
            ],
            [
                "siobhan.oneill@example.org",
                "Siobhán",
                "O'Neill",
                "+447400123456",
                "GB",
                "",
                "",
            ],
        ],
    )
    .await;
}

/// Text as Excel saves it on Windows: "CSV" in Windows-1252, "Unicode
/// text" in UTF-16 with tabs. Both import with their names intact, and the
/// preview and the import say what the file was.
#[tokio::test]
async fn windows_1252_and_utf16_files_import_their_names_intact() {
    let server = Server::start().await;
    let latin = b"Email,First Name,Last Name\nm@example.com,J\xfcrgen,M\xfcller\n\
        n@example.com,\xd1\xfa\xf1ez,Fran\xe7ois\n";
    let mut utf16: Vec<u8> = vec![0xFF, 0xFE];
    for unit in "Email\tFirst Name\tLast Name\r\no@example.com\tØyvind\tÅsmund\r\n".encode_utf16()
    {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    for (bytes, encoding) in [(latin.to_vec(), "windows-1252"), (utf16, "utf-16le")] {
        let (_, preview) = send(
            server
                .req(Method::POST, "/v1/imports/preview")
                .header("content-type", "text/csv")
                .body(bytes.clone()),
        )
        .await;
        assert_eq!(preview["encoding"], encoding, "{preview}");
        assert_eq!(preview["importable"], true, "{preview}");
        let body = import(&server, json!({}), &bytes).await;
        assert_eq!(body["status"], "completed", "{body}");
        assert_eq!(body["file"]["encoding"], encoding, "{body}");
    }
    let names: Vec<(String, String)> = snapshot(&server)
        .await
        .iter()
        .map(|c| {
            (
                c["first_name"].as_str().unwrap_or_default().to_owned(),
                c["last_name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("Jürgen", "Müller"),
        ("Ñúñez", "François"),
        ("Øyvind", "Åsmund"),
    ] {
        assert!(
            names.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{names:?}"
        );
    }
}

/// The example CSV holds every importable column and the workspace's custom
/// attributes, and imports as it is: three contacts, then, imported again,
/// three skipped as existing.
#[tokio::test]
async fn the_example_csv_imports_back_unchanged() {
    let server = Server::start().await;
    for (name, kind) in [
        ("tier", "text"),
        ("score", "number"),
        ("vip", "boolean"),
        ("since", "date"),
        ("seen_at", "datetime"),
    ] {
        let (status, body) = send(
            server
                .req(Method::POST, "/v1/attributes")
                .json(&json!({"name": name, "label": name, "type": kind})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let response = server
        .req(Method::GET, "/v1/imports/template")
        .send()
        .await
        .expect("template");
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("content-type").starts_with("text/csv"));
    assert!(header("content-disposition").contains("contacts-template.csv"));
    let template = response.bytes().await.expect("body").to_vec();
    let first_line = String::from_utf8_lossy(&template)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    for column in [
        "External ID",
        "First Name",
        "Last Name",
        "Phone Number",
        "Email",
        "Country",
        "Timezone",
        "SMS Consent",
        "tier",
        "seen_at",
    ] {
        assert!(
            first_line.contains(&format!("\"{column}\"")),
            "{first_line}"
        );
    }
    let body = import(&server, json!({}), &template).await;
    assert_eq!(
        (
            body["counts"]["created"].clone(),
            body["counts"]["rejected"].clone()
        ),
        (json!(3), json!(0)),
        "{body}"
    );
    let again = import(&server, json!({}), &template).await;
    assert_eq!(again["counts"]["skipped_existing"], 3, "{again}");
    let all = snapshot(&server).await;
    assert_eq!(all[0]["attributes"]["tier"], "Gold", "{all:?}");
    assert_eq!(all[1]["first_name"], "José");
    assert_eq!(all[2]["last_name"], "佐藤");
}

/// An export whose External ID `00123` a spreadsheet turned into `123`,
/// imported as an update: the row matches no contact, but its phone is the
/// contact's, so it is refused naming that contact and the likely cause —
/// in the dry run too — instead of creating a second person.
#[tokio::test]
async fn an_id_a_spreadsheet_changed_is_refused_as_a_collision_not_a_second_person() {
    let server = Server::start().await;
    server
        .create(json!({"external_id": "00123", "first_name": "Ann",
            "phone": "+12025550143", "email": "ann@example.com", "country": "US"}))
        .await;
    let (_, page) = server.list("phone[eq]=%2B12025550143").await;
    let ann = page["items"][0]["messaging_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let sheet = b"External ID,First Name,Phone Number,Country\n123,Annie,12025550143,US\n";
    let settings = json!({"update_existing": {"match_by": "external_id"}});
    let mut dry = settings.clone();
    dry["dry_run"] = json!(true);
    for settings in [dry, settings] {
        let body = import(&server, settings, sheet).await;
        assert_eq!(
            (
                body["counts"]["created"].clone(),
                body["counts"]["rejected"].clone()
            ),
            (json!(0), json!(1)),
            "{body}"
        );
        let errors = crate::api_imports::error_csv(&body).await;
        assert!(errors.contains(&ann), "{errors}");
        assert!(errors.contains("leading zeros"), "{errors}");
    }
    let all = snapshot(&server).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["first_name"], "Ann");
}
