//! `sosopay._native`: the pyo3 extension module behind the Python package `sosopay`.
//!
//! Everything here converts types and errors; the logic is in the `sosopay` core crate. The
//! Python layer (`python/sosopay/`) adds the typed dataclasses, enums, exceptions and the
//! asyncio client on top of this module.

mod args;
mod client;
mod convert;
mod envelope;
mod errors;
mod flows;
mod notify;
mod requests;
#[cfg(feature = "sandbox")]
mod sandbox;
mod topy;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<args::NativeGoods>()?;
    m.add_function(wrap_pyfunction!(args::goods, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::sign_body, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::sign_query, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::sign_cancel, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::verify_body, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::verify_query, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::verify_cancel, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::encrypt, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::decrypt, m)?)?;
    m.add_function(wrap_pyfunction!(envelope::strip_java_whitespace, m)?)?;
    m.add_class::<envelope::PyEnvelope>()?;
    m.add_class::<envelope::PyVerified>()?;
    m.add_function(wrap_pyfunction!(convert::_enum_members, m)?)?;
    m.add_function(wrap_pyfunction!(convert::_normalize_enum, m)?)?;
    m.add_function(wrap_pyfunction!(convert::_dictionary_rule, m)?)?;
    m.add_function(wrap_pyfunction!(convert::to_fen, m)?)?;
    m.add_function(wrap_pyfunction!(convert::fen_to_yuan, m)?)?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<flows::PyCancelToken>()?;
    m.add_class::<notify::PyNotification>()?;
    m.add_class::<notify::PyVerifier>()?;
    m.add_class::<notify::PyMemoryStore>()?;
    m.add_function(wrap_pyfunction!(notify::parse_notification, m)?)?;
    m.add_function(wrap_pyfunction!(notify::process_once, m)?)?;
    m.add_function(wrap_pyfunction!(notify::webhook_answer, m)?)?;
    m.add_function(wrap_pyfunction!(notify::_refuse_unrun_handler, m)?)?;
    m.add_function(wrap_pyfunction!(notify::_store_wire, m)?)?;
    m.add_class::<notify::PyStoreRetry>()?;
    m.add_function(wrap_pyfunction!(notify::_store_duration, m)?)?;
    m.add_function(wrap_pyfunction!(notify::_lease_lost_warning, m)?)?;
    m.add_function(wrap_pyfunction!(notify::_postgres_unavailable, m)?)?;
    m.add_function(wrap_pyfunction!(client::_moves_money, m)?)?;
    m.add_function(wrap_pyfunction!(notify::_redis_unavailable, m)?)?;
    // The sandbox gateway for `sosopay.testing` (cargo feature `sandbox`, on in the wheel).
    #[cfg(feature = "sandbox")]
    {
        m.add_class::<sandbox::PySandbox>()?;
        m.add(
            "NativeSandboxError",
            m.py().get_type::<sandbox::NativeSandboxError>(),
        )?;
        m.add_function(wrap_pyfunction!(sandbox::_test_code, m)?)?;
        m.add("TEST_BUSI_CODE", sosopay_sandbox::TEST_BUSI_ID)?;
        m.add("TEST_KEY", sosopay_sandbox::TEST_KEY)?;
        m.add("KIT_OPER_ID", sosopay_sandbox::kit::CLIENT_OPER_ID)?;
        m.add("KIT_DEV_ID", sosopay_sandbox::kit::CLIENT_DEV_ID)?;
    }
    Ok(())
}
