//! Links Debian's libsrtp2 (package libsrtp2-dev: /usr/lib/<triplet>/libsrtp2.so).
fn main() {
    println!("cargo:rustc-link-lib=dylib=srtp2");
}
