//! Group commit for proposals: callers queue their new action and wait; a committer takes
//! everything queued (up to a batch size) and writes it in one transaction, then answers
//! each caller. Under load one fsync serves hundreds of proposals; alone, a proposal is
//! committed at once. Nobody is answered before their commit.

use std::sync::Arc;

use interlock_store::{Inserted, NewAction, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<Result<Inserted, StoreError>>;

#[derive(Debug, Clone)]
pub struct Committer {
    queue: mpsc::Sender<(NewAction, Reply)>,
}

impl Committer {
    /// Starts the committer, on the committers' thread ([`interlock_store::committers`]).
    /// One batch at a time: SQLite has one writer, and on PostgreSQL two or three
    /// batches at once measured fewer proposals per second than one (smaller batches,
    /// more transactions), so one serves both.
    pub fn start(store: Arc<dyn Store>, max_batch: usize) -> Committer {
        let (queue, receiver) = mpsc::channel(max_batch * 8);
        interlock_store::committers().spawn(run(store, receiver, max_batch));
        Committer { queue }
    }

    pub async fn submit(&self, action: NewAction) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((action, reply))
            .await
            .map_err(|_| StoreError::Backend("the proposal committer has stopped".to_owned()))?;
        answer.await.map_err(|_| {
            StoreError::Backend("the proposal committer dropped the request".to_owned())
        })?
    }
}

async fn run(
    store: Arc<dyn Store>,
    mut receiver: mpsc::Receiver<(NewAction, Reply)>,
    max_batch: usize,
) {
    loop {
        let mut batch = Vec::new();
        if receiver.recv_many(&mut batch, max_batch).await == 0 {
            return; // every sender is gone: the server is shutting down
        }
        let (actions, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        metrics::histogram!("interlock_commit_batch_size").record(actions.len() as f64);
        match store.insert_actions(actions).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "a proposal batch could not be committed");
                let message = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Backend(message.clone())));
                }
            }
        }
    }
}
