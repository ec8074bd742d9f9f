//! Privacy requests: erasing a person and keeping them erased. An erasure
//! deletes the contact and records a suppression of its identifiers as
//! keyed hashes ([`suppression`]); creates then refuse them until the
//! suppression is lifted.

pub mod error_files;
pub mod service;
pub mod suppression;
