//! Small read-through caches for what every proposal or execution needs. Rules and
//! connectors expire after a second, so a change made elsewhere (the CLI on the same
//! database) is seen within a second; a change made through this server is seen at once.
//! In a cluster, changes are announced (see [`crate::cluster`]): the caches then forget a
//! team's rules or connectors the moment they change anywhere, and keep them longer in
//! between.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use interlock_core::Category;
use interlock_core::rules::RuleSet;
use interlock_store::{ConnectorConfig, Store, Team};
use uuid::Uuid;

const FRESH_FOR: Duration = Duration::from_secs(1);
/// With announced changes, the expiry only covers announcements that were lost without
/// the loss being noticed.
const FRESH_FOR_ANNOUNCED: Duration = Duration::from_secs(60);

/// Values by team and `K`, each with when it was read.
type Entries<K, V> = HashMap<(Uuid, K), (Instant, V)>;

/// Values per team (and per `K` within a team), each kept for a while after it was read.
#[derive(Debug, Clone)]
struct PerTeam<K, V> {
    entries: Arc<Mutex<Entries<K, V>>>,
    fresh_for: Duration,
}

impl<K: Eq + Hash + Clone, V: Clone> PerTeam<K, V> {
    fn new(fresh_for: Duration) -> Self {
        PerTeam {
            entries: Arc::default(),
            fresh_for,
        }
    }

    fn get(&self, team_id: Uuid, key: &K) -> Option<V> {
        self.lock()
            .get(&(team_id, key.clone()))
            .filter(|(at, _)| at.elapsed() < self.fresh_for)
            .map(|(_, v)| v.clone())
    }

    fn put(&self, team_id: Uuid, key: K, value: V) {
        self.lock().insert((team_id, key), (Instant::now(), value));
    }

    /// Forgets a team's values (`None`: every team's).
    fn forget(&self, team_id: Option<Uuid>) {
        match team_id {
            Some(t) => self.lock().retain(|(team, _), _| *team != t),
            None => self.lock().clear(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Each team's current rules, read by every proposal.
#[derive(Debug, Clone)]
pub struct RulesCache(PerTeam<(), Arc<RuleSet>>);

impl Default for RulesCache {
    fn default() -> Self {
        RulesCache(PerTeam::new(FRESH_FOR))
    }
}

impl RulesCache {
    pub async fn current(
        &self,
        store: &Arc<dyn Store>,
        team_id: Uuid,
    ) -> interlock_store::Result<Arc<RuleSet>> {
        if let Some(rules) = self.0.get(team_id, &()) {
            return Ok(rules);
        }
        let rules = Arc::new(store.current_rules(team_id).await?.rules);
        self.0.put(team_id, (), rules.clone());
        Ok(rules)
    }

    /// A cache told of every change (in a cluster), so it may keep rules longer.
    pub fn announced() -> RulesCache {
        RulesCache(PerTeam::new(FRESH_FOR_ANNOUNCED))
    }

    /// Forgets a team's rules (`None`: every team's), so the next proposal reads them.
    pub fn forget(&self, team_id: Option<Uuid>) {
        self.0.forget(team_id);
    }

    pub fn put(&self, team_id: Uuid, rules: RuleSet) {
        self.0.put(team_id, (), Arc::new(rules));
    }
}

/// Each team's connector per category, read by every execution; `None` is cached too
/// (the category's default connector applies).
#[derive(Debug, Clone)]
pub struct ConnectorCache(PerTeam<Category, Option<ConnectorConfig>>);

impl Default for ConnectorCache {
    fn default() -> Self {
        ConnectorCache(PerTeam::new(FRESH_FOR))
    }
}

impl ConnectorCache {
    pub async fn configured(
        &self,
        store: &Arc<dyn Store>,
        team_id: Uuid,
        category: Category,
    ) -> interlock_store::Result<Option<ConnectorConfig>> {
        if let Some(config) = self.0.get(team_id, &category) {
            return Ok(config);
        }
        let config = store.connector(team_id, category).await?;
        self.0.put(team_id, category, config.clone());
        Ok(config)
    }

    /// A cache told of every change (in a cluster), so it may keep connectors longer.
    pub fn announced() -> ConnectorCache {
        ConnectorCache(PerTeam::new(FRESH_FOR_ANNOUNCED))
    }

    /// Forgets a team's connectors (`None`: every team's), so the next execution reads them.
    pub fn forget(&self, team_id: Option<Uuid>) {
        self.0.forget(team_id);
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
