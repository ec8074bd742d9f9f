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

/// The CPU time this process has used so far (user and system, all
/// threads), in seconds: `/proc/self/stat`'s `utime` and `stime`, in
/// Linux's 100 ticks a second.
pub fn cpu_seconds() -> f64 {
    stat_cpu_seconds("/proc/self/stat")
}

/// The CPU time of the threads named `name`, read every 50 ms on a thread
/// of its own (a thread's time is gone once it ends): the most seen.
pub struct ThreadCpu {
    most: std::sync::Arc<std::sync::Mutex<f64>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ThreadCpu {
    pub fn watch(name: &'static str) -> Self {
        let most = std::sync::Arc::new(std::sync::Mutex::new(0.0_f64));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen, stopped) = (std::sync::Arc::clone(&most), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                let now = thread_cpu_seconds(name);
                if let Ok(mut most) = seen.lock() {
                    *most = most.max(now);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        Self { most, stop }
    }

    /// The most CPU time seen so far, in seconds; stops watching.
    pub fn seconds(self) -> f64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.most.lock().map_or(0.0, |most| *most)
    }
}

/// The CPU time the threads named `name` have used so far, in seconds.
fn thread_cpu_seconds(name: &str) -> f64 {
    std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|comm| comm.trim() == name)
        })
        .map(|task| stat_cpu_seconds(task.path().join("stat")))
        .sum()
}

/// `utime` and `stime` of a process's or thread's `stat` file, in seconds.
fn stat_cpu_seconds(path: impl AsRef<std::path::Path>) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|stat| {
            // The fields after the command's `(name)`, which may hold spaces.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks = |at: usize| fields.get(at)?.parse::<f64>().ok();
            Some((ticks(11)? + ticks(12)?) / 100.0)
        })
        .unwrap_or(0.0)
}

/// A client for the DynamoDB stand-in at `endpoint` (`./scripts/bench`
/// starts DynamoDB Local) and a new table in it, named after `prefix`.
#[cfg(feature = "aws")]
pub async fn dynamodb_table(endpoint: &str, prefix: &str) -> (aws_sdk_dynamodb::Client, String) {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .endpoint_url(endpoint)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let table = format!(
        "{prefix}-{}",
        contacts::model::MessagingId::generate()
            .as_ref()
            .to_lowercase()
    );
    contacts::store::dynamo::create_table(&client, &table)
        .await
        .expect("a table");
    (client, table)
}

/// `text` with its first letter in capitals (in any script): an email
/// that is the same ignoring case.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
