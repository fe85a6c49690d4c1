//! Process groups on Linux: who is in a group, their memory, and stopping them.

use std::time::{Duration, Instant};

/// The pids whose process group is `pgid`, read from /proc.
pub fn group_members(pgid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| stat_fields(pid).is_some_and(|fields| fields.pgrp == pgid && !fields.zombie))
        .collect()
}

struct StatFields {
    pgrp: i32,
    start_ticks: u64,
    zombie: bool,
}

fn stat_fields(pid: i32) -> Option<StatFields> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    Some(StatFields {
        zombie: fields.first()? == &"Z",
        pgrp: fields.get(2)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

/// Start time of `pid` in clock ticks since boot, to tell it apart from a reused pid.
pub fn start_ticks(pid: i32) -> Option<u64> {
    stat_fields(pid).map(|fields| fields.start_ticks)
}

/// Resident memory of the whole group in MB.
pub fn group_rss_mb(pgid: i32) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as f64;
    group_members(pgid)
        .into_iter()
        .filter_map(|pid| {
            let text = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
            text.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map(|pages| pages * page / (1024.0 * 1024.0))
        .sum()
}

/// Sends `signal` to the group; false when the group no longer exists.
pub fn signal_group(pgid: i32, signal: i32) -> bool {
    // SAFETY: killpg only sends a signal; a stale pgid yields ESRCH, never undefined behaviour.
    unsafe { libc::killpg(pgid, signal) == 0 }
}

/// TERM, then KILL after `grace` if anyone is left; waits until the group is empty.
pub fn stop_group(pgid: i32, grace: Duration) {
    if !signal_group(pgid, libc::SIGTERM) {
        return;
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if group_members(pgid).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_group(pgid, libc::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !group_members(pgid).is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True when a process with this pid exists (and, given a start time, is the same process).
pub fn alive(pid: i32, start: Option<u64>) -> bool {
    match stat_fields(pid) {
        Some(fields) if !fields.zombie => start.is_none_or(|start| start == fields.start_ticks),
        _ => false,
    }
}
