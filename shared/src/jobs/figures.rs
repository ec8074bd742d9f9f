//! The figures of an import or export run: rows, what they did, speed and
//! duration — in the log line that ends a run, and, on AWS, as CloudWatch
//! metrics in the embedded metric format (one JSON line on standard output
//! that CloudWatch Logs turns into metrics: no API call). The workspace and
//! the job's ID are properties of that line, never dimensions (one metric
//! per workspace would cost per workspace); no contact's data is in it.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::export::ExportJob;
use crate::import::ImportJob;

/// The namespace of the metrics.
pub const NAMESPACE: &str = "Contacts";

/// What one run of an import or export did, as figures.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFigures {
    /// `Import` or `Export` (the one dimension).
    pub kind: &'static str,
    pub id: String,
    pub workspace: String,
    /// The job's status after the run, e.g. `completed`.
    pub status: String,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub rejected: u64,
    /// From the job's start to the end of this run.
    pub seconds: f64,
}

impl RunFigures {
    /// The figures of an import as it stands after a run.
    pub fn of_import(job: &ImportJob, now: DateTime<Utc>) -> Self {
        Self {
            kind: "Import",
            id: job.id.to_string(),
            workspace: job.workspace.clone(),
            status: status_name(&job.status),
            rows: job.counts.rows,
            created: job.counts.created,
            updated: job.counts.updated,
            rejected: job.counts.rejected,
            seconds: seconds(job.started_at, job.finished_at, now),
        }
    }

    /// The figures of an export as it stands after a run.
    pub fn of_export(job: &ExportJob, now: DateTime<Utc>) -> Self {
        Self {
            kind: "Export",
            id: job.id.to_string(),
            workspace: job.workspace.clone(),
            status: status_name(&job.status),
            rows: job.rows,
            created: 0,
            updated: 0,
            rejected: 0,
            seconds: seconds(job.started_at, job.finished_at, now),
        }
    }

    /// Rows per second of the whole job so far (0 before any time passed).
    pub fn rows_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.rows as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The run's line in the embedded metric format, at time `at`.
    pub fn emf(&self, at: DateTime<Utc>) -> Value {
        let metrics = [
            ("Rows", "Count", json!(self.rows)),
            ("Created", "Count", json!(self.created)),
            ("Updated", "Count", json!(self.updated)),
            ("Rejected", "Count", json!(self.rejected)),
            (
                "RowsPerSecond",
                "Count/Second",
                json!(self.rows_per_second()),
            ),
            ("Duration", "Seconds", json!(self.seconds)),
        ];
        let mut line = Map::new();
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Kind"]],
                    "Metrics": metrics
                        .iter()
                        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
                        .collect::<Vec<_>>(),
                }],
            }),
        );
        line.insert("Kind".into(), json!(self.kind));
        for (name, _, value) in metrics {
            line.insert(name.into(), value);
        }
        line.insert("workspace".into(), json!(self.workspace));
        line.insert("job_id".into(), json!(self.id));
        line.insert("status".into(), json!(self.status));
        Value::Object(line)
    }

    /// Writes the metric line on standard output (where Lambda sends it to
    /// CloudWatch Logs).
    pub fn publish(&self) {
        println!("{}", self.emf(crate::model::now()));
    }

    /// Logs the figures: the line that ends a run.
    pub fn log(&self) {
        tracing::info!(
            kind = self.kind,
            job = %self.id,
            workspace = %self.workspace,
            status = %self.status,
            rows = self.rows,
            created = self.created,
            updated = self.updated,
            rejected = self.rejected,
            rows_per_second = self.rows_per_second(),
            seconds = self.seconds,
            "run ended"
        );
    }
}

fn status_name<S: serde::Serialize>(status: &S) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn seconds(
    started: Option<DateTime<Utc>>,
    finished: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> f64 {
    started.map_or(0.0, |started| {
        (finished.unwrap_or(now) - started)
            .num_milliseconds()
            .max(0) as f64
            / 1000.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures() -> RunFigures {
        RunFigures {
            kind: "Import",
            id: "01JDQ5C3A1X8LY9N6P4Q7S0IMP".into(),
            workspace: "acme".into(),
            status: "completed".into(),
            rows: 1_000,
            created: 900,
            updated: 50,
            rejected: 50,
            seconds: 4.0,
        }
    }

    /// The embedded metric format's rules: an `_aws` object with a
    /// millisecond `Timestamp` and `CloudWatchMetrics`, each with a
    /// `Namespace`, `Dimensions` (arrays of at most 30 names, each a
    /// top-level string member) and `Metrics` (at most 100, each with a
    /// `Name` whose top-level member is a number, and a valid `Unit`).
    #[test]
    fn the_metric_line_follows_the_embedded_metric_format() {
        let line = figures().emf(DateTime::from_timestamp_millis(1_795_680_000_000).unwrap());
        let root = line.as_object().expect("an object");
        let aws = root["_aws"].as_object().expect("_aws");
        assert_eq!(aws["Timestamp"].as_i64(), Some(1_795_680_000_000));
        let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
        assert!(!directives.is_empty());
        const UNITS: [&str; 6] = [
            "Count",
            "Count/Second",
            "Seconds",
            "Milliseconds",
            "Bytes",
            "None",
        ];
        for directive in directives {
            let namespace = directive["Namespace"].as_str().expect("namespace");
            assert!(!namespace.is_empty() && namespace.len() <= 255);
            for set in directive["Dimensions"].as_array().expect("dimensions") {
                let names = set.as_array().expect("a dimension set");
                assert!(names.len() <= 30);
                for name in names {
                    let name = name.as_str().expect("a dimension name");
                    assert!(
                        root[name].is_string(),
                        "dimension {name} is a string member"
                    );
                    assert_ne!(name, "workspace", "the workspace is not a dimension");
                }
            }
            let metrics = directive["Metrics"].as_array().expect("metrics");
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for metric in metrics {
                let name = metric["Name"].as_str().expect("a metric name");
                assert!(root[name].is_number(), "metric {name} has a number");
                let unit = metric["Unit"].as_str().expect("a unit");
                assert!(UNITS.contains(&unit), "{unit}");
            }
        }
        assert_eq!(root["RowsPerSecond"], 250.0);
        assert_eq!(root["workspace"], "acme");
        assert_eq!(root["job_id"], "01JDQ5C3A1X8LY9N6P4Q7S0IMP");
    }

    #[test]
    fn no_time_is_no_speed() {
        let still = RunFigures {
            seconds: 0.0,
            ..figures()
        };
        assert_eq!(still.rows_per_second(), 0.0);
    }
}
