//! CSV import: a pipeline of pure stages over the ports. `csvfile` reads
//! records, `mapping` maps headers to attributes once per file, `row` turns a
//! record into typed values or errors (`reader` does so a batch ahead, on
//! a task of its own), `plan` decides a batch against the
//! contacts it names; `runner` owns checkpoints, progress and the `report`
//! (the error CSV). `preview` shows the mapping step of the upload wizard.

pub mod aliases;
pub mod csvfile;
pub mod job;
pub mod mapping;
pub mod plan;
pub mod preview;
pub mod queue;
pub mod reader;
pub mod report;
pub mod row;
pub mod runner;
pub mod service;
pub mod settings;
pub mod source;
pub mod template;

pub use job::{Counts, ImportId, ImportJob, ImportStatus};
pub use runner::{Budget, Runner};
pub use settings::ImportSettings;
