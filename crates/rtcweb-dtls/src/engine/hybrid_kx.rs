//! X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem), the post-quantum hybrid key share browsers
//! offer first, as a dimpl key-exchange group built from aws-lc-rs's ML-KEM-768 and X25519.
//!
//! Wire layout (the draft, section "X25519MLKEM768"; ML-KEM comes first in this group):
//! - initiator (client) share: ML-KEM-768 encapsulation key (1184) || X25519 public (32);
//! - responder (server) share: ML-KEM-768 ciphertext (1088) || X25519 public (32);
//! - shared secret: ML-KEM shared secret (32) || X25519 shared secret (32).
//!
//! The responder's ML-KEM part is a ciphertext encapsulated to the initiator's key, so it is
//! produced in `complete_as_responder` (the hook of patches/dimpl patch 2), not at start.
//! Every length is checked before anything is parsed; a malformed share is an error, never
//! a panic. No cryptography is done here beyond splitting and joining: aws-lc-rs does it.

use std::sync::OnceLock;

use aws_lc_rs::agreement::{EphemeralPrivateKey, UnparsedPublicKey, X25519, agree_ephemeral};
use aws_lc_rs::kem::{Ciphertext, DecapsulationKey, EncapsulationKey, ML_KEM_768};
use dimpl::crypto::{ActiveKeyExchange, Buf, CryptoProvider, NamedGroup, SupportedKxGroup};
use dimpl::{CryptoError, CryptoOperation};

/// ML-KEM-768 encapsulation key length (FIPS 203).
pub(crate) const MLKEM768_ENCAPSULATION_KEY_LEN: usize = 1184;
/// ML-KEM-768 ciphertext length (FIPS 203).
pub(crate) const MLKEM768_CIPHERTEXT_LEN: usize = 1088;
/// X25519 public key length (RFC 7748).
pub(crate) const X25519_LEN: usize = 32;
/// The client's key share: encapsulation key then X25519 public key (1216 bytes).
pub(crate) const CLIENT_SHARE_LEN: usize = MLKEM768_ENCAPSULATION_KEY_LEN + X25519_LEN;
/// The server's key share: ciphertext then X25519 public key (1120 bytes).
pub(crate) const SERVER_SHARE_LEN: usize = MLKEM768_CIPHERTEXT_LEN + X25519_LEN;

const GROUP: NamedGroup = NamedGroup::X25519MLKEM768;

fn failed(operation: CryptoOperation) -> CryptoError {
    CryptoError::OperationFailed(operation)
}

/// The group, listed in our crypto provider before x25519 and P-256.
#[derive(Debug)]
pub(crate) struct X25519MlKem768;

/// `provider` with X25519MLKEM768 first among its key-exchange groups, then the provider's
/// own (x25519, P-256, P-384 for aws-lc-rs) in their order.
pub(crate) fn with_hybrid_group(provider: CryptoProvider) -> CryptoProvider {
    static GROUPS: OnceLock<Vec<&'static dyn SupportedKxGroup>> = OnceLock::new();
    let groups = GROUPS.get_or_init(|| {
        std::iter::once(&X25519MlKem768 as &'static dyn SupportedKxGroup)
            .chain(
                provider
                    .kx_groups
                    .iter()
                    .copied()
                    .filter(|g| g.name() != GROUP),
            )
            .collect()
    });
    CryptoProvider {
        kx_groups: groups.as_slice(),
        ..provider
    }
}

impl SupportedKxGroup for X25519MlKem768 {
    fn name(&self) -> NamedGroup {
        GROUP
    }

    fn start_exchange(&self, mut buf: Buf) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let decapsulation = DecapsulationKey::generate(&ML_KEM_768)
            .map_err(|_| failed(CryptoOperation::GenerateEphemeralKey))?;
        let x25519 = EphemeralPrivateKey::generate(&X25519, &rng)
            .map_err(|_| failed(CryptoOperation::GenerateEphemeralKey))?;
        let encapsulation = decapsulation
            .encapsulation_key()
            .and_then(|k| k.key_bytes())
            .map_err(|_| failed(CryptoOperation::ComputePublicKey))?;
        let x25519_public = x25519
            .compute_public_key()
            .map_err(|_| failed(CryptoOperation::ComputePublicKey))?;
        buf.clear();
        buf.extend_from_slice(encapsulation.as_ref());
        buf.extend_from_slice(x25519_public.as_ref());
        if buf.len() != CLIENT_SHARE_LEN {
            return Err(failed(CryptoOperation::ComputePublicKey));
        }
        Ok(Box::new(HybridExchange {
            decapsulation,
            x25519,
            share: buf,
        }))
    }
}

/// One handshake's ephemeral keys. As initiator the share is sent and `complete` decapsulates
/// the server's ciphertext; as responder only the X25519 key is used and the ML-KEM key pair
/// generated at start is dropped unused (dimpl starts the exchange before it has the peer's
/// share; generation costs about as much as one encapsulation).
struct HybridExchange {
    decapsulation: DecapsulationKey,
    x25519: EphemeralPrivateKey,
    share: Buf,
}

impl std::fmt::Debug for HybridExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HybridExchange")
            .field("share_len", &self.share.len())
            .finish_non_exhaustive()
    }
}

/// X25519 agreement of `private` with `peer`, appended to `out`. aws-lc-rs rejects the
/// all-zero (non-contributory) result, as RFC 7748 section 6.1 asks.
fn x25519_agree(
    private: EphemeralPrivateKey,
    peer: &[u8],
    out: &mut Buf,
) -> Result<(), CryptoError> {
    agree_ephemeral(
        private,
        UnparsedPublicKey::new(&X25519, peer),
        (),
        |secret| {
            out.extend_from_slice(secret);
            Ok(())
        },
    )
    .map_err(|_| CryptoError::InvalidPublicKey(GROUP))
}

impl ActiveKeyExchange for HybridExchange {
    fn pub_key(&self) -> &[u8] {
        &self.share
    }

    /// Initiator: the server's share is ciphertext || X25519 public key.
    fn complete(self: Box<Self>, peer_pub: &[u8], out: &mut Buf) -> Result<(), CryptoError> {
        if peer_pub.len() != SERVER_SHARE_LEN {
            return Err(CryptoError::InvalidPublicKey(GROUP));
        }
        let (ciphertext, x25519_peer) = peer_pub.split_at(MLKEM768_CIPHERTEXT_LEN);
        let mlkem_secret = self
            .decapsulation
            .decapsulate(Ciphertext::from(ciphertext))
            .map_err(|_| CryptoError::InvalidPublicKey(GROUP))?;
        out.clear();
        out.extend_from_slice(mlkem_secret.as_ref());
        x25519_agree(self.x25519, x25519_peer, out)
    }

    /// Responder: the client's share is encapsulation key || X25519 public key; ours is the
    /// ciphertext encapsulated to it || our X25519 public key.
    fn complete_as_responder(
        self: Box<Self>,
        peer_pub: &[u8],
        our_share: &mut Buf,
        out: &mut Buf,
    ) -> Result<(), CryptoError> {
        if peer_pub.len() != CLIENT_SHARE_LEN {
            return Err(CryptoError::InvalidPublicKey(GROUP));
        }
        let (encapsulation, x25519_peer) = peer_pub.split_at(MLKEM768_ENCAPSULATION_KEY_LEN);
        // aws-lc-rs checks the key (FIPS 203 section 7.2 modulus check) before using it.
        let encapsulation = EncapsulationKey::new(&ML_KEM_768, encapsulation)
            .map_err(|_| CryptoError::InvalidPublicKey(GROUP))?;
        let (ciphertext, mlkem_secret) = encapsulation
            .encapsulate()
            .map_err(|_| failed(CryptoOperation::CompleteKeyExchange))?;
        let x25519_public = self
            .x25519
            .compute_public_key()
            .map_err(|_| failed(CryptoOperation::ComputePublicKey))?;
        out.clear();
        out.extend_from_slice(mlkem_secret.as_ref());
        x25519_agree(self.x25519, x25519_peer, out)?;
        our_share.extend_from_slice(ciphertext.as_ref());
        our_share.extend_from_slice(x25519_public.as_ref());
        Ok(())
    }

    fn group(&self) -> NamedGroup {
        GROUP
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is a failed test
    use super::*;

    fn start() -> Box<dyn ActiveKeyExchange> {
        X25519MlKem768.start_exchange(Buf::new()).unwrap()
    }

    #[test]
    fn initiator_and_responder_agree_on_64_bytes() {
        let (client, server) = (start(), start());
        let client_share = client.pub_key().to_vec();
        assert_eq!(client_share.len(), CLIENT_SHARE_LEN);
        let (mut server_share, mut server_secret) = (Buf::new(), Buf::new());
        server
            .complete_as_responder(&client_share, &mut server_share, &mut server_secret)
            .unwrap();
        assert_eq!(server_share.len(), SERVER_SHARE_LEN);
        let mut client_secret = Buf::new();
        client.complete(&server_share, &mut client_secret).unwrap();
        assert_eq!(client_secret.len(), 64);
        assert_eq!(&client_secret[..], &server_secret[..]);
    }

    #[test]
    fn the_x25519_half_is_a_plain_x25519_agreement() {
        // Layout check against aws-lc-rs's X25519 on its own: the last 32 bytes of the secret
        // are the X25519 agreement of the two shares' last 32 bytes.
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let plain = EphemeralPrivateKey::generate(&X25519, &rng).unwrap();
        let plain_public = plain.compute_public_key().unwrap();
        let client = start();
        let mut fake_server_share = vec![0u8; MLKEM768_CIPHERTEXT_LEN];
        fake_server_share.extend_from_slice(plain_public.as_ref());
        let client_x25519 = client.pub_key()[MLKEM768_ENCAPSULATION_KEY_LEN..].to_vec();
        let mut secret = Buf::new();
        // ML-KEM decapsulation never fails on a well-sized ciphertext (implicit rejection).
        client.complete(&fake_server_share, &mut secret).unwrap();
        let mut expected = Buf::new();
        x25519_agree(plain, &client_x25519, &mut expected).unwrap();
        assert_eq!(&secret[32..], &expected[..]);
    }

    #[test]
    fn wrong_lengths_and_bad_keys_are_errors() {
        let mut out = Buf::new();
        for len in [
            0,
            1,
            SERVER_SHARE_LEN - 1,
            SERVER_SHARE_LEN + 1,
            CLIENT_SHARE_LEN,
        ] {
            assert!(start().complete(&vec![9; len], &mut out).is_err(), "{len}");
        }
        for len in [
            0,
            32,
            CLIENT_SHARE_LEN - 1,
            CLIENT_SHARE_LEN + 1,
            SERVER_SHARE_LEN,
        ] {
            let mut share = Buf::new();
            assert!(
                start()
                    .complete_as_responder(&vec![9; len], &mut share, &mut out)
                    .is_err(),
                "{len}"
            );
            assert!(share.is_empty());
        }
        // An encapsulation key with coefficients >= q fails the modulus check.
        let mut share = Buf::new();
        assert!(
            start()
                .complete_as_responder(&[0xFF; CLIENT_SHARE_LEN], &mut share, &mut out)
                .is_err()
        );
        assert!(share.is_empty());
    }
}
