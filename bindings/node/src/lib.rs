//! sosopay node bindings (being built: see the node binding issue).
