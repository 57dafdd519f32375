//! `interlock serve` as a child process. The guard kills it when dropped, so a failing
//! test never leaves a server behind, and prints the end of its log when the test panics.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::cli::command;
use super::db::TestDb;

/// How long a start may take on a loaded machine before the test gives up.
const START_WITHIN: Duration = Duration::from_secs(30);

static STARTS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Lines the process printed on stdout, as they come.
    stdout: mpsc::Receiver<String>,
    /// Its stderr (the logs), in a file next to the database.
    pub log: PathBuf,
}

impl Server {
    /// Starts `interlock serve --database <db> ARGS…` with `envs` set, without waiting.
    pub fn spawn(db: &TestDb, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let n = STARTS.fetch_add(1, Ordering::SeqCst);
        let log = db.dir().join(format!("serve-{n}.log"));
        let log_file = std::fs::File::create(&log).expect("a log file");
        let mut child = command()
            .args(["serve", "--database", &db.url])
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("interlock serve starts");
        let out = child.stdout.take().expect("piped stdout");
        let (tx, stdout) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server { child, stdout, log }
    }

    /// Starts a server and waits until it says where it is serving; returns its base URL.
    pub fn start(db: &TestDb, args: &[&str], envs: &[(&str, &str)]) -> (Server, String) {
        let mut server = Server::spawn(db, args, envs);
        let url = server.wait_for_banner();
        (server, url)
    }

    /// Waits for `Interlock is serving on http://ADDR` and returns the URL.
    pub fn wait_for_banner(&mut self) -> String {
        let deadline = Instant::now() + START_WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("Interlock is serving on ") {
                        return url.trim().to_owned();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the server did not start within {START_WITHIN:?}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.wait_exit(Duration::from_secs(10));
                    panic!(
                        "the server exited ({status}) before serving:\n{}",
                        self.log_text()
                    )
                }
            }
        }
    }

    /// Polls until the process has exited, for at most `within`.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited on") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server was still running after {within:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL: the process dies at once, in the middle of whatever it was doing.
    pub fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL is sent");
        self.child.wait().expect("the killed server is reaped");
    }

    /// SIGTERM: asks for a graceful shutdown. Returns how the process ended and how long
    /// it took, polling for at most `within`.
    pub fn sigterm(&mut self, within: Duration) -> (ExitStatus, Duration) {
        let sent = Instant::now();
        // std offers no SIGTERM and the workspace forbids unsafe code: use kill(1).
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("the kill command runs");
        assert!(status.success(), "kill -TERM failed: {status}");
        let exit = self.wait_exit(within);
        (exit, sent.elapsed())
    }

    /// What the server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let log = self.log_text();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!(
                "--- last lines of {} ---\n{}",
                self.log.display(),
                tail.join("\n")
            );
        }
    }
}
