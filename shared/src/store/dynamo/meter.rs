//! Counts DynamoDB requests and the capacity they consume, for benchmarks.

use std::sync::Mutex;

use aws_sdk_dynamodb::types::ConsumedCapacity;

/// Requests made and capacity units consumed since the last [`CapacityMeter::take`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub requests: u64,
    pub read_units: f64,
    pub write_units: f64,
}

/// Which kind of units a request consumes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Units {
    Read,
    Write,
}

/// A shared tally of [`Usage`].
#[derive(Debug, Default)]
pub struct CapacityMeter(Mutex<Usage>);

impl CapacityMeter {
    /// Records one request and the units it consumed (read or write units).
    pub(super) fn record<'a>(
        &self,
        kind: Units,
        consumed: impl IntoIterator<Item = &'a ConsumedCapacity>,
    ) {
        if let Ok(mut usage) = self.0.lock() {
            usage.requests += 1;
            let units: f64 = consumed
                .into_iter()
                .filter_map(|c| c.capacity_units())
                .sum();
            match kind {
                Units::Read => usage.read_units += units,
                Units::Write => usage.write_units += units,
            }
        }
    }

    /// The tally so far, resetting it.
    pub fn take(&self) -> Usage {
        self.0
            .lock()
            .map(|mut u| std::mem::take(&mut *u))
            .unwrap_or_default()
    }
}
