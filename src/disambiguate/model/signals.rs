//! Which evidence a model reads: the switch behind the ablations.
//!
//! One network serves every ablation; a signal that is off is fed as zeros, so its weights learn
//! nothing and the same code path trains "text only", "KG only" and the full model.

use serde::{Deserialize, Serialize};

/// The evidence groups a model may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signals {
    /// The encoder: the mention in context and the candidate's text.
    pub text: bool,
    /// The KB's structure: TransE and hyperbolic entity and type embeddings, and KG coherence
    /// with the document's other mentions.
    pub kg: bool,
}

impl Signals {
    pub const FULL: Signals = Signals {
        text: true,
        kg: true,
    };
    pub const TEXT_ONLY: Signals = Signals {
        text: true,
        kg: false,
    };
    pub const KG_ONLY: Signals = Signals {
        text: false,
        kg: true,
    };

    /// The system name reports use.
    pub fn name(self) -> &'static str {
        match (self.text, self.kg) {
            (true, true) => "full",
            (true, false) => "text-only",
            (false, true) => "kg-only",
            (false, false) => "prior-features",
        }
    }

    /// Parses a system name as [`Signals::name`] writes it.
    pub fn from_name(name: &str) -> Option<Signals> {
        [Signals::FULL, Signals::TEXT_ONLY, Signals::KG_ONLY]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in [Signals::FULL, Signals::TEXT_ONLY, Signals::KG_ONLY] {
            assert_eq!(Signals::from_name(s.name()), Some(s));
        }
        assert_eq!(Signals::from_name("prior"), None);
    }
}
