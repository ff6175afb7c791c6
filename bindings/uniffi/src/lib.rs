//! sosopay uniffi bindings (being built: see the uniffi binding issue).
