//! The object-store contract: one suite, run against every adapter.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::store::objects::{MIN_PART, ObjectKey, ObjectReader, ObjectStore};

/// Declares one `#[tokio::test]` per object-store check, each on a fresh
/// store from `$open` (an async fn whose result derefs to an [`ObjectStore`]).
#[macro_export]
macro_rules! object_store_contract_tests {
    ($open:path) => {
        $crate::object_store_contract_tests!(@each $open;
            put_then_get_round_trips,
            keys_with_spaces_and_unicode_work,
            a_large_body_streams_through_in_parts,
            missing_and_deleted_objects_are_none,
            presigned_links_upload_and_download,
            a_tampered_or_expired_link_is_refused,
            an_upload_link_takes_only_its_length,
            reads_resume_from_an_offset_of_one_version,
            parts_become_the_object_once_finished,
            a_download_link_names_its_file
        );
    };
    (@each $open:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store = $open().await;
                $crate::store::object_contract::$check(&*store).await;
            }
        )*
    };
}

fn key(raw: &str) -> ObjectKey {
    ObjectKey::parse(raw).expect("test key")
}

fn body(bytes: &[u8]) -> ObjectReader {
    Box::pin(std::io::Cursor::new(bytes.to_vec()))
}

async fn read_all(mut reader: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.expect("read");
    out
}

/// A reader of `len` bytes of a repeating pattern, generated as it is read.
struct Pattern {
    left: usize,
    at: u8,
}

impl AsyncRead for Pattern {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = buf.remaining().min(self.left).min(64 * 1024);
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                self.at = self.at.wrapping_mul(31).wrapping_add(7);
                self.at
            })
            .collect();
        buf.put_slice(&bytes);
        self.left -= n;
        std::task::Poll::Ready(Ok(()))
    }
}

/// What is put is read back byte for byte.
pub async fn put_then_get_round_trips(store: &dyn ObjectStore) {
    let k = key("exports/w1/contacts.csv");
    store
        .put(
            &k,
            body(b"external_id,email\nx,a@example.com\n"),
            "text/csv",
        )
        .await
        .expect("put");
    let got = store.get(&k).await.expect("get").expect("object");
    assert_eq!(read_all(got).await, b"external_id,email\nx,a@example.com\n");
    store
        .put(&k, body(b"replaced"), "text/csv")
        .await
        .expect("put again");
    assert_eq!(
        read_all(store.get(&k).await.expect("get").expect("object")).await,
        b"replaced"
    );
}

/// Keys may hold spaces, `+` and non-ASCII letters.
pub async fn keys_with_spaces_and_unicode_work(store: &dyn ObjectStore) {
    let k = key("uploads/w1/My Contacts é+1.csv");
    store.put(&k, body(b"a"), "text/csv").await.expect("put");
    assert_eq!(
        read_all(store.get(&k).await.expect("get").expect("object")).await,
        b"a"
    );
    assert!(
        store
            .get(&key("uploads/w1/My Contacts e+1.csv"))
            .await
            .expect("get")
            .is_none()
    );
}

/// A body larger than one upload part goes through whole.
pub async fn a_large_body_streams_through_in_parts(store: &dyn ObjectStore) {
    let len = 20 * 1024 * 1024 + 123;
    let k = key("exports/w1/large.csv");
    store
        .put(&k, Box::pin(Pattern { left: len, at: 1 }), "text/csv")
        .await
        .expect("put");
    let got = read_all(store.get(&k).await.expect("get").expect("object")).await;
    let expected = read_all(Pattern { left: len, at: 1 }).await;
    assert_eq!(got.len(), len);
    assert!(got == expected, "the content differs");
}

/// Missing objects read as `None`; delete removes and is idempotent.
pub async fn missing_and_deleted_objects_are_none(store: &dyn ObjectStore) {
    let k = key("tmp/w1/gone.csv");
    assert!(store.get(&k).await.expect("get").is_none());
    store.put(&k, body(b"x"), "text/csv").await.expect("put");
    store.delete(&k).await.expect("delete");
    assert!(store.get(&k).await.expect("get").is_none());
    store.delete(&k).await.expect("deleting again is fine");
}

/// A presigned PUT uploads with plain HTTP; a presigned GET downloads it.
pub async fn presigned_links_upload_and_download(store: &dyn ObjectStore) {
    let k = key("uploads/w1/from browser.csv");
    let put = store
        .presign_put(&k, "text/csv", 14, Duration::from_secs(300))
        .await
        .expect("presign put");
    assert!(put.expires_at > chrono::Utc::now() + chrono::Duration::seconds(250));
    let http = reqwest::Client::new();
    let response = http
        .put(&put.url)
        .header("content-type", "text/csv")
        .body("external_id\nx\n")
        .send()
        .await
        .expect("upload");
    assert!(
        response.status().is_success(),
        "upload: {}",
        response.status()
    );
    let get = store
        .presign_get(&k, Duration::from_secs(300), None)
        .await
        .expect("presign get");
    let response = http.get(&get.url).send().await.expect("download");
    assert!(
        response.status().is_success(),
        "download: {}",
        response.status()
    );
    assert_eq!(response.text().await.expect("body"), "external_id\nx\n");
}

/// An upload link made for a length refuses a body one byte longer or
/// shorter (nothing is stored), and takes a body of that length.
pub async fn an_upload_link_takes_only_its_length(store: &dyn ObjectStore) {
    let k = key("imports/w1/sized.csv");
    let put = store
        .presign_put(&k, "text/csv", 10, Duration::from_secs(300))
        .await
        .expect("presign put");
    let http = reqwest::Client::new();
    let send = |body: &'static str| {
        http.put(&put.url)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    for wrong in ["email\na@b.\n", "email\na@\n"] {
        let response = send(wrong).await.expect("upload");
        assert!(
            response.status().is_client_error(),
            "{} bytes: {}",
            wrong.len(),
            response.status()
        );
        assert!(store.head(&k).await.expect("head").is_none(), "{wrong:?}");
    }
    let response = send("email\na@b\n").await.expect("upload");
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        store.head(&k).await.expect("head").map(|o| o.bytes),
        Some(10)
    );
}

/// A link with a changed signature, or past its expiry, does nothing.
pub async fn a_tampered_or_expired_link_is_refused(store: &dyn ObjectStore) {
    let k = key("exports/w1/secret.csv");
    store
        .put(&k, body(b"secret"), "text/csv")
        .await
        .expect("put");
    let http = reqwest::Client::new();
    let link = store
        .presign_get(&k, Duration::from_secs(300), None)
        .await
        .expect("presign");
    let tampered = link.url.replace("secret.csv", "secret.csv.bak");
    let response = http.get(&tampered).send().await.expect("request");
    assert!(
        response.status().is_client_error(),
        "tampered: {}",
        response.status()
    );
    let short = store
        .presign_get(&k, Duration::from_secs(1), None)
        .await
        .expect("presign");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = http.get(&short.url).send().await.expect("request");
    assert!(
        response.status().is_client_error(),
        "expired: {}",
        response.status()
    );
}

/// `get_from` streams from a byte offset to the end, of the version asked
/// for only; `head` knows the length and the version, which a replacement
/// changes.
pub async fn reads_resume_from_an_offset_of_one_version(store: &dyn ObjectStore) {
    let k = key("imports/ws/resume.csv");
    assert_eq!(store.head(&k).await.expect("head"), None);
    assert!(
        store
            .get_from(&k, 3, None)
            .await
            .expect("get_from")
            .is_none()
    );
    store
        .put(&k, body(b"header\nrow 1\nrow 2\n"), "text/csv")
        .await
        .expect("put");
    let first = store.head(&k).await.expect("head").expect("found");
    assert_eq!(first.bytes, 19);
    let rest = store
        .get_from(&k, 7, Some(&first.version))
        .await
        .expect("get_from")
        .expect("found");
    assert_eq!(read_all(rest).await, b"row 1\nrow 2\n");
    let all = store
        .get_from(&k, 0, None)
        .await
        .expect("get_from")
        .expect("found");
    assert_eq!(read_all(all).await.len(), 19);

    store
        .put(&k, body(b"header\nrow 3\n"), "text/csv")
        .await
        .expect("replace");
    let second = store.head(&k).await.expect("head").expect("found");
    assert_eq!(second.bytes, 13);
    assert_ne!(
        second.version, first.version,
        "a replacement is a new version"
    );
    assert!(
        store
            .get_from(&k, 7, Some(&first.version))
            .await
            .expect("get_from")
            .is_none(),
        "the replaced version is gone"
    );
    let rest = store
        .get_from(&k, 7, Some(&second.version))
        .await
        .expect("get_from")
        .expect("found");
    assert_eq!(read_all(rest).await, b"row 3\n");
}

/// Parts sent one by one (as a run that stops and resumes would) become
/// the object, in order, only when finished; an aborted upload leaves
/// nothing.
pub async fn parts_become_the_object_once_finished(store: &dyn ObjectStore) {
    let k = key("exports/ws/parts.csv");
    let mut upload = store.start_parts(&k, "text/csv").await.expect("start");
    let first = vec![b'a'; MIN_PART];
    store
        .put_part(&k, &mut upload, first.clone())
        .await
        .expect("first part");
    let resumed = upload.clone();
    let mut upload = resumed;
    store
        .put_part(&k, &mut upload, b"tail\r\n".to_vec())
        .await
        .expect("last part");
    assert_eq!(upload.parts.len(), 2);
    assert_eq!(
        store.head(&k).await.expect("head"),
        None,
        "not yet finished"
    );
    store.finish_parts(&k, &upload).await.expect("finish");
    let stored = read_all(store.get(&k).await.expect("get").expect("found")).await;
    assert_eq!(stored.len(), MIN_PART + 6);
    assert_eq!(&stored[..MIN_PART], &first[..]);
    assert_eq!(&stored[MIN_PART..], b"tail\r\n");

    let other = key("exports/ws/aborted.csv");
    let mut upload = store.start_parts(&other, "text/csv").await.expect("start");
    store
        .put_part(&other, &mut upload, b"only".to_vec())
        .await
        .expect("part");
    store.abort_parts(&other, &upload).await.expect("abort");
    assert_eq!(store.head(&other).await.expect("head"), None);
}

/// A download link can name the file it saves; the name is part of what
/// is signed.
pub async fn a_download_link_names_its_file(store: &dyn ObjectStore) {
    let k = key("exports/ws/01JEXPORT.csv");
    store
        .put(&k, body(b"Messaging ID\r\n"), "text/csv")
        .await
        .expect("put");
    let link = store
        .presign_get(
            &k,
            Duration::from_secs(300),
            Some("contacts-2026-11-24.csv"),
        )
        .await
        .expect("presign");
    let http = reqwest::Client::new();
    let response = http.get(&link.url).send().await.expect("download");
    assert!(response.status().is_success(), "{}", response.status());
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        disposition,
        "attachment; filename=\"contacts-2026-11-24.csv\""
    );
    let renamed = link.url.replace("2026-11-24", "2026-11-23");
    assert_ne!(renamed, link.url);
    let response = http.get(&renamed).send().await.expect("request");
    assert!(
        response.status().is_client_error(),
        "a renamed link: {}",
        response.status()
    );
}
