//! Reads the `key: value` record files in tests/data (format: /work/shared/vectors/README.md).
#![allow(dead_code)]

use std::collections::HashMap;

/// One record: its keys and values.
pub struct Record(pub HashMap<String, String>);

impl Record {
    pub fn name(&self) -> &str {
        self.str("name")
    }

    pub fn str(&self, key: &str) -> &str {
        self.0
            .get(key)
            .unwrap_or_else(|| panic!("{}: no key {key}", self.0["name"]))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn hex(&self, key: &str) -> Vec<u8> {
        hex(self.str(key))
    }

    pub fn int(&self, key: &str) -> u64 {
        let v = self.str(key);
        match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap(),
            None => v.parse().unwrap(),
        }
    }
}

pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Every record of a vector file.
pub fn records(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let map: HashMap<String, String> = block
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let (k, v) = l.split_once(": ").unwrap_or_else(|| panic!("bad line {l}"));
                (k.to_string(), v.to_string())
            })
            .collect();
        if !map.is_empty() {
            assert!(map.contains_key("name"), "record without name");
            out.push(Record(map));
        }
    }
    out
}

pub fn by_name<'a>(records: &'a [Record], name: &str) -> &'a Record {
    records
        .iter()
        .find(|r| r.name() == name)
        .unwrap_or_else(|| panic!("no record {name}"))
}

pub const RFC3711: &str = include_str!("../data/rfc3711-srtp.txt");
pub const RFC6188: &str = include_str!("../data/rfc6188-srtp.txt");
pub const RFC7714: &str = include_str!("../data/rfc7714-gcm.txt");
pub const LIBSRTP: &str = include_str!("../data/libsrtp-cross.txt");
