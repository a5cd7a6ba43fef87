//! shtrih-proto
