//! The memory store (the default): the store conformance suite, mounted once.

mod conformance;

use std::sync::Arc;

use conformance::Backend;
use keyfob::store::SessionStore;

/// Memory stores, one per namespace: two handles on one namespace are one store.
#[derive(Default)]
struct Memory {
    stores: parking_lot::Mutex<std::collections::HashMap<String, Arc<dyn SessionStore>>>,
}

impl Backend for Memory {
    fn store(&self, namespace: &str) -> Arc<dyn SessionStore> {
        self.stores
            .lock()
            .entry(namespace.to_owned())
            .or_insert_with(|| Arc::new(keyfob::store::MemoryStore::new()))
            .clone()
    }
}

conformance::mount!(memory, Memory::default());
