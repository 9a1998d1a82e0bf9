//! A bounded memo of candidate lists by normalized mention. Mentions in a corpus repeat heavily
//! (the same country, city or person again and again), and a fuzzy lookup costs far more than
//! an exact one, so linking remembers recent answers. Memory stays bounded: a shard that fills up
//! is emptied and refills with what is asked next, which keeps the frequent keys in.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use super::candidates::Candidate;

const SHARDS: usize = 16;

/// Keys remembered unless told otherwise (about 64 MB at 30 candidates a key).
pub const DEFAULT_CACHE_KEYS: usize = 1 << 16;

pub struct CandidateCache {
    shards: Vec<Mutex<HashMap<String, Arc<[Candidate]>>>>,
    per_shard: usize,
    hasher: RandomState,
}

impl CandidateCache {
    /// A cache of about `capacity` keys; 0 remembers nothing.
    pub fn new(capacity: usize) -> Self {
        CandidateCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: capacity.div_ceil(SHARDS),
            hasher: RandomState::new(),
        }
    }

    /// The remembered candidates of `key`, or those `compute` finds (then remembered). The
    /// lock is not held while computing, so threads never wait on each other's lookups.
    pub fn get_or_compute(
        &self,
        key: &str,
        compute: impl FnOnce() -> Vec<Candidate>,
    ) -> Vec<Candidate> {
        if self.per_shard == 0 {
            return compute();
        }
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        if let Some(hit) = shard.lock().expect("cache lock").get(key) {
            return hit.to_vec();
        }
        let found = compute();
        let mut map = shard.lock().expect("cache lock");
        if map.len() >= self.per_shard {
            map.clear();
        }
        map.insert(key.to_string(), Arc::from(found.as_slice()));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retrieve::CandidateSource;

    #[test]
    fn remembers_within_bounds() {
        let cache = CandidateCache::new(32);
        let c = |e| Candidate {
            entity: e,
            prior: 1.0,
            alias_prior: 1.0,
            source: CandidateSource::Exact,
            similarity: 1.0,
        };
        assert_eq!(cache.get_or_compute("paris", || vec![c(1)]), vec![c(1)]);
        assert_eq!(cache.get_or_compute("paris", || unreachable!()), vec![c(1)]);
        for i in 0..1000 {
            cache.get_or_compute(&i.to_string(), || vec![c(i)]);
        }
        let held: usize = cache.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= 32, "{held}");
    }
}
