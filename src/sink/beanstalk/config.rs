//! [`BeanstalkConfig`]: where the Beanstalk sink puts jobs and with which
//! job parameters.
//!
//! The defaults are the osTicket plugin's, so a configuration that names
//! only `type = "beanstalk"` puts jobs where the plugin put them. The
//! configuration loader fills this struct from the `[sink]` table (keys
//! `host`, `port`, `tube`, `priority`, `delay`, `ttr`, `timeout_secs`,
//! `max_in_flight`) and calls [`BeanstalkConfig::validate`]; the sink
//! validates again, so a hand-built value cannot reach the wire unchecked.

use std::time::Duration;

use super::protocol::{DEFAULT_TUBE, check_tube_name};

/// Largest `max_in_flight`: more buys nothing on a local network and holds
/// that many unacknowledged jobs that a lost connection may duplicate.
pub const MAX_IN_FLIGHT_LIMIT: usize = 100_000;

/// Where and how the Beanstalk sink puts jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeanstalkConfig {
    /// beanstalkd's host name or address (`host`; default `127.0.0.1`).
    pub host: String,
    /// beanstalkd's TCP port (`port`; default 11300).
    pub port: u16,
    /// The tube jobs go to (`tube`; default `default`).
    pub tube: String,
    /// Job priority, 0 most urgent (`priority`; default 1024, 0..2^32-1).
    pub priority: u64,
    /// Seconds before a job becomes ready (`delay`; default 0, 0..2^32-1).
    pub delay: u64,
    /// Seconds a worker may hold a job (`ttr`; default 60, 1..2^32-1).
    pub ttr: u64,
    /// Seconds to wait for the connection, and then for each reply or
    /// write, before the connection counts as lost (`timeout_secs`;
    /// default 10).
    pub timeout_secs: u64,
    /// Most `put`s written before their replies are read (`max_in_flight`;
    /// default 512). Also the most jobs a lost connection can duplicate.
    pub max_in_flight: usize,
}

impl Default for BeanstalkConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 11300,
            tube: DEFAULT_TUBE.to_owned(),
            priority: 1024,
            delay: 0,
            ttr: 60,
            timeout_secs: 10,
            max_in_flight: 512,
        }
    }
}

impl BeanstalkConfig {
    /// Checks every value against what beanstalkd accepts.
    ///
    /// # Errors
    ///
    /// A message naming the first bad key (as `sink.KEY`), its value, and
    /// what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("sink.host is empty: name beanstalkd's host, e.g. \"127.0.0.1\"".into());
        }
        if self.port == 0 {
            return Err(
                "sink.port = 0 is not a TCP port: use 1..65535 (beanstalkd's is 11300)".into(),
            );
        }
        if let Err(why) = check_tube_name(&self.tube) {
            return Err(format!(
                "sink.tube = {:?} is not a beanstalkd tube name: {why}",
                self.tube
            ));
        }
        let u32_max = u64::from(u32::MAX);
        for (key, value, min) in [
            ("priority", self.priority, 0),
            ("delay", self.delay, 0),
            ("ttr", self.ttr, 1),
        ] {
            if !(min..=u32_max).contains(&value) {
                return Err(format!(
                    "sink.{key} = {value} is out of range: beanstalkd takes {min}..{u32_max}"
                ));
            }
        }
        if self.timeout_secs == 0 {
            return Err("sink.timeout_secs = 0: give at least 1 second".into());
        }
        if !(1..=MAX_IN_FLIGHT_LIMIT).contains(&self.max_in_flight) {
            return Err(format!(
                "sink.max_in_flight = {} is out of range: use 1..{MAX_IN_FLIGHT_LIMIT}",
                self.max_in_flight
            ));
        }
        Ok(())
    }

    /// `host:port`, as errors and logs show it.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The connection and I/O timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(change: impl FnOnce(&mut BeanstalkConfig)) -> Result<(), String> {
        let mut config = BeanstalkConfig::default();
        change(&mut config);
        config.validate()
    }

    #[test]
    fn defaults_are_the_plugins_and_valid() {
        let config = BeanstalkConfig::default();
        assert_eq!(config.address(), "127.0.0.1:11300");
        assert_eq!(config.tube, "default");
        assert_eq!((config.priority, config.delay, config.ttr), (1024, 0, 60));
        assert_eq!((config.timeout_secs, config.max_in_flight), (10, 512));
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn tube_names_follow_beanstalkd_rules() {
        for good in ["a", "tickets.created", "x+y/z;w.$_(1)-2", &"t".repeat(200)] {
            assert_eq!(with(|c| c.tube = good.to_owned()), Ok(()), "{good}");
        }
        assert_eq!(
            with(|c| c.tube = "-x".into()),
            Err("sink.tube = \"-x\" is not a beanstalkd tube name: it starts with `-`".into())
        );
        assert_eq!(
            with(|c| c.tube = String::new()),
            Err("sink.tube = \"\" is not a beanstalkd tube name: it is empty".into())
        );
        assert_eq!(
            with(|c| c.tube = "a b".into()),
            Err(
                "sink.tube = \"a b\" is not a beanstalkd tube name: it contains ' '; only \
                 letters, digits and `+ / ; . $ _ ( ) -` are allowed"
                    .into()
            )
        );
        let long = with(|c| c.tube = "t".repeat(201)).unwrap_err();
        assert!(long.ends_with("it is 201 characters long, more than the 200 beanstalkd accepts"));
        assert!(with(|c| c.tube = "tickets\r\nput".into()).is_err());
        assert!(with(|c| c.tube = "é".into()).is_err());
    }

    #[test]
    fn job_parameters_are_checked_against_u32() {
        assert_eq!(with(|c| c.priority = u64::from(u32::MAX)), Ok(()));
        assert_eq!(with(|c| c.delay = u64::from(u32::MAX)), Ok(()));
        assert_eq!(with(|c| c.ttr = 1), Ok(()));
        assert_eq!(
            with(|c| c.priority = 1 << 32),
            Err(
                "sink.priority = 4294967296 is out of range: beanstalkd takes 0..4294967295".into()
            )
        );
        assert_eq!(
            with(|c| c.delay = 1 << 32),
            Err("sink.delay = 4294967296 is out of range: beanstalkd takes 0..4294967295".into())
        );
        assert_eq!(
            with(|c| c.ttr = 0),
            Err("sink.ttr = 0 is out of range: beanstalkd takes 1..4294967295".into())
        );
    }

    #[test]
    fn connection_settings_are_checked() {
        assert!(
            with(|c| c.host = " ".into())
                .unwrap_err()
                .starts_with("sink.host is empty")
        );
        assert!(
            with(|c| c.port = 0)
                .unwrap_err()
                .starts_with("sink.port = 0")
        );
        assert!(
            with(|c| c.timeout_secs = 0)
                .unwrap_err()
                .starts_with("sink.timeout_secs = 0")
        );
        assert_eq!(
            with(|c| c.max_in_flight = 0),
            Err("sink.max_in_flight = 0 is out of range: use 1..100000".into())
        );
        assert_eq!(with(|c| c.max_in_flight = 1), Ok(()));
        let v6 = BeanstalkConfig {
            host: "::1".into(),
            ..BeanstalkConfig::default()
        };
        assert_eq!(v6.address(), "[::1]:11300");
    }
}
