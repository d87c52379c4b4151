//! Command-line pieces that several examples take the same way, for `#[command(flatten)]`
//! into their `clap` derive structs.

use rtcweb::IceServer;

/// `--ice-server URL`, repeatable: STUN and TURN servers for ICE.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IceServerArgs {
    /// A STUN or TURN server: `stun:HOST:PORT`, or
    /// `turn:USER:PASS@HOST:PORT[?transport=tcp]` (`turns:` likewise). Repeatable.
    #[arg(long = "ice-server", value_name = "URL", value_parser = crate::ice_servers::parse)]
    pub ice_servers: Vec<IceServer>,
}

/// Parses a number of seconds that must be positive and finite (fractions allowed).
pub fn positive_seconds(arg: &str) -> Result<std::time::Duration, crate::Error> {
    let secs: f64 = arg
        .parse()
        .map_err(|e| crate::Error::BadValue(format!("{arg}: {e}")))?;
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(crate::Error::BadValue(format!("{arg}: must be positive")));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Probe {
        #[command(flatten)]
        ice: IceServerArgs,
    }

    #[test]
    fn ice_servers_repeat_and_bad_ones_are_refused() {
        let p = Probe::try_parse_from([
            "probe",
            "--ice-server",
            "stun:127.0.0.1:3478",
            "--ice-server",
            "turn:a:b@127.0.0.1:3478",
        ])
        .unwrap();
        assert_eq!(p.ice.ice_servers.len(), 2);
        let e = Probe::try_parse_from(["probe", "--ice-server", "turn:127.0.0.1"])
            .err()
            .unwrap();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("USER:PASSWORD"), "{e}");
    }

    #[test]
    fn seconds_are_positive() {
        assert_eq!(positive_seconds("1.5").unwrap().as_millis(), 1500);
        for bad in ["0", "-1", "inf", "NaN", "x"] {
            assert!(positive_seconds(bad).is_err(), "{bad}");
        }
    }
}
