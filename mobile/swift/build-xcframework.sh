#!/usr/bin/env bash
# Builds mobile/swift/SosopayFFI.xcframework on a Mac with Xcode: the static library of
# bindings/uniffi for iOS devices, the iOS simulator (arm64 + x86_64) and macOS (arm64 +
# x86_64), each with the generated header and module map (mobile/swift/include).
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGETS=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
rustup target add "${TARGETS[@]}"
for t in "${TARGETS[@]}"; do
  cargo build -p sosopay-uniffi --release --lib --target "$t"
done
OUT=target/xcframework
rm -rf "$OUT" mobile/swift/SosopayFFI.xcframework
mkdir -p "$OUT/ios-sim" "$OUT/macos"
lib() { echo "target/$1/release/libsosopay_uniffi.a"; }
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$OUT/ios-sim/libsosopay_uniffi.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$OUT/macos/libsosopay_uniffi.a"
xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers mobile/swift/include \
  -library "$OUT/ios-sim/libsosopay_uniffi.a" -headers mobile/swift/include \
  -library "$OUT/macos/libsosopay_uniffi.a" -headers mobile/swift/include \
  -output mobile/swift/SosopayFFI.xcframework
echo "built mobile/swift/SosopayFFI.xcframework"
