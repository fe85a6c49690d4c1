//! GPU memory of a run's process group, sampled from `nvidia-smi` on a background thread when
//! the machine has one. Without nvidia-smi the thread ends at once and the figure stays absent.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use super::process;

/// A sampler of the peak GPU memory (MB) used by the processes of one group.
pub struct GpuSampler {
    /// Dropped to stop the thread, which then wakes at once instead of finishing its sleep.
    stop: Option<mpsc::Sender<()>>,
    peak: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl GpuSampler {
    /// Starts sampling `pgid` every `interval` on a background thread, which ends at once
    /// when nvidia-smi is missing; the run is never held up by the probe.
    pub fn start(pgid: i32, interval: Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let peak = Arc::new(AtomicU64::new(0));
        let shared = Arc::clone(&peak);
        let thread = std::thread::spawn(move || loop {
            let Some(text) = query() else {
                return;
            };
            let members = process::group_members(pgid);
            shared.fetch_max(used_by(&text, &members), Ordering::Relaxed);
            if !matches!(
                stopped.recv_timeout(interval),
                Err(mpsc::RecvTimeoutError::Timeout)
            ) {
                return;
            }
        });
        Self {
            stop: Some(stop),
            peak,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the peak in MB, when any GPU memory was seen.
    pub fn finish(mut self) -> Option<f64> {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let peak = self.peak.load(Ordering::Relaxed);
        (peak > 0).then_some(peak as f64)
    }
}

impl Drop for GpuSampler {
    fn drop(&mut self) {
        // A run that ends early (an error) must not leave the sampler running.
        self.stop.take();
    }
}

/// `pid, used_memory` lines of the processes using a GPU, or None without nvidia-smi.
fn query() -> Option<String> {
    let output = Command::new("nvidia-smi")
        .args([
            "--query-compute-apps=pid,used_memory",
            "--format=csv,noheader,nounits",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// MB used by the listed pids, from nvidia-smi's `pid, used_memory` CSV.
fn used_by(text: &str, pids: &[i32]) -> u64 {
    text.lines()
        .filter_map(|line| {
            let (pid, used) = line.split_once(',')?;
            let pid: i32 = pid.trim().parse().ok()?;
            let used: u64 = used.trim().parse().ok()?;
            pids.contains(&pid).then_some(used)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_memory_of_the_group_only() {
        let text = "4242, 10240\n4243, 2048\n999, 70000\n[Not Supported]\n";
        assert_eq!(used_by(text, &[4242, 4243]), 12288);
        assert_eq!(used_by(text, &[1]), 0);
    }
}
