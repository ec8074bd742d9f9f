//! What an outside review asked of the local server: no redirect to another
//! site after signing in, no sign-in planted from another site, a bounded
//! preview, the console's security headers, and no answer for a host the
//! server does not know.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Method, StatusCode};

use crate::support::{ALPHA, Server, expect_problem, send};

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// The `name=value` of the session cookie a response sets, if any.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("contacts_session=") && !v.starts_with("contacts_session=;"))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// Posts the sign-in form with `token` and `next` (already URL-encoded).
async fn sign_in(server: &Server, next: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = browser()
        .post(server.url("/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={ALPHA}&next={next}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("sign in")
}

#[tokio::test]
async fn signing_in_goes_only_to_a_path_of_this_console() {
    let server = Server::start().await;
    for next in [
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2F%0D%2Fevil.example",
        "%09%2F%2Fevil.example",
        "%2F%20%2Fevil.example",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%5C%2Fevil.example",
        "https%3A%2F%2Fevil.example",
        "evil.example",
        "%2F%E2%80%A8%2Fevil.example",
        "",
    ] {
        let response = sign_in(&server, next, &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(response.headers()[LOCATION], "/", "{next}");
    }
    let response = sign_in(&server, "%2Flists%3Fa%3D1", &[]).await;
    assert_eq!(response.headers()[LOCATION], "/lists?a=1");

    // The form carries only a safe destination, whatever the query said.
    for (query, kept) in [
        ("next=%2F%09%2Fevil.example", "value=\"/\""),
        ("next=%2F%2F%09evil.example", "value=\"/\""),
        ("next=%2Flists", "value=\"/lists\""),
    ] {
        let page = browser()
            .get(server.url(&format!("/sign-in?{query}")))
            .send()
            .await
            .expect("form")
            .text()
            .await
            .expect("page");
        assert!(page.contains(kept), "{query}: {page}");
        assert!(!page.contains("evil.example"), "{query}");
    }
}

#[tokio::test]
async fn a_sign_in_posted_from_another_site_is_refused() {
    let server = Server::start().await;
    let own = format!("http://{}", server.addr);
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site"), ("origin", own.as_str())],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let response = sign_in(&server, "%2F", &headers).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(session_cookie(response.headers()), None, "{headers:?}");
    }
    for headers in [
        vec![("origin", own.as_str())],
        vec![("sec-fetch-site", "same-origin"), ("origin", own.as_str())],
        vec![],
    ] {
        let response = sign_in(&server, "%2F", &headers).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{headers:?}");
        assert!(session_cookie(response.headers()).is_some(), "{headers:?}");
    }
}

#[tokio::test]
async fn every_console_page_carries_the_security_headers() {
    let server = Server::start().await;
    let cookie = session_cookie(sign_in(&server, "%2F", &[]).await.headers()).expect("session");
    let get = |path: &str| {
        browser()
            .get(server.url(path))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .send()
    };
    let mut responses = Vec::new();
    for path in [
        "/",
        "/?email=ann%40example.com",
        "/contacts/new",
        "/upload",
        "/lists",
        "/attributes",
        "/sign-in",
        "/no-such-page",
    ] {
        responses.push((path.to_owned(), get(path).await.expect("page")));
    }
    let expired = browser()
        .post(server.url("/lists"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Forged")
        .send()
        .await
        .expect("forged form");
    assert_eq!(expired.status(), StatusCode::FORBIDDEN);
    responses.push(("the expired form page".to_owned(), expired));
    let upload_origin = format!("http://{}", server.addr);
    for (what, response) in responses {
        let headers = response.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("{what}: no {name}"))
                .to_owned()
        };
        let policy = header("content-security-policy");
        for directive in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
        ] {
            assert!(policy.contains(directive), "{what}: {policy}");
        }
        let connect = policy
            .split(';')
            .find(|d| d.trim().starts_with("connect-src"))
            .unwrap_or_else(|| panic!("{what}: no connect-src in {policy}"));
        assert!(connect.contains(&upload_origin), "{what}: {connect}");
        assert_eq!(header("x-frame-options"), "DENY", "{what}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
        let page = response.text().await.expect("page");
        assert!(!page.contains("javascript:"), "{what}: {page}");
        assert!(
            !page.contains(" style="),
            "{what}: inline styles need 'unsafe-inline'"
        );
        assert!(
            !page.contains("<script>"),
            "{what}: inline scripts are blocked"
        );
    }
}

#[tokio::test]
async fn a_request_naming_another_host_is_refused() {
    let server = Server::start().await;
    let port = server.addr.port();
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "127.0.0.1.nip.io",
    ] {
        let body = expect_problem(
            server
                .req(Method::GET, "/v1/contacts")
                .header("host", host.to_owned()),
            StatusCode::MISDIRECTED_REQUEST,
        )
        .await;
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("CONTACTS_ALLOWED_HOSTS")),
            "{body}"
        );
        let page = browser()
            .get(server.url("/sign-in"))
            .header("host", host.to_owned())
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), StatusCode::MISDIRECTED_REQUEST, "{host}");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let (status, _) = send(
            server
                .req(Method::GET, "/v1/contacts")
                .header("host", host.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn a_preview_of_a_very_wide_file_is_refused_quickly() {
    let server = Server::start().await;
    let headers = |n: usize| {
        (0..n)
            .map(|i| format!("column {i}"))
            .collect::<Vec<_>>()
            .join(",")
            + "\n"
    };
    let preview = |body: String| {
        send(
            server
                .req(Method::POST, "/v1/imports/preview")
                .header("content-type", "text/csv")
                .body(body),
        )
    };
    let started = Instant::now();
    let (status, body) = preview(headers(60_000)).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["importable"], false);
    let problem = body["problem"].as_str().expect("problem");
    assert!(problem.contains("60000 columns"), "{problem}");
    assert!(problem.contains("at most 1000"), "{problem}");
    assert!(body["columns"].as_array().is_some_and(Vec::is_empty));
    // Comparing every header with every other took minutes here.
    assert!(took < Duration::from_secs(10), "{took:?}");

    let (status, body) = preview(headers(1_000) + &"x,".repeat(999) + "a@b.co\n").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["columns"].as_array().map(Vec::len), Some(1_000));
    assert_eq!(body["rows_read"], 1);
}

#[tokio::test]
async fn the_console_checks_an_upload_as_the_api_does() {
    let server = Server::start().await;
    let cookie = session_cookie(sign_in(&server, "%2F", &[]).await.headers()).expect("session");
    let page = browser()
        .get(server.url("/upload"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let csrf = page
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's CSRF token")
        .to_owned();
    let start = |body: serde_json::Value| {
        browser()
            .post(server.url("/upload/start"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    for (body, says) in [
        (
            serde_json::json!({"settings": {}, "file_name": "n".repeat(256), "file_size": 10}),
            "file name",
        ),
        (
            serde_json::json!({"settings": {}, "file_name": "a.csv", "file_size": 60_000_000}),
            "file size",
        ),
        (
            serde_json::json!({"settings": {}, "file_name": "a.csv"}),
            "file size",
        ),
    ] {
        let response = start(body.clone()).await.expect("start");
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let errors = response.text().await.expect("errors");
        assert!(errors.contains(says), "{body}: {errors}");
    }
    let started = start(serde_json::json!({"settings": {}, "file_name": "a.csv", "file_size": 10}))
        .await
        .expect("start");
    assert_eq!(started.status(), StatusCode::OK);
}
