//! Running one `interlock` command to completion.

use std::ffi::OsStr;
use std::process::{Command, ExitStatus, Stdio};

/// The binary under test, with no `INTERLOCK_…` settings inherited from whoever runs
/// the tests.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_interlock"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("INTERLOCK_") {
            cmd.env_remove(name);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// What a finished command said.
#[derive(Debug)]
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Asserts success and hands the output on.
    #[track_caller]
    pub fn ok(self) -> Ran {
        assert!(
            self.status.success(),
            "the command failed ({}): {}",
            self.status,
            self.stderr
        );
        self
    }

    /// Asserts a non-zero exit and hands the output on.
    #[track_caller]
    pub fn refused(self) -> Ran {
        assert!(
            !self.status.success() && self.status.code().is_some(),
            "the command should have failed with an exit status, but: {}\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `interlock ARGS…` and waits for it (CLI commands are quick and never serve).
pub fn interlock<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Ran {
    let out = command()
        .args(args)
        .output()
        .expect("the interlock binary runs");
    Ran {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
