//! sosopay python bindings (being built: see the python binding issue).
