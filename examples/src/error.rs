//! The one error type of the examples library.

/// What can go wrong in the shared helpers, by what the user can do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A command-line value that cannot be used as given: the user corrects it.
    #[error("{0}")]
    BadValue(String),
    /// A host name that did not resolve, or resolved to no address: check the name or DNS.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// What was looked up (`HOST:PORT`).
        host: String,
        /// What the resolver said.
        #[source]
        source: std::io::Error,
    },
    /// The operating system refused what a program needs from it (a signal handler, a
    /// socket): nothing the arguments can change.
    #[error("{what}: {source}")]
    Os {
        /// What was asked for.
        what: &'static str,
        /// The system's answer.
        #[source]
        source: std::io::Error,
    },
    /// The operating system has no random source: keys and seeds cannot be made safely,
    /// and a fixed or time-based fallback would make them predictable.
    #[error("no randomness from the operating system: {0}")]
    NoRandomness(#[source] getrandom::Error),
}
