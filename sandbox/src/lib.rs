//! The sandbox gateway (being built: see the sandbox issue).
