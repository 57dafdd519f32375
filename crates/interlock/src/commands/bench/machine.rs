//! What the figures were measured on, and how much CPU time they took, read from /proc
//! (Linux only; elsewhere the fields stay empty). CPU time per request is the figure that
//! survives a shared machine: throughput drops when another process takes a core, the
//! work each request costs does not.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    /// One-minute load average when the run started: above ~0.5 something else was busy.
    pub load_average_at_start: f64,
}

impl Machine {
    pub fn describe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            memory_gib: mem_kib / (1024.0 * 1024.0),
            load_average_at_start: load_average(),
        }
    }
}

/// The one-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The load generator's runtime names its threads this, so its CPU time can be told
/// apart from the server's when both run in this process.
pub const CLIENT_THREAD: &str = "bench-client";

/// CPU seconds (user + system) used so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTime {
    /// The whole process, including threads that have exited.
    pub process: f64,
    /// The load generator's threads only.
    pub client: f64,
}

impl CpuTime {
    pub fn now() -> CpuTime {
        let process = read_stat("/proc/self/stat").unwrap_or(0.0);
        let mut client = 0.0;
        if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
            for task in tasks.flatten() {
                let path = task.path();
                let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
                if comm.starts_with(CLIENT_THREAD) {
                    client += read_stat(&path.join("stat").to_string_lossy()).unwrap_or(0.0);
                }
            }
        }
        CpuTime { process, client }
    }

    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            process: self.process - earlier.process,
            client: self.client - earlier.client,
        }
    }
}

/// CPU seconds (user + system) the process `pid` has used so far.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    read_stat(&format!("/proc/{pid}/stat"))
}

/// CPU seconds the whole machine has spent busy so far (every process, the kernel and
/// interrupts; not idle or waiting for I/O): with a database server beside Interlock,
/// what an execution costs in all.
pub fn machine_busy_seconds() -> Option<f64> {
    const TICKS_PER_SECOND: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<f64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is counted in user).
    let busy: f64 = ticks.iter().take(8).sum::<f64>() - ticks.get(3)? - ticks.get(4)?;
    Some(busy / TICKS_PER_SECOND)
}

/// utime + stime of a `stat` file, in seconds. Linux reports them in USER_HZ ticks,
/// which is 100 on every architecture Interlock runs on.
fn read_stat(path: &str) -> Option<f64> {
    const TICKS_PER_SECOND: f64 = 100.0;
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_cpu_time_and_the_machine_has_a_cpu() {
        assert!(process_cpu_seconds(std::process::id()).is_some());
        assert!(machine_busy_seconds().is_some_and(|s| s > 0.0));
        // CPU time is counted in clock ticks; on a loaded machine a short spin may get
        // none, so spin (up to a deadline) until one is counted.
        let spin = std::time::Instant::now();
        while CpuTime::now().process <= 0.0 && spin.elapsed() < std::time::Duration::from_secs(10) {
        }
        assert!(CpuTime::now().process > 0.0);
        assert!(Machine::describe().cpus >= 1);
    }
}
