//! Group commit of concurrent changes: changes that arrive while a batch is being
//! written wait and then go together in the next, one transaction (one fsync) for the
//! whole batch. Within a batch the writer applies them in arrival order. A database with
//! one writer (SQLite) writes one batch at a time; one whose transactions run side by
//! side (PostgreSQL) may write a few at once, in lanes, so that one batch's statements
//! run while another waits for its commit to reach the disk.

use std::future::Future;
use std::sync::Mutex;

use interlock_store::{Result, StoreError, committers};
use tokio::sync::oneshot;

/// Writes a batch in one transaction. The outer error means nothing was written; the
/// inner results answer each change, in order.
pub trait BatchWriter<C, R>: Clone + Send + Sync + 'static {
    fn write(&self, batch: &[C]) -> impl Future<Output = Result<Vec<Result<R>>>> + Send;
}

type Reply<R> = oneshot::Sender<Result<R>>;

/// Changes waiting to be written, and the turns (lanes) to write them.
#[derive(Debug)]
pub struct GroupCommit<C, R> {
    max_batch: usize,
    pending: Mutex<Vec<(C, Reply<R>)>>,
    turns: tokio::sync::Semaphore,
}

impl<C: Send + Sync + 'static, R: Send + 'static> GroupCommit<C, R> {
    /// At most `max_batch` changes go in one transaction; more wait for the next. One
    /// batch is written at a time.
    pub fn new(max_batch: usize) -> Self {
        Self::with_lanes(max_batch, 1)
    }

    /// As [`GroupCommit::new`], with up to `lanes` batches written at once.
    pub fn with_lanes(max_batch: usize, lanes: usize) -> Self {
        GroupCommit {
            max_batch: max_batch.max(1),
            pending: Mutex::new(Vec::new()),
            turns: tokio::sync::Semaphore::new(lanes.max(1)),
        }
    }

    /// Queues `change` and returns its result once a batch holding it is written.
    pub async fn apply(&self, writer: &impl BatchWriter<C, R>, change: C) -> Result<R> {
        let (reply, mut answer) = oneshot::channel();
        self.lock().push((change, reply));
        loop {
            tokio::select! {
                // Written in someone else's turn (or dropped, should that turn's task die).
                result = &mut answer => {
                    return result.unwrap_or_else(|_| {
                        Err(StoreError::Backend("a change was dropped unwritten".into()))
                    });
                }
                // Whoever gets a turn writes everything queued by then, up to a batch.
                _turn = self.turns.acquire() => {
                    let batch: Vec<_> = {
                        let mut pending = self.lock();
                        let n = pending.len().min(self.max_batch);
                        pending.drain(..n).collect()
                    };
                    if !batch.is_empty() {
                        // In a task of its own, so a caller that goes away mid-batch cannot
                        // abandon the others' changes; on the committers' thread.
                        let writer = writer.clone();
                        let task = committers().spawn(async move { write(&writer, batch).await });
                        let _ = task.await;
                    }
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(C, Reply<R>)>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Writes a batch and answers each caller. If the batch fails as a whole (a backend
/// error), each change is tried again alone, so one bad change fails only itself.
async fn write<C: Sync, R>(writer: &impl BatchWriter<C, R>, batch: Vec<(C, Reply<R>)>) {
    let (changes, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    match writer.write(&changes).await {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(_) if changes.len() > 1 => {
            for (change, reply) in changes.iter().zip(replies) {
                let result = match writer.write(std::slice::from_ref(change)).await {
                    Ok(mut one) => one.pop().unwrap_or_else(|| {
                        Err(StoreError::Backend("a change went unanswered".into()))
                    }),
                    Err(e) => Err(e),
                };
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            // A batch of one: its only caller gets the error itself.
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
    }
}
