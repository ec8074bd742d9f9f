//! What the benchmarks share (each bench is its own crate and uses some).
#![allow(dead_code)]

/// A line of `/proc/self/status` in MB (`VmHWM:`, `VmRSS:`).
fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The process's peak resident memory so far, in MB.
pub fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// The process's resident memory now, in MB.
pub fn current_rss_mb() -> f64 {
    status_mb("VmRSS:")
}
