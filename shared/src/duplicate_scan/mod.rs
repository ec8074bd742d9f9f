//! Scans for similar names: a background job per workspace that reads
//! every contact, groups those with similar names and something else in
//! common ([`crate::model::similar`]), and replaces the workspace's
//! `similar_name` duplicate keys with the groups found. One run reads the
//! workspace from the start; a run stopped before the end (a restart, a
//! function's deadline) leaves the keys of the last finished scan in place.

pub mod job;
pub mod queue;
pub mod runner;
pub mod service;

pub use job::{ScanId, ScanJob, ScanStatus};
