//! Phone validation against Google's libphonenumber: `tests/phones/oracle.py`
//! writes cases with what the library makes of them (example numbers of
//! every type of every region in their written forms, mutations of them,
//! runs of mobiles like the benchmark file's, random digits), and the
//! product must read every one the same way (`CONTACTS_TEST_PHONE_ORACLE`,
//! made by `scripts/test`).

use std::collections::BTreeMap;

use contacts::model::{Country, PhoneNumber};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    raw: String,
    country: Option<String>,
    e164: Option<String>,
    kind: String,
}

#[test]
fn phones_read_as_libphonenumber_reads_them() {
    let path = std::env::var("CONTACTS_TEST_PHONE_ORACLE").unwrap_or_else(|_| {
        panic!("CONTACTS_TEST_PHONE_ORACLE names the oracle's cases (scripts/test makes them)")
    });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Per kind of case: agreed, differed, and regions that are no country.
    let mut table: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut differences = Vec::new();
    for line in text.lines() {
        let case: Case = serde_json::from_str(line).expect("a case");
        let row = table.entry(case.kind.clone()).or_default();
        let country = match case.country.as_deref().map(Country::parse) {
            // A region of the library that is no ISO 3166-1 country (AC, TA, XK).
            Some(Err(_)) => {
                row.2 += 1;
                continue;
            }
            Some(Ok(country)) => Some(country),
            None => None,
        };
        let ours = PhoneNumber::parse_loose(&case.raw, country.as_ref())
            .ok()
            .map(|p| p.as_ref().to_owned());
        if ours == case.e164 {
            row.0 += 1;
        } else {
            row.1 += 1;
            differences.push(format!(
                "{:?} in {:?} ({}): libphonenumber {:?}, ours {:?}",
                case.raw, case.country, case.kind, case.e164, ours
            ));
        }
    }
    for (kind, (agreed, differed, no_country)) in &table {
        println!("{kind}: {agreed} agree, {differed} differ, {no_country} not a country");
    }
    assert!(
        table.values().map(|r| r.0).sum::<usize>() > 10_000,
        "enough cases"
    );
    assert!(
        differences.is_empty(),
        "{} differences, the first: {:#?}",
        differences.len(),
        &differences[..differences.len().min(20)]
    );
}
