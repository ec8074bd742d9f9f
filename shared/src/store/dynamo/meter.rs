//! Counts DynamoDB requests and the capacity they consume, for benchmarks.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_sdk_dynamodb::types::ConsumedCapacity;

/// Requests made and capacity units consumed since the last [`CapacityMeter::take`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub requests: u64,
    pub read_units: f64,
    pub write_units: f64,
    /// Items the reads evaluated (a query's scanned count, a batch's items).
    pub items: u64,
}

/// Which kind of units a request consumes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Units {
    Read,
    Write,
}

/// A shared tally of [`Usage`], in total and per DynamoDB operation.
#[derive(Debug, Default)]
pub struct CapacityMeter(Mutex<BTreeMap<&'static str, Usage>>);

impl Usage {
    fn add(&mut self, other: Usage) {
        self.requests += other.requests;
        self.read_units += other.read_units;
        self.write_units += other.write_units;
        self.items += other.items;
    }
}

impl CapacityMeter {
    /// Records one request of `operation` and the units it consumed (read
    /// or write units).
    pub(super) fn record<'a>(
        &self,
        kind: Units,
        operation: &'static str,
        consumed: impl IntoIterator<Item = &'a ConsumedCapacity>,
    ) {
        let units: f64 = consumed
            .into_iter()
            .filter_map(|c| c.capacity_units())
            .sum();
        let (read_units, write_units) = match kind {
            Units::Read => (units, 0.0),
            Units::Write => (0.0, units),
        };
        if let Ok(mut tally) = self.0.lock() {
            tally.entry(operation).or_default().add(Usage {
                requests: 1,
                read_units,
                write_units,
                items: 0,
            });
        }
    }

    /// Records `items` evaluated by a read of `operation` (counted as a
    /// request by [`CapacityMeter::record`]).
    pub(super) fn record_items(&self, operation: &'static str, items: u64) {
        if let Ok(mut tally) = self.0.lock() {
            tally.entry(operation).or_default().items += items;
        }
    }

    /// The tally so far, resetting it.
    pub fn take(&self) -> Usage {
        self.take_by_operation()
            .into_values()
            .fold(Usage::default(), |mut total, usage| {
                total.add(usage);
                total
            })
    }

    /// The tally so far per operation (`TransactWriteItems`, `Query`, …),
    /// resetting it.
    pub fn take_by_operation(&self) -> BTreeMap<&'static str, Usage> {
        self.0
            .lock()
            .map(|mut tally| std::mem::take(&mut *tally))
            .unwrap_or_default()
    }
}
