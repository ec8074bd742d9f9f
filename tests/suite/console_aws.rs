//! The console on AWS: signing in at an OpenID Connect issuer (a fake one
//! on loopback, signing with a key made for the test), and sessions checked
//! as the API's JWT authorizer checks bearer tokens.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{Request, StatusCode, header};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use contacts::AppState;
use contacts::console::{Console, Credentials};
use contacts::http::auth::BearerTokens;
use contacts::lambda::oidc::{KEY_REFRESH, Oidc, OidcConfig};
use contacts::store::embedded::EmbeddedStore;
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

const CLIENT: &str = "console-client";
const CONSOLE_URL: &str = "https://contacts.example.com";

/// A fake issuer: discovery, keys (which a test may change, remove or make
/// fail), an authorization endpoint that signs the user in at once, and a
/// token endpoint that checks PKCE and puts the sign-in's nonce in the ID
/// token (or, when told, another one).
struct Issuer {
    url: String,
    key: EncodingKey,
    /// The JWKS served; `None`: the endpoint fails.
    jwks: Arc<Mutex<Option<Value>>>,
    /// How many times the JWKS was fetched.
    fetches: Arc<AtomicUsize>,
    /// The nonce to put in ID tokens instead of the sign-in's.
    wrong_nonce: Arc<Mutex<Option<String>>>,
}

#[derive(Clone, Default)]
struct Codes(Arc<Mutex<HashMap<String, (String, String)>>>);

async fn issuer() -> Issuer {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("key");
    let public = pair.public_key().as_ref().to_vec();
    let pkcs8 = pair.to_pkcs8v1().expect("pkcs8");
    let key = EncodingKey::from_ec_der(pkcs8.as_ref());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let jwks = Arc::new(Mutex::new(Some(json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
    }]}))));
    let fetches = Arc::new(AtomicUsize::new(0));
    let wrong_nonce: Arc<Mutex<Option<String>>> = Arc::default();
    let discovery = json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "jwks_uri": format!("{url}/jwks"),
    });
    let signer = key.clone();
    let issuer_url = url.clone();
    let codes = Codes::default();
    let (served, counted, nonce_override) = (jwks.clone(), fetches.clone(), wrong_nonce.clone());
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(discovery) }),
        )
        .route(
            "/jwks",
            get(move || {
                let (served, counted) = (served.clone(), counted.clone());
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let jwks = served.lock().expect("jwks").clone();
                    jwks.map(Json).ok_or(StatusCode::SERVICE_UNAVAILABLE)
                }
            }),
        )
        .route(
            "/authorize",
            get(
                |State(codes): State<Codes>, Query(q): Query<HashMap<String, String>>| async move {
                    assert_eq!(q["client_id"], CLIENT);
                    assert_eq!(q["code_challenge_method"], "S256");
                    let code = format!("code-{}", q["state"]);
                    codes.0.lock().expect("codes").insert(
                        code.clone(),
                        (q["code_challenge"].clone(), q["nonce"].clone()),
                    );
                    Redirect::to(&format!(
                        "{}?code={code}&state={}",
                        q["redirect_uri"], q["state"]
                    ))
                },
            ),
        )
        .route(
            "/token",
            post(move |State(codes): State<Codes>, body: String| {
                let signer = signer.clone();
                let issuer_url = issuer_url.clone();
                let nonce_override = nonce_override.clone();
                async move {
                    let form: HashMap<String, String> =
                        serde_urlencoded::from_str(&body).map_err(|_| StatusCode::BAD_REQUEST)?;
                    let Some((challenge, nonce)) =
                        codes.0.lock().expect("codes").remove(&form["code"])
                    else {
                        return Err(StatusCode::BAD_REQUEST);
                    };
                    let proof =
                        URL_SAFE_NO_PAD.encode(Sha256::digest(form["code_verifier"].as_bytes()));
                    if challenge != proof {
                        return Err(StatusCode::BAD_REQUEST);
                    }
                    let nonce = nonce_override
                        .lock()
                        .expect("nonce")
                        .clone()
                        .unwrap_or(nonce);
                    let id_token = sign(&signer, &claims(&issuer_url, json!({"nonce": nonce})));
                    Ok(Json(json!({"id_token": id_token, "token_type": "Bearer"})))
                }
            }),
        )
        .with_state(codes);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Issuer {
        url,
        key,
        jwks,
        fetches,
        wrong_nonce,
    }
}

fn claims(issuer: &str, overrides: Value) -> Value {
    let mut claims = json!({
        "iss": issuer, "aud": CLIENT, "sub": "user-1",
        "exp": chrono::Utc::now().timestamp() + 3600,
        "workspace_id": "acme",
    });
    for (k, v) in overrides.as_object().expect("object") {
        if v.is_null() {
            claims.as_object_mut().expect("object").remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn sign(key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(&header, claims, key).expect("signed")
}

async fn oidc(issuer: &Issuer) -> Oidc {
    oidc_refreshing(issuer, KEY_REFRESH).await
}

/// The console's client at `issuer`, reading its keys again every
/// `key_refresh`.
async fn oidc_refreshing(issuer: &Issuer, key_refresh: Duration) -> Oidc {
    Oidc::discover(OidcConfig {
        issuer: issuer.url.clone(),
        client_id: CLIENT.into(),
        claim: "workspace_id".into(),
        console_url: Some(CONSOLE_URL.into()),
        key_refresh,
    })
    .await
    .expect("discovery")
}

#[tokio::test]
async fn sessions_are_checked_as_the_jwt_authorizer_checks_tokens() {
    let issuer = issuer().await;
    let oidc = oidc(&issuer).await;
    let good = sign(&issuer.key, &claims(&issuer.url, json!({})));
    assert_eq!(
        oidc.workspace(&good).await.map(|w| w.as_ref().to_owned()),
        Some("acme".into())
    );
    let refused = [
        (
            "another audience",
            sign(
                &issuer.key,
                &claims(&issuer.url, json!({"aud": "someone-else"})),
            ),
        ),
        (
            "another issuer",
            sign(&issuer.key, &claims("https://evil.example", json!({}))),
        ),
        (
            "expired",
            sign(
                &issuer.key,
                &claims(
                    &issuer.url,
                    json!({"exp": chrono::Utc::now().timestamp() - 120}),
                ),
            ),
        ),
        (
            "no workspace",
            sign(
                &issuer.key,
                &claims(&issuer.url, json!({"workspace_id": null})),
            ),
        ),
        (
            "a malformed workspace",
            sign(
                &issuer.key,
                &claims(&issuer.url, json!({"workspace_id": "no spaces allowed"})),
            ),
        ),
        ("signed by another key", {
            let other = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("key");
            sign(
                &EncodingKey::from_ec_der(other.to_pkcs8v1().expect("pkcs8").as_ref()),
                &claims(&issuer.url, json!({})),
            )
        }),
        ("tampered", {
            let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
            parts[1] = URL_SAFE_NO_PAD.encode(
                serde_json::to_vec(&claims(&issuer.url, json!({"workspace_id": "other"})))
                    .expect("json"),
            );
            parts.join(".")
        }),
        ("not a token", "dev-token".to_owned()),
    ];
    for (what, token) in refused {
        assert_eq!(oidc.workspace(&token).await, None, "{what}");
    }
}

async fn call(router: &Router, path: &str, cookie: Option<&str>) -> axum::response::Response {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    router
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

fn location(response: &axum::response::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .expect("location")
        .to_owned()
}

/// The `name=value` part of the cookie a response sets.
fn set_cookie(response: &axum::response::Response, name: &str) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

/// The console signing in at `issuer`, over an embedded store in the
/// folder it returns.
async fn console_at(issuer: &Issuer) -> (Router, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("dir");
    let store = EmbeddedStore::open(data.path()).expect("store");
    let tokens = BearerTokens::parse("unused=unused").expect("tokens");
    let state = AppState::over(store, Arc::new(tokens), None);
    let router = contacts::console::router(Console::new(state, Arc::new(oidc(issuer).await)));
    (router, data)
}

#[tokio::test]
async fn signing_in_at_the_issuer_opens_the_workspace_of_its_token() {
    let issuer = issuer().await;
    let (router, _data) = console_at(&issuer).await;

    let start = call(&router, "/", None).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&start), "/sign-in?next=%2F");
    let (callback, pending) = sign_in_at(&router, &issuer).await;
    let callback = callback.as_str();

    let forged = call(
        &router,
        &callback.replace("state=", "state=x"),
        Some(&pending),
    )
    .await;
    assert_eq!(
        forged.status(),
        StatusCode::BAD_REQUEST,
        "a state that isn't this browser's"
    );
    let without = call(&router, callback, None).await;
    assert_eq!(
        without.status(),
        StatusCode::BAD_REQUEST,
        "no sign-in under way"
    );

    let signed_in = call(&router, callback, Some(&pending)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let session = set_cookie(&signed_in, "contacts_session");
    let body = signed_in
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    assert!(String::from_utf8_lossy(&body).contains(r#"content="0;url=/""#));
    let page = call(&router, "/", Some(&session)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.into_body().collect().await.expect("body").to_bytes();
    let html = String::from_utf8_lossy(&body);
    assert!(
        html.contains("All Contacts") && html.contains(">acme<"),
        "{html}"
    );
    let replayed = call(&router, callback, Some(&pending)).await;
    assert_eq!(
        replayed.status(),
        StatusCode::BAD_REQUEST,
        "a code is used once"
    );
}

/// Signs in through the console at `issuer` up to the way back: the
/// callback path and the pending sign-in's cookie.
async fn sign_in_at(router: &Router, issuer: &Issuer) -> (String, String) {
    let sign_in = call(router, "/sign-in?next=%2F", None).await;
    assert_eq!(sign_in.status(), StatusCode::SEE_OTHER);
    let pending = set_cookie(&sign_in, "contacts_sign_in");
    let authorize = location(&sign_in);
    assert!(
        authorize.starts_with(&format!("{}/authorize?", issuer.url)),
        "{authorize}"
    );
    assert!(
        authorize.contains("redirect_uri=https%3A%2F%2Fcontacts.example.com%2Fsign-in%2Fcallback")
    );
    assert!(authorize.contains("&nonce="), "{authorize}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let back = client.get(&authorize).send().await.expect("authorize");
    let callback = back.headers()[header::LOCATION]
        .to_str()
        .expect("location")
        .strip_prefix(CONSOLE_URL)
        .expect("back to the console")
        .to_owned();
    (callback, pending)
}

#[tokio::test]
async fn an_id_token_issued_for_another_sign_in_is_refused() {
    let issuer = issuer().await;
    let (router, _data) = console_at(&issuer).await;

    for nonce in ["someone-elses-sign-in", ""] {
        *issuer.wrong_nonce.lock().expect("nonce") = Some(nonce.to_owned());
        let (callback, pending) = sign_in_at(&router, &issuer).await;
        let refused = call(&router, &callback, Some(&pending)).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{nonce:?}");
        assert!(
            refused.headers().get(header::SET_COOKIE).is_none_or(|c| !c
                .to_str()
                .is_ok_and(|c| c.starts_with("contacts_session=") && c.len() > 30)),
            "no session is opened"
        );
    }
    *issuer.wrong_nonce.lock().expect("nonce") = None;
    let (callback, pending) = sign_in_at(&router, &issuer).await;
    let signed_in = call(&router, &callback, Some(&pending)).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
}

#[tokio::test]
async fn only_allowed_algorithms_that_the_key_is_for_are_accepted() {
    let issuer = issuer().await;
    let oidc = oidc(&issuer).await;
    let claims = claims(&issuer.url, json!({}));
    let good = sign(&issuer.key, &claims);
    assert!(oidc.workspace(&good).await.is_some());

    // A token that says HS256 and is "signed" with the public key as the
    // shared secret (algorithm confusion), or says `none`.
    let public_key =
        issuer.jwks.lock().expect("jwks").clone().expect("jwks")["keys"][0].to_string();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("k1".into());
    let confused = jsonwebtoken::encode(
        &hs,
        &claims,
        &EncodingKey::from_secret(public_key.as_bytes()).expect("secret"),
    )
    .expect("signed");
    assert_eq!(oidc.workspace(&confused).await, None, "HS256");
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_eq!(oidc.workspace(&unsigned).await, None, "none");

    // The key's own `alg` and `use` are checked against the token's.
    for (field, value) in [("alg", "ES384"), ("use", "enc")] {
        let issuer = self::issuer().await;
        if let Some(jwks) = issuer.jwks.lock().expect("jwks").as_mut() {
            jwks["keys"][0][field] = json!(value);
        }
        let oidc = self::oidc(&issuer).await;
        let token = sign(&issuer.key, &self::claims(&issuer.url, json!({})));
        assert_eq!(oidc.workspace(&token).await, None, "key {field} {value}");
    }
}

/// Checks `token` 20 times at once; every check refuses it.
async fn assert_all_refused_at_once(oidc: &Arc<Oidc>, token: &str) {
    let checks: Vec<_> = (0..20)
        .map(|_| {
            let (oidc, token) = (Arc::clone(oidc), token.to_owned());
            tokio::spawn(async move { oidc.workspace(&token).await })
        })
        .collect();
    for check in checks {
        assert_eq!(check.await.expect("check"), None);
    }
}

#[tokio::test]
async fn failed_key_fetches_back_off_and_are_never_concurrent() {
    let issuer = issuer().await;
    let oidc = Arc::new(oidc(&issuer).await);
    assert_eq!(
        issuer.fetches.load(Ordering::SeqCst),
        1,
        "read once at start"
    );
    *issuer.jwks.lock().expect("jwks") = None;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("rotated".into());
    let unknown = jsonwebtoken::encode(&header, &claims(&issuer.url, json!({})), &issuer.key)
        .expect("signed");
    assert_all_refused_at_once(&oidc, &unknown).await;
    for _ in 0..20 {
        assert_eq!(oidc.workspace(&unknown).await, None);
    }
    assert_eq!(
        issuer.fetches.load(Ordering::SeqCst),
        1,
        "within a minute of the last read, an unknown key fetches nothing"
    );

    // Reading every time (no wait between reads): failures back off.
    let issuer = self::issuer().await;
    let oidc = Arc::new(oidc_refreshing(&issuer, Duration::ZERO).await);
    *issuer.jwks.lock().expect("jwks") = None;
    assert_all_refused_at_once(&oidc, &unknown).await;
    let token = sign(&issuer.key, &claims(&issuer.url, json!({})));
    for _ in 0..20 {
        assert!(
            oidc.workspace(&token).await.is_some(),
            "the keys read before keep working while the issuer is down"
        );
    }
    assert_eq!(
        issuer.fetches.load(Ordering::SeqCst),
        2,
        "one failed fetch, then a wait before the next"
    );
}

#[tokio::test]
async fn a_key_the_issuer_removed_stops_being_trusted_at_the_next_refresh() {
    let issuer = issuer().await;
    let oidc = oidc_refreshing(&issuer, Duration::ZERO).await;
    let token = sign(&issuer.key, &claims(&issuer.url, json!({})));
    assert!(oidc.workspace(&token).await.is_some());
    let served = issuer.jwks.lock().expect("jwks").clone();
    *issuer.jwks.lock().expect("jwks") = Some(json!({"keys": []}));
    assert_eq!(oidc.workspace(&token).await, None, "the key was removed");
    *issuer.jwks.lock().expect("jwks") = served;
    assert!(oidc.workspace(&token).await.is_some(), "and brought back");
}

/// Runs an API Gateway v2 event through the console's router as Lambda
/// would, and returns the response event.
async fn invoke(router: Router, event: &str) -> Value {
    let request: lambda_http::request::LambdaRequest =
        serde_json::from_str(event).expect("an API Gateway v2 event");
    let response = lambda_http::Adapter::from(router)
        .oneshot(lambda_runtime::LambdaEvent::new(
            request,
            lambda_runtime::Context::default(),
        ))
        .await
        .expect("handler");
    serde_json::to_value(response).expect("response JSON")
}

#[tokio::test]
async fn the_console_samples_run_through_its_function() {
    let issuer = issuer().await;
    let oidc = Oidc::discover(OidcConfig {
        issuer: issuer.url.clone(),
        client_id: CLIENT.into(),
        claim: "workspace_id".into(),
        console_url: None,
        key_refresh: KEY_REFRESH,
    })
    .await
    .expect("discovery");
    let data = tempfile::tempdir().expect("dir");
    let store = EmbeddedStore::open(data.path()).expect("store");
    let tokens = BearerTokens::parse("unused=unused").expect("tokens");
    let router = contacts::console::router(Console::new(
        AppState::over(store, Arc::new(tokens), None),
        Arc::new(oidc),
    ));

    let home = invoke(router.clone(), &crate::events::sample("console-home.json")).await;
    assert_eq!(home["statusCode"], 303, "{home}");
    assert_eq!(home["headers"]["location"], "/sign-in?next=%2F");

    let sign_in = invoke(router, &crate::events::sample("console-sign-in.json")).await;
    assert_eq!(sign_in["statusCode"], 303, "{sign_in}");
    let to = sign_in["headers"]["location"].as_str().expect("location");
    assert!(
        to.starts_with(&format!("{}/authorize?", issuer.url)),
        "{to}"
    );
    assert!(
        to.contains("redirect_uri=https%3A%2F%2Fcontacts.example.com%2Fsign-in%2Fcallback"),
        "back to the host the request named: {to}"
    );
    let cookies = sign_in["cookies"].to_string();
    assert!(
        cookies.contains("contacts_sign_in=") && cookies.contains("SameSite=Lax"),
        "{cookies}"
    );
}
