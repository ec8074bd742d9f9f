//! Phone validation benchmark: the phones of the generated contacts CSV
//! (`BENCH_IMPORT_CSV`), each with its row's country, read as the import
//! reads them (`PhoneNumber::parse_loose`: parse, validate, E.164) on one
//! core and on two, next to the `phonenumber` crate the product used
//! before, in the same run; with how often the two agree and the memory
//! the metadata takes. Writes `target/bench/phones.md`.

use std::hint::black_box;
use std::str::FromStr;
use std::sync::Barrier;
use std::time::Instant;

use anyhow::Context;
use contacts::model::{Country, PhoneNumber};

mod support;
use support::current_rss_mb;

/// Rounds over the phones, the best one kept.
const ROUNDS: usize = 3;

/// The file's phones with their countries.
fn phones(csv: &str) -> anyhow::Result<Vec<(String, Option<Country>)>> {
    let text = std::fs::read_to_string(csv).with_context(|| csv.to_owned())?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().context("a header")?.split(',').collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .context(name.to_owned())
    };
    let (phone, country) = (at("Phone Number")?, at("Country")?);
    Ok(lines
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let raw = cells.get(phone)?.trim();
            (!raw.is_empty()).then(|| {
                (
                    raw.to_owned(),
                    cells.get(country).and_then(|c| Country::parse(c).ok()),
                )
            })
        })
        .collect())
}

/// What the `phonenumber` crate made of a phone: the E.164 form if valid.
fn before(raw: &str, country: Option<&Country>) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let region = country.and_then(|c| phonenumber::country::Id::from_str(c.as_ref()).ok());
    let region = if compact.starts_with('+') {
        None
    } else {
        region
    };
    phonenumber::parse(region, &compact)
        .ok()
        .filter(phonenumber::is_valid)
        .map(|n| format!("+{}{}", n.country().code(), n.national()))
}

fn now(raw: &str, country: Option<&Country>) -> Option<String> {
    PhoneNumber::parse_loose(raw, country)
        .ok()
        .map(|p| p.as_ref().to_owned())
}

/// Whether the `phonenumber` crate takes the phone (its E.164 form made).
fn before_valid(raw: &str, country: Option<&Country>) -> bool {
    before(raw, country).is_some()
}

/// Whether the product takes the phone (its E.164 form made).
fn now_valid(raw: &str, country: Option<&Country>) -> bool {
    PhoneNumber::parse_loose(raw, country).is_ok()
}

/// How many of `phones` `check` takes.
fn taken(phones: &[(String, Option<Country>)], check: fn(&str, Option<&Country>) -> bool) -> usize {
    phones
        .iter()
        .filter(|(raw, country)| check(raw, country.as_ref()))
        .count()
}

/// Numbers per second of `check` over `phones` on `threads` threads, the
/// best of [`ROUNDS`]. The threads live through every round, as a
/// server's do, and each first reads its part once untimed (where a thread
/// loads its copy of the metadata and compiles the patterns it meets).
fn rate(
    phones: &[(String, Option<Country>)],
    threads: usize,
    check: fn(&str, Option<&Country>) -> bool,
) -> f64 {
    let parts: Vec<_> = phones.chunks(phones.len().div_ceil(threads)).collect();
    let (start, end) = (Barrier::new(parts.len() + 1), Barrier::new(parts.len() + 1));
    std::thread::scope(|scope| {
        for part in &parts {
            let (start, end) = (&start, &end);
            scope.spawn(move || {
                black_box(taken(part, check));
                for _ in 0..ROUNDS {
                    start.wait();
                    black_box(taken(part, check));
                    end.wait();
                }
            });
        }
        (0..ROUNDS)
            .map(|_| {
                start.wait();
                let started = Instant::now();
                end.wait();
                phones.len() as f64 / started.elapsed().as_secs_f64()
            })
            .fold(0.0, f64::max)
    })
}

fn main() -> anyhow::Result<()> {
    let csv = std::env::var("BENCH_IMPORT_CSV").context("BENCH_IMPORT_CSV names the file")?;
    let phones = phones(&csv)?;
    // On a thread that ends before the timed ones start: a thread keeps
    // its copy of the library while it lives, and only two may hold one.
    let (metadata_mb, agree) = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let rss_before = current_rss_mb();
                // The first number loads each crate's metadata.
                now("+4930901820", None);
                let metadata_mb = current_rss_mb() - rss_before;
                before("+4930901820", None);
                let agree = phones
                    .iter()
                    .filter(|(raw, country)| {
                        before(raw, country.as_ref()) == now(raw, country.as_ref())
                    })
                    .count();
                (metadata_mb, agree)
            })
            .join()
    })
    .map_err(|_| anyhow::anyhow!("the agreement check panicked"))?;
    let old_one = rate(&phones, 1, before_valid);
    let new_one = rate(&phones, 1, now_valid);
    let new_two = rate(&phones, 2, now_valid);
    let report = format!(
        "# Phone validation\n\n\
         {n} phones of `{csv}`, each read with its row's country (parse, validate, E.164), \
         best of {ROUNDS} rounds on threads that have read their part once, same run.\n\n\
         | validation | numbers/s | vs. `phonenumber` |\n|---|---:|---:|\n\
         | `phonenumber` 0.3, one core | {old_one:.0} | 1.0× |\n\
         | `rlibphonenumber` 2.2.15, patched (the product's), one core | {new_one:.0} | {r1:.1}× |\n\
         | the same, two threads | {new_two:.0} | {r2:.1}× (two threads vs. one: {t:.2}×) |\n\n\
         The two agree on {agree} of {n} numbers. Resident memory taken by a thread's copy of \
         `rlibphonenumber`'s metadata: {metadata_mb:.1} MB.\n",
        n = phones.len(),
        r1 = new_one / old_one,
        r2 = new_two / old_one,
        t = new_two / new_one,
    );
    std::fs::create_dir_all("../target/bench")?;
    std::fs::write("../target/bench/phones.md", &report)?;
    print!("{report}");
    Ok(())
}
