//! tailor: knowledge-graph entity disambiguation built to be right on the long tail.
//!
//! The pipeline, one module per stage: [`kb`] ingests KB sources into a graph store;
//! [`pipeline`] reads the declarative run configs that drive the stages.

pub mod disambiguate;
pub mod embed;
pub mod encode;
pub mod eval;
pub mod interrupt;
pub mod kb;
pub mod link;
pub mod persist;
pub mod pipeline;
pub mod retrieve;
pub mod stages;
