//! The contacts domain of the All Contacts workspace: validated model types,
//! the store ports with their adapters, the services over them and the HTTP
//! routers that every function mounts.

pub mod app;
pub mod audit;
pub mod catalog;
pub mod console;
pub mod duplicate_scan;
pub mod error;
pub mod export;
pub mod http;
pub mod import;
pub mod jobs;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod local;
pub mod model;
pub mod privacy;
pub mod query;
pub mod search;
pub mod service;
pub mod store;

pub use app::{AppState, ExportPorts, ImportPorts, ScanPorts};
pub use error::{Error, FieldError, Result};
