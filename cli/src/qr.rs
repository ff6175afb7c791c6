//! Terminal QR codes.

use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;

/// Renders `data` as a QR code with half-block characters (two modules per character row).
pub fn render(data: &str) -> String {
    match QrCode::new(data.as_bytes()) {
        Ok(code) => code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
        Err(e) => format!("(cannot draw a QR code for this link: {e})"),
    }
}
