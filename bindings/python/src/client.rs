//! The gateway client: keyword arguments → core requests, core replies → `dict`s that the
//! Python layer turns into dataclasses. Every network call runs with the GIL released.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString};
use sosopay::codec::Format;
use sosopay::models::{
    CancelRequest, FlowRechargeRequest, Goods, MicropayRequest, OrderRequest, QueryRequest,
    RefundRequest,
};
use sosopay::{
    Channel, Client, ClientConfig, DynamicIdType, Environment, RequestLog, RetryPolicy, SerType,
    TradeType, WaitOptions,
};

use crate::convert::{amount_arg, to_py_dict, u32_arg, u32_from_py};
use crate::errors::{type_error, validation, OrPyErr};
use crate::flows::{self, PyCancelToken};

/// Text of an enum argument: a `str` (Python enum members are `str`s) or an `int` code.
fn enum_text(v: &Bound<'_, PyAny>, field: &str) -> PyResult<String> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() {
        return match v.extract::<i64>() {
            Ok(n) => Ok(n.to_string()),
            Err(_) => Err(validation(
                v.py(),
                field,
                format!("{v} is not a known code"),
            )),
        };
    }
    Err(type_error(
        field,
        &format!(
            "expected a sosopay enum member or its wire text, got {}",
            v.get_type().name()?
        ),
    ))
}

fn opt_enum<T>(
    v: Option<&Bound<'_, PyAny>>,
    field: &str,
    parse: impl Fn(&str) -> T,
) -> PyResult<Option<T>> {
    match v {
        Some(v) if !v.is_none() => Ok(Some(parse(&enum_text(v, field)?))),
        _ => Ok(None),
    }
}

/// Seconds (int or float; a duration, not money) → `Duration`.
fn seconds(py: Python<'_>, v: Option<f64>, field: &str) -> PyResult<Option<Duration>> {
    match v {
        None => Ok(None),
        Some(s) if (0.0..=1.0e7).contains(&s) => Ok(Some(Duration::from_secs_f64(s))),
        Some(_) => Err(validation(
            py,
            field,
            "must be a number of seconds between 0 and 10^7",
        )),
    }
}

fn goods_arg(v: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Goods>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    let list = v
        .cast::<PyList>()
        .map_err(|_| type_error("goods", "expected a list of sosopay.Goods"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, g) in list.iter().enumerate() {
        let f = |name: &str| format!("goods[{i}].{name}");
        let text = |name: &str, attr: &str| -> PyResult<String> {
            let a = g
                .getattr(attr)
                .map_err(|_| type_error(&f(name), "expected a sosopay.Goods"))?;
            a.extract::<String>()
                .map_err(|_| type_error(&f(name), "expected a str"))
        };
        let price_fen = g
            .getattr("price_fen")
            .map_err(|_| type_error(&f("price_fen"), "expected a sosopay.Goods"))?;
        let quantity = g
            .getattr("quantity")
            .map_err(|_| type_error(&f("quantity"), "expected a sosopay.Goods"))?;
        let quantity = u32_from_py(&quantity, &f("quantity"))?;
        let show_url = g.getattr("show_url")?;
        out.push(Goods {
            id: text("id", "id")?,
            name: text("name", "name")?,
            class: text("class", "class_")?,
            price: crate::convert::fen_from_py(&price_fen, &f("price_fen"))?,
            subject: text("subject", "subject")?,
            quantity,
            show_url: if show_url.is_none() {
                None
            } else {
                Some(show_url.extract()?)
            },
        });
    }
    Ok(out)
}

/// The flow options (seconds, like every Python duration); unset ones keep the core's defaults
/// (deadline 60 s, poll interval 2 s growing to 5 s, 5 cancel attempts, max_duration 90 s or
/// the deadline + 30 s when that is longer, gateway_hold 80 s). The core checks them together when the flow starts; its field names are
/// the Python argument names.
#[allow(clippy::too_many_arguments)]
fn wait_options(
    py: Python<'_>,
    deadline: Option<f64>,
    poll_interval: Option<f64>,
    max_poll_interval: Option<f64>,
    cancel_attempts: Option<&Bound<'_, PyAny>>,
    max_duration: Option<f64>,
    gateway_hold: Option<f64>,
) -> PyResult<WaitOptions> {
    let mut o = WaitOptions::default();
    if let Some(d) = seconds(py, deadline, "deadline")? {
        o.deadline = d;
    }
    if let Some(d) = seconds(py, poll_interval, "poll_interval")? {
        o.poll_interval = d;
    }
    if let Some(d) = seconds(py, max_poll_interval, "max_poll_interval")? {
        o.max_poll_interval = d;
    }
    if let Some(n) = u32_arg(cancel_attempts, "cancel_attempts")? {
        o.cancel_attempts = n;
    }
    o.max_duration = match seconds(py, max_duration, "max_duration")? {
        Some(d) => d,
        None => WaitOptions::default_max_duration(o.deadline),
    };
    if let Some(d) = seconds(py, gateway_hold, "gateway_hold")? {
        o.gateway_hold = d;
    }
    Ok(o)
}

/// The core's names of `ClientConfig` fields that differ from the Python arguments.
const CONFIG_FIELDS: &[(&str, &str)] = &[
    ("retry.max_attempts", "retry_attempts"),
    ("retry.base_delay", "retry_base_delay"),
    ("retry.max_delay", "retry_max_delay"),
];

fn log_to_dict<'py>(py: Python<'py>, log: &RequestLog) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("operation", log.operation)?;
    d.set_item("charge_code", log.charge_code.as_deref())?;
    d.set_item("attempt", log.attempt)?;
    d.set_item("duration", log.duration.as_secs_f64())?;
    d.set_item("http_status", log.http_status)?;
    d.set_item("result_code", log.result_code.as_deref())?;
    d.set_item("order_state", log.order_state.as_deref())?;
    d.set_item("error", log.error.as_deref())?;
    Ok(d)
}

/// The native client. `Send + Sync`; one instance may serve many threads.
#[pyclass(frozen, name = "NativeClient", module = "sosopay._native")]
pub struct PyClient {
    inner: Client,
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (
        busi_code, key, *, base_url = None, environment = None, encrypt = false,
        format = None, timeout = None, connect_timeout = None, micropay_timeout = None,
        retry_attempts = None, retry_base_delay = None, retry_max_delay = None,
        default_oper_id = None, default_dev_id = None, on_request = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        busi_code: String,
        key: String,
        base_url: Option<String>,
        environment: Option<String>,
        encrypt: bool,
        format: Option<String>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
        micropay_timeout: Option<f64>,
        retry_attempts: Option<&Bound<'_, PyAny>>,
        retry_base_delay: Option<f64>,
        retry_max_delay: Option<f64>,
        default_oper_id: Option<String>,
        default_dev_id: Option<String>,
        on_request: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let base = match (base_url, environment) {
            (Some(u), None) => u,
            (None, Some(e)) => Environment::parse(&e, "environment")
                .map_err(|err| crate::errors::to_py(py, &err))?
                .base_url()
                .to_owned(),
            (Some(_), Some(_)) => {
                return Err(validation(
                    py,
                    "base_url",
                    "give either base_url or environment, not both",
                ))
            }
            (None, None) => {
                return Err(validation(
                    py,
                    "base_url",
                    "is required (or environment=\"production\" / \"uat\")",
                ))
            }
        };
        let mut cfg = ClientConfig::new(busi_code, &key, base).or_py(py)?;
        cfg.encrypt = encrypt;
        cfg.format = match format.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("json") => Format::Json,
            Some("xml") => Format::Xml,
            Some(other) => {
                return Err(validation(
                    py,
                    "format",
                    format!("{other:?} is not json or xml"),
                ))
            }
        };
        if let Some(d) = seconds(py, timeout, "timeout")? {
            cfg.timeout = d;
        }
        if let Some(d) = seconds(py, connect_timeout, "connect_timeout")? {
            cfg.connect_timeout = d;
        }
        if let Some(d) = seconds(py, micropay_timeout, "micropay_timeout")? {
            cfg.micropay_timeout = d;
        }
        let mut retry = RetryPolicy::default();
        if let Some(n) = u32_arg(retry_attempts, "retry_attempts")? {
            retry.max_attempts = n;
        }
        if let Some(d) = seconds(py, retry_base_delay, "retry_base_delay")? {
            retry.base_delay = d;
        }
        if let Some(d) = seconds(py, retry_max_delay, "retry_max_delay")? {
            retry.max_delay = d;
        }
        cfg.retry = retry;
        cfg.default_oper_id = default_oper_id;
        cfg.default_dev_id = default_dev_id;
        if let Some(cb) = on_request {
            cfg.on_request = Some(Arc::new(move |log: &RequestLog| {
                Python::attach(|py| {
                    let res = log_to_dict(py, log).and_then(|d| cb.call1(py, (d,)).map(|_| ()));
                    if let Err(e) = res {
                        // A failing logging hook must not fail the payment call.
                        e.write_unraisable(py, None);
                    }
                });
            }));
        }
        // The core checks the whole configuration (timeouts, retry policy); its names for the
        // retry fields are not the Python arguments'.
        let inner = Client::new(cfg)
            .map_err(|e| e.renamed_fields(CONFIG_FIELDS))
            .or_py(py)?;
        Ok(PyClient { inner })
    }

    /// The merchant code.
    #[getter]
    fn busi_code(&self) -> String {
        self.inner.config().busi_code.clone()
    }

    /// The base URL.
    #[getter]
    fn base_url(&self) -> String {
        self.inner.config().base_url.clone()
    }

    /// Whether the 3DES envelope is used.
    #[getter]
    fn encrypt(&self) -> bool {
        self.inner.config().encrypt
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "sosopay.Client(busi_code={:?}, base_url={:?}, encrypt={}, key=<redacted>)",
            c.busi_code,
            c.base_url,
            if c.encrypt { "True" } else { "False" }
        )
    }

    #[pyo3(signature = (
        *, charge_code, dynamic_id, pay_subject, amount = None, amount_fen = None,
        oper_id = None, dev_id = None, channel = None, dynamic_id_type = None,
        register_id = None, merchant_para = None, time_expire = None, goods = None,
        verify_codes = None, notify_url = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn micropay<'py>(
        &self,
        py: Python<'py>,
        charge_code: String,
        dynamic_id: String,
        pay_subject: String,
        amount: Option<&Bound<'py, PyAny>>,
        amount_fen: Option<&Bound<'py, PyAny>>,
        oper_id: Option<String>,
        dev_id: Option<String>,
        channel: Option<&Bound<'py, PyAny>>,
        dynamic_id_type: Option<&Bound<'py, PyAny>>,
        register_id: Option<String>,
        merchant_para: Option<String>,
        time_expire: Option<&Bound<'py, PyAny>>,
        goods: Option<&Bound<'py, PyAny>>,
        verify_codes: Option<String>,
        notify_url: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = MicropayRequest {
            charge_code,
            amount: amount_arg(py, amount, amount_fen, "amount")?,
            dynamic_id,
            dynamic_id_type: opt_enum(
                dynamic_id_type,
                "dynamic_id_type",
                DynamicIdType::from_wire,
            )?
            .unwrap_or(DynamicIdType::Barcode),
            channel: opt_enum(channel, "channel", Channel::from_wire)?.unwrap_or(Channel::Auto),
            pay_subject,
            oper_id: oper_id.unwrap_or_default(),
            dev_id: dev_id.unwrap_or_default(),
            register_id,
            merchant_para,
            time_expire: u32_arg(time_expire, "time_expire")?,
            goods: goods_arg(goods)?,
            verify_codes,
            notify_url,
        };
        let client = self.inner.clone();
        let reply = py.detach(move || client.micropay(&req)).or_py(py)?;
        to_py_dict(py, &reply)
    }

    #[pyo3(signature = (
        *, charge_code, pay_subject, channel, amount = None, amount_fen = None,
        oper_id = None, dev_id = None, register_id = None, merchant_para = None,
        time_expire = None, notify_url = None, goods = None, verify_codes = None,
        trade_type = None, sub_appid = None, sub_openid = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn create_qr_order<'py>(
        &self,
        py: Python<'py>,
        charge_code: String,
        pay_subject: String,
        channel: &Bound<'py, PyAny>,
        amount: Option<&Bound<'py, PyAny>>,
        amount_fen: Option<&Bound<'py, PyAny>>,
        oper_id: Option<String>,
        dev_id: Option<String>,
        register_id: Option<String>,
        merchant_para: Option<String>,
        time_expire: Option<&Bound<'py, PyAny>>,
        notify_url: Option<String>,
        goods: Option<&Bound<'py, PyAny>>,
        verify_codes: Option<String>,
        trade_type: Option<&Bound<'py, PyAny>>,
        sub_appid: Option<String>,
        sub_openid: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = OrderRequest {
            charge_code,
            amount: amount_arg(py, amount, amount_fen, "amount")?,
            channel: Channel::from_wire(&enum_text(channel, "channel")?),
            pay_subject,
            oper_id: oper_id.unwrap_or_default(),
            dev_id: dev_id.unwrap_or_default(),
            register_id,
            merchant_para,
            time_expire: u32_arg(time_expire, "time_expire")?,
            notify_url,
            goods: goods_arg(goods)?,
            verify_codes,
            trade_type: opt_enum(trade_type, "trade_type", TradeType::from_wire)?,
            sub_appid,
            sub_openid,
        };
        let client = self.inner.clone();
        let reply = py.detach(move || client.create_qr_order(&req)).or_py(py)?;
        to_py_dict(py, &reply)
    }

    #[pyo3(signature = (
        *, charge_code, pay_subject, sub_openid, amount = None, amount_fen = None,
        sub_appid = None, channel = None, oper_id = None, dev_id = None, register_id = None,
        merchant_para = None, time_expire = None, notify_url = None, goods = None,
        verify_codes = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn create_jsapi_order<'py>(
        &self,
        py: Python<'py>,
        charge_code: String,
        pay_subject: String,
        sub_openid: String,
        amount: Option<&Bound<'py, PyAny>>,
        amount_fen: Option<&Bound<'py, PyAny>>,
        sub_appid: Option<String>,
        channel: Option<&Bound<'py, PyAny>>,
        oper_id: Option<String>,
        dev_id: Option<String>,
        register_id: Option<String>,
        merchant_para: Option<String>,
        time_expire: Option<&Bound<'py, PyAny>>,
        notify_url: Option<String>,
        goods: Option<&Bound<'py, PyAny>>,
        verify_codes: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = OrderRequest {
            charge_code,
            amount: amount_arg(py, amount, amount_fen, "amount")?,
            channel: opt_enum(channel, "channel", Channel::from_wire)?.unwrap_or(Channel::Wechat),
            pay_subject,
            oper_id: oper_id.unwrap_or_default(),
            dev_id: dev_id.unwrap_or_default(),
            register_id,
            merchant_para,
            time_expire: u32_arg(time_expire, "time_expire")?,
            notify_url,
            goods: goods_arg(goods)?,
            verify_codes,
            trade_type: Some(TradeType::Jsapi),
            sub_appid,
            sub_openid: Some(sub_openid),
        };
        let client = self.inner.clone();
        let reply = py
            .detach(move || client.create_jsapi_order(&req))
            .or_py(py)?;
        to_py_dict(py, &reply)
    }

    #[pyo3(signature = (*, code, ser_type = None))]
    fn query<'py>(
        &self,
        py: Python<'py>,
        code: String,
        ser_type: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = QueryRequest {
            code,
            ser_type: opt_enum(ser_type, "ser_type", SerType::from_wire)?
                .unwrap_or(SerType::ChargeCode),
        };
        let client = self.inner.clone();
        let reply = py.detach(move || client.query(&req)).or_py(py)?;
        to_py_dict(py, &reply)
    }

    #[pyo3(signature = (
        *, refund_subject, refund_amount = None, refund_amount_fen = None, charge_code = None,
        charge_down_code = None, out_refund_no = None, oper_id = None, dev_id = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn refund<'py>(
        &self,
        py: Python<'py>,
        refund_subject: String,
        refund_amount: Option<&Bound<'py, PyAny>>,
        refund_amount_fen: Option<&Bound<'py, PyAny>>,
        charge_code: Option<String>,
        charge_down_code: Option<String>,
        out_refund_no: Option<String>,
        oper_id: Option<String>,
        dev_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = RefundRequest {
            charge_code,
            charge_down_code,
            out_refund_no,
            refund_amount: amount_arg(py, refund_amount, refund_amount_fen, "refund_amount")?,
            refund_subject,
            oper_id: oper_id.unwrap_or_default(),
            dev_id: dev_id.unwrap_or_default(),
        };
        let client = self.inner.clone();
        let reply = py.detach(move || client.refund(&req)).or_py(py)?;
        to_py_dict(py, &reply)
    }

    #[pyo3(signature = (*, charge_code, apply = false))]
    fn cancel<'py>(
        &self,
        py: Python<'py>,
        charge_code: String,
        apply: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = CancelRequest { charge_code, apply };
        let client = self.inner.clone();
        let reply = py.detach(move || client.cancel(&req)).or_py(py)?;
        to_py_dict(py, &reply)
    }

    #[pyo3(signature = (*, phone_no, flow_val, flow_type = None, notify_url = None))]
    fn flow_recharge<'py>(
        &self,
        py: Python<'py>,
        phone_no: String,
        flow_val: &Bound<'py, PyAny>,
        flow_type: Option<String>,
        notify_url: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = FlowRechargeRequest {
            phone_no,
            flow_val: u32_from_py(flow_val, "flow_val")?,
            flow_type,
            notify_url,
        };
        let client = self.inner.clone();
        let reply = py.detach(move || client.flow_recharge(&req)).or_py(py)?;
        to_py_dict(py, &reply)
    }

    #[pyo3(signature = (
        *, charge_code, dynamic_id, pay_subject, amount = None, amount_fen = None,
        oper_id = None, dev_id = None, channel = None, dynamic_id_type = None,
        register_id = None, merchant_para = None, time_expire = None, goods = None,
        verify_codes = None, notify_url = None, deadline = None, poll_interval = None,
        max_poll_interval = None, cancel_attempts = None, max_duration = None, gateway_hold = None,
        cancel = None, on_progress = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn micropay_and_wait<'py>(
        &self,
        py: Python<'py>,
        charge_code: String,
        dynamic_id: String,
        pay_subject: String,
        amount: Option<&Bound<'py, PyAny>>,
        amount_fen: Option<&Bound<'py, PyAny>>,
        oper_id: Option<String>,
        dev_id: Option<String>,
        channel: Option<&Bound<'py, PyAny>>,
        dynamic_id_type: Option<&Bound<'py, PyAny>>,
        register_id: Option<String>,
        merchant_para: Option<String>,
        time_expire: Option<&Bound<'py, PyAny>>,
        goods: Option<&Bound<'py, PyAny>>,
        verify_codes: Option<String>,
        notify_url: Option<String>,
        deadline: Option<f64>,
        poll_interval: Option<f64>,
        max_poll_interval: Option<f64>,
        cancel_attempts: Option<&Bound<'py, PyAny>>,
        max_duration: Option<f64>,
        gateway_hold: Option<f64>,
        cancel: Option<&Bound<'py, PyCancelToken>>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = MicropayRequest {
            charge_code,
            amount: amount_arg(py, amount, amount_fen, "amount")?,
            dynamic_id,
            dynamic_id_type: opt_enum(
                dynamic_id_type,
                "dynamic_id_type",
                DynamicIdType::from_wire,
            )?
            .unwrap_or(DynamicIdType::Barcode),
            channel: opt_enum(channel, "channel", Channel::from_wire)?.unwrap_or(Channel::Auto),
            pay_subject,
            oper_id: oper_id.unwrap_or_default(),
            dev_id: dev_id.unwrap_or_default(),
            register_id,
            merchant_para,
            time_expire: u32_arg(time_expire, "time_expire")?,
            goods: goods_arg(goods)?,
            verify_codes,
            notify_url,
        };
        let opts = wait_options(
            py,
            deadline,
            poll_interval,
            max_poll_interval,
            cancel_attempts,
            max_duration,
            gateway_hold,
        )?;
        let ctl = flows::control(cancel, on_progress);
        let client = self.inner.clone();
        let outcome = py
            .detach(move || client.micropay_and_wait_with(&req, &opts, &ctl))
            .or_py(py)?;
        to_py_dict(py, &outcome)
    }

    #[pyo3(signature = (
        *, charge_code, deadline = None, poll_interval = None, max_poll_interval = None,
        cancel_attempts = None, max_duration = None, gateway_hold = None, cancel = None,
        on_progress = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn wait_for_payment<'py>(
        &self,
        py: Python<'py>,
        charge_code: String,
        deadline: Option<f64>,
        poll_interval: Option<f64>,
        max_poll_interval: Option<f64>,
        cancel_attempts: Option<&Bound<'py, PyAny>>,
        max_duration: Option<f64>,
        gateway_hold: Option<f64>,
        cancel: Option<&Bound<'py, PyCancelToken>>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = wait_options(
            py,
            deadline,
            poll_interval,
            max_poll_interval,
            cancel_attempts,
            max_duration,
            gateway_hold,
        )?;
        let ctl = flows::control(cancel, on_progress);
        let client = self.inner.clone();
        let outcome = py
            .detach(move || client.wait_for_payment_with(&charge_code, &opts, &ctl))
            .or_py(py)?;
        to_py_dict(py, &outcome)
    }
}
