//! The host names the local server answers for. A web page can make a
//! browser send requests to a loopback port through DNS rebinding (its own
//! name, re-pointed at 127.0.0.1); such a request still names the page's
//! host, so answering only for known names keeps local data local.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// Host names (without port) a request may name; compared ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    /// The loopback names, the address the server listens on (unless it is
    /// every interface), and the comma-separated `extra` names
    /// (`CONTACTS_ALLOWED_HOSTS`).
    pub fn new(addr: SocketAddr, extra: &str) -> Self {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        if !addr.ip().is_unspecified() {
            names.push(bracketed(addr.ip()));
        }
        names.extend(
            extra
                .split(',')
                .map(|name| name.trim().to_ascii_lowercase())
                .filter(|name| !name.is_empty()),
        );
        Self(Arc::new(names))
    }

    /// Whether a `Host` header's value names one of these hosts.
    pub fn allows(&self, host: &str) -> bool {
        let name = match host.rsplit_once(':') {
            // An IPv6 address without a port has colons inside its brackets.
            Some((name, port)) if !port.contains(']') => name,
            _ => host,
        };
        self.0
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(name))
    }
}

fn bracketed(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Refuses a request whose `Host` is not allowed (421, a problem document).
pub async fn only_allowed(
    State(allowed): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_owned();
    if allowed.allows(&host) {
        next.run(request).await
    } else {
        Error::UnknownHost(host).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_the_listening_address_and_extra_names_are_allowed() {
        let allowed = AllowedHosts::new("192.168.1.5:3000".parse().unwrap(), " Contacts.lan ,");
        for host in [
            "localhost:3000",
            "LOCALHOST",
            "127.0.0.1:8080",
            "[::1]:3000",
            "[::1]",
            "192.168.1.5:3000",
            "contacts.lan:3000",
        ] {
            assert!(allowed.allows(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "",
            "[::2]:3000",
        ] {
            assert!(!allowed.allows(host), "{host}");
        }
    }

    #[test]
    fn every_interface_is_not_a_name() {
        let allowed = AllowedHosts::new("0.0.0.0:3000".parse().unwrap(), "");
        assert!(!allowed.allows("0.0.0.0:3000"));
        assert!(allowed.allows("localhost:3000"));
    }
}
