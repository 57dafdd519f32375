//! A one-line progress bar on stderr for long bench steps (seeding a million rows takes a
//! while); redrawn at most ten times a second, and only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Progress {
    label: String,
    total: u64,
    started: Instant,
    drawn: Instant,
    terminal: bool,
}

const WIDTH: usize = 30;

impl Progress {
    pub fn new(label: impl Into<String>, total: u64) -> Progress {
        let label = label.into();
        let terminal = std::io::stderr().is_terminal();
        if !terminal {
            eprintln!("{label} ({total})…");
        }
        Progress {
            label,
            total: total.max(1),
            started: Instant::now(),
            drawn: Instant::now() - Duration::from_secs(1),
            terminal,
        }
    }

    pub fn set(&mut self, done: u64) {
        if !self.terminal || self.drawn.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.drawn = Instant::now();
        self.draw(done);
    }

    fn draw(&self, done: u64) {
        let filled = (done.min(self.total) as usize * WIDTH) / self.total as usize;
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        eprint!(
            "\r{} [{}{}] {done}/{} ({rate:.0}/s)   ",
            self.label,
            "#".repeat(filled),
            " ".repeat(WIDTH - filled),
            self.total
        );
        let _ = std::io::stderr().flush();
    }

    pub fn finish(self, done: u64) {
        if self.terminal {
            self.draw(done);
            eprintln!();
        } else {
            eprintln!(
                "{}: {done} in {:.1} s",
                self.label,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}
