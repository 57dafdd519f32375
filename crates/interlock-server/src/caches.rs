//! Small read-through caches for what every proposal needs. Rules expire after a
//! second, so a change made elsewhere (the CLI on the same database) is seen within a
//! second; a change made through this server is seen at once. In a cluster, rule changes
//! are announced (see [`crate::cluster`]): the cache then forgets a team's rules the
//! moment they change anywhere, and keeps them longer in between.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use interlock_core::rules::RuleSet;
use interlock_store::{Store, Team};
use uuid::Uuid;

const FRESH_FOR: Duration = Duration::from_secs(1);
/// With announced changes, the expiry only covers announcements that were lost without
/// the loss being noticed.
const FRESH_FOR_ANNOUNCED: Duration = Duration::from_secs(60);

/// A team's rules and when they were read.
type Fetched = (Instant, Arc<RuleSet>);

#[derive(Debug, Clone)]
pub struct RulesCache {
    entries: Arc<Mutex<HashMap<Uuid, Fetched>>>,
    fresh_for: Duration,
}

impl Default for RulesCache {
    fn default() -> Self {
        RulesCache {
            entries: Arc::default(),
            fresh_for: FRESH_FOR,
        }
    }
}

impl RulesCache {
    pub async fn current(
        &self,
        store: &Arc<dyn Store>,
        team_id: Uuid,
    ) -> interlock_store::Result<Arc<RuleSet>> {
        if let Some((at, rules)) = self.lock().get(&team_id)
            && at.elapsed() < self.fresh_for
        {
            return Ok(rules.clone());
        }
        let rules = Arc::new(store.current_rules(team_id).await?.rules);
        self.lock().insert(team_id, (Instant::now(), rules.clone()));
        Ok(rules)
    }

    /// A cache told of every change (in a cluster), so it may keep rules longer.
    pub fn announced() -> RulesCache {
        RulesCache {
            fresh_for: FRESH_FOR_ANNOUNCED,
            ..RulesCache::default()
        }
    }

    /// Forgets a team's rules (`None`: every team's), so the next proposal reads them.
    pub fn forget(&self, team_id: Option<Uuid>) {
        match team_id {
            Some(t) => {
                self.lock().remove(&t);
            }
            None => self.lock().clear(),
        }
    }

    pub fn put(&self, team_id: Uuid, rules: RuleSet) {
        self.lock()
            .insert(team_id, (Instant::now(), Arc::new(rules)));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Fetched>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Teams never change once created, so they are kept for good once seen.
#[derive(Debug, Clone, Default)]
pub struct TeamCache {
    by_id: Arc<Mutex<HashMap<Uuid, Team>>>,
}

impl TeamCache {
    pub async fn by_id(
        &self,
        store: &Arc<dyn Store>,
        id: Uuid,
    ) -> interlock_store::Result<Option<Team>> {
        if let Some(t) = self.lock().get(&id) {
            return Ok(Some(t.clone()));
        }
        let team = store.team(id).await?;
        if let Some(t) = &team {
            self.lock().insert(id, t.clone());
        }
        Ok(team)
    }

    pub async fn by_slug(
        &self,
        store: &Arc<dyn Store>,
        slug: &str,
    ) -> interlock_store::Result<Option<Team>> {
        if let Some(t) = self.lock().values().find(|t| t.slug == slug) {
            return Ok(Some(t.clone()));
        }
        let team = store.team_by_slug(slug).await?;
        if let Some(t) = &team {
            self.lock().insert(t.id, t.clone());
        }
        Ok(team)
    }

    /// The slug of a team id, for views; falls back to the id if the team vanished.
    pub async fn slug(&self, store: &Arc<dyn Store>, id: Uuid) -> interlock_store::Result<String> {
        Ok(self
            .by_id(store, id)
            .await?
            .map_or_else(|| id.to_string(), |t| t.slug))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Team>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }
}
