//! Property battery for the deep-learning layer API (filled in by the layer-properties work).
