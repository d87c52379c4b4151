//! The crate's error type.

/// Errors of the server's configuration and credential stores. Wire input never produces an
/// error value: bad datagrams are answered per the RFCs or dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A line of a user file could not be read.
    #[error("user file line {line}: {reason}")]
    UserFile {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A password was rejected by SASLprep (RFC 4013).
    #[error("password rejected by SASLprep")]
    SaslPrep,
    /// An OAuth key has a length that matches no AS-RS algorithm (16 or 32 octets).
    #[error("OAuth key of {0} octets: expected 16 (A128GCM) or 32 (A256GCM)")]
    OAuthKeyLength(usize),
    /// The configuration is inconsistent.
    #[error("configuration: {0}")]
    Config(&'static str),
}

impl Error {
    /// What kind of problem this is: every variant is the operator's configuration.
    pub fn category(&self) -> rtcweb_core::ErrorCategory {
        match self {
            Error::UserFile { .. }
            | Error::SaslPrep
            | Error::OAuthKeyLength(_)
            | Error::Config(_) => rtcweb_core::ErrorCategory::Config,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = core::result::Result<T, Error>;
