//! A minimal safe wrapper over libsrtp2 (2.x ABI, as in Debian's libsrtp2-dev 2.5.0): one
//! `srtp_t` context with a wildcard SSRC, for the four DTLS-SRTP profiles rtcweb-srtp
//! implements. Only what the cross-check and the bench need; the declarations below are
//! written from `/usr/include/srtp2/srtp.h`.

use std::os::raw::{c_int, c_uchar, c_uint, c_ulong, c_void};
use std::sync::Once;

use rtcweb_srtp::ProtectionProfile;

mod sys {
    use super::*;

    /// `srtp_crypto_policy_t`.
    #[repr(C)]
    #[derive(Default)]
    pub struct CryptoPolicy {
        pub cipher_type: u32,
        pub cipher_key_len: c_int,
        pub auth_type: u32,
        pub auth_key_len: c_int,
        pub auth_tag_len: c_int,
        pub sec_serv: c_int,
    }

    /// `srtp_ssrc_t`.
    #[repr(C)]
    pub struct Ssrc {
        pub kind: c_int,
        pub value: c_uint,
    }

    /// `srtp_policy_t`.
    #[repr(C)]
    pub struct Policy {
        pub ssrc: Ssrc,
        pub rtp: CryptoPolicy,
        pub rtcp: CryptoPolicy,
        pub key: *mut c_uchar,
        pub keys: *mut *mut c_void,
        pub num_master_keys: c_ulong,
        pub deprecated_ekt: *mut c_void,
        pub window_size: c_ulong,
        pub allow_repeat_tx: c_int,
        pub enc_xtn_hdr: *mut c_int,
        pub enc_xtn_hdr_count: c_int,
        pub next: *mut Policy,
    }

    pub const SSRC_ANY_INBOUND: c_int = 2;
    pub const SSRC_ANY_OUTBOUND: c_int = 3;

    unsafe extern "C" {
        pub fn srtp_init() -> c_int;
        pub fn srtp_create(session: *mut *mut c_void, policy: *const Policy) -> c_int;
        pub fn srtp_dealloc(session: *mut c_void) -> c_int;
        pub fn srtp_protect(ctx: *mut c_void, hdr: *mut c_void, len: *mut c_int) -> c_int;
        pub fn srtp_unprotect(ctx: *mut c_void, hdr: *mut c_void, len: *mut c_int) -> c_int;
        pub fn srtp_protect_rtcp(ctx: *mut c_void, hdr: *mut c_void, len: *mut c_int) -> c_int;
        pub fn srtp_unprotect_rtcp(ctx: *mut c_void, hdr: *mut c_void, len: *mut c_int) -> c_int;
        pub fn srtp_get_stream_roc(ctx: *mut c_void, ssrc: c_uint, roc: *mut u32) -> c_int;
        pub fn srtp_crypto_policy_set_rtp_default(p: *mut CryptoPolicy);
        pub fn srtp_crypto_policy_set_rtcp_default(p: *mut CryptoPolicy);
        pub fn srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(p: *mut CryptoPolicy);
        pub fn srtp_crypto_policy_set_aes_gcm_128_16_auth(p: *mut CryptoPolicy);
        pub fn srtp_crypto_policy_set_aes_gcm_256_16_auth(p: *mut CryptoPolicy);
    }
}

/// `srtp_err_status_t` values the tests look for.
pub mod status {
    /// srtp_err_status_auth_fail
    pub const AUTH_FAIL: i32 = 7;
    /// srtp_err_status_replay_fail
    pub const REPLAY_FAIL: i32 = 9;
    /// srtp_err_status_replay_old
    pub const REPLAY_OLD: i32 = 10;
}

/// Octets past the packet libsrtp may write when protecting: SRTP_MAX_TRAILER_LEN
/// (16-octet tag + 128-octet MKI) plus the 4-octet SRTCP index.
pub const TAIL_ROOM: usize = 16 + 128 + 4;

/// Which way the context works: libsrtp binds a wildcard policy to one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `ssrc_any_inbound`: unprotects.
    Inbound,
    /// `ssrc_any_outbound`: protects.
    Outbound,
}

/// One libsrtp2 session (`srtp_t`) for any SSRC in one direction.
pub struct LibSrtp {
    ctx: *mut c_void,
}

static INIT: Once = Once::new();

impl LibSrtp {
    /// A context for `profile` with master key and salt, replay window `window` (0: libsrtp's
    /// default of 128).
    pub fn new(
        profile: ProtectionProfile,
        key: &[u8],
        salt: &[u8],
        direction: Direction,
        window: u32,
    ) -> Result<Self, i32> {
        INIT.call_once(|| {
            // SAFETY: srtp_init has no preconditions; Once runs it a single time.
            let rc = unsafe { sys::srtp_init() };
            assert_eq!(rc, 0, "srtp_init failed");
        });
        let mut material = Vec::with_capacity(key.len() + salt.len());
        material.extend_from_slice(key);
        material.extend_from_slice(salt);
        let mut policy = sys::Policy {
            ssrc: sys::Ssrc {
                kind: match direction {
                    Direction::Inbound => sys::SSRC_ANY_INBOUND,
                    Direction::Outbound => sys::SSRC_ANY_OUTBOUND,
                },
                value: 0,
            },
            rtp: sys::CryptoPolicy::default(),
            rtcp: sys::CryptoPolicy::default(),
            key: material.as_mut_ptr(),
            keys: std::ptr::null_mut(),
            num_master_keys: 0,
            deprecated_ekt: std::ptr::null_mut(),
            window_size: c_ulong::from(window),
            allow_repeat_tx: 0,
            enc_xtn_hdr: std::ptr::null_mut(),
            enc_xtn_hdr_count: 0,
            next: std::ptr::null_mut(),
        };
        // SAFETY: the setters only write the crypto policy structs they are given.
        unsafe {
            match profile {
                ProtectionProfile::Aes128CmHmacSha1_80 => {
                    sys::srtp_crypto_policy_set_rtp_default(&mut policy.rtp);
                    sys::srtp_crypto_policy_set_rtcp_default(&mut policy.rtcp);
                }
                ProtectionProfile::Aes128CmHmacSha1_32 => {
                    sys::srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&mut policy.rtp);
                    // RFC 5764 section 4.1.2: SRTCP keeps the 80-bit tag.
                    sys::srtp_crypto_policy_set_rtcp_default(&mut policy.rtcp);
                }
                ProtectionProfile::AeadAes128Gcm => {
                    sys::srtp_crypto_policy_set_aes_gcm_128_16_auth(&mut policy.rtp);
                    sys::srtp_crypto_policy_set_aes_gcm_128_16_auth(&mut policy.rtcp);
                }
                _ => {
                    sys::srtp_crypto_policy_set_aes_gcm_256_16_auth(&mut policy.rtp);
                    sys::srtp_crypto_policy_set_aes_gcm_256_16_auth(&mut policy.rtcp);
                }
            }
        }
        if material.len() != profile.master_key_len() + profile.master_salt_len() {
            return Err(2);
        }
        let mut ctx = std::ptr::null_mut();
        // SAFETY: policy and the key material it points to outlive the call; libsrtp copies
        // the key into the new session.
        let rc = unsafe { sys::srtp_create(&mut ctx, &policy) };
        if rc != 0 {
            return Err(rc);
        }
        Ok(Self { ctx })
    }

    fn call(
        &mut self,
        f: unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_int) -> c_int,
        buf: &mut [u8],
        len: usize,
        tail: usize,
    ) -> Result<usize, i32> {
        if len > buf.len() || buf.len() - len < tail {
            return Err(2);
        }
        let mut n = c_int::try_from(len).map_err(|_| 2)?;
        // SAFETY: ctx is a live session; buf holds len octets plus `tail` writable octets,
        // which covers everything libsrtp writes past the packet.
        let rc = unsafe { f(self.ctx, buf.as_mut_ptr().cast(), &mut n) };
        if rc != 0 {
            return Err(rc);
        }
        usize::try_from(n).map_err(|_| 2)
    }

    /// srtp_protect: `buf` needs [`TAIL_ROOM`] octets past `len`.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, i32> {
        self.call(sys::srtp_protect, buf, len, TAIL_ROOM)
    }

    /// srtp_unprotect.
    pub fn unprotect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, i32> {
        self.call(sys::srtp_unprotect, buf, len, 0)
    }

    /// srtp_protect_rtcp: `buf` needs [`TAIL_ROOM`] octets past `len`.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, i32> {
        self.call(sys::srtp_protect_rtcp, buf, len, TAIL_ROOM)
    }

    /// srtp_unprotect_rtcp.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, i32> {
        self.call(sys::srtp_unprotect_rtcp, buf, len, 0)
    }

    /// The rollover counter libsrtp holds for `ssrc`.
    pub fn roc(&self, ssrc: u32) -> Result<u32, i32> {
        let mut roc = 0u32;
        // SAFETY: ctx is a live session and roc a valid out-pointer.
        let rc = unsafe { sys::srtp_get_stream_roc(self.ctx, ssrc, &mut roc) };
        if rc != 0 { Err(rc) } else { Ok(roc) }
    }
}

impl Drop for LibSrtp {
    fn drop(&mut self) {
        // SAFETY: ctx came from srtp_create and is freed once.
        unsafe { sys::srtp_dealloc(self.ctx) };
    }
}
