//! CSV export: the contacts matching a filter, streamed into the object
//! store in parts (constant memory, resumable from the last part), with a
//! download link. `request` checks what was asked against the workspace,
//! `cells` writes a contact as the CSV row that import reads back, `runner`
//! owns checkpoints, `queue` runs exports in the local server.

pub mod cells;
pub mod job;
pub mod queue;
pub mod request;
pub mod runner;
pub mod service;
pub mod workbook;

pub use job::{ExportId, ExportJob, ExportStatus};
pub use runner::ExportRunner;
