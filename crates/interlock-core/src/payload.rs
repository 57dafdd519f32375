//! Per-category payload schemas (SPEC §2), checked at the edge with field-level errors.
