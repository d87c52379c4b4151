//! The relay port pool of one relay IP: which ports of the configured range are taken, and a
//! random choice among the free ones (RFC 8656 section 7.2 asks for unpredictable ports).

use rtcweb_core::Rng;

/// A bitmap of the taken ports of `min..=max` (8 KiB at most).
#[derive(Debug)]
pub(crate) struct PortPool {
    min: u16,
    max: u16,
    taken: Vec<u64>,
    used: usize,
}

impl PortPool {
    pub(crate) fn new(min: u16, max: u16) -> Self {
        let n = usize::from(max - min) + 1;
        PortPool {
            min,
            max,
            taken: vec![0; n.div_ceil(64)],
            used: 0,
        }
    }

    fn index(&self, port: u16) -> Option<usize> {
        (self.min..=self.max)
            .contains(&port)
            .then(|| usize::from(port - self.min))
    }

    pub(crate) fn is_taken(&self, port: u16) -> bool {
        self.index(port)
            .and_then(|i| self.taken.get(i / 64).map(|w| w & (1 << (i % 64)) != 0))
            .unwrap_or(true)
    }

    pub(crate) fn take(&mut self, port: u16) {
        if let Some(i) = self.index(port)
            && let Some(w) = self.taken.get_mut(i / 64)
            && *w & (1 << (i % 64)) == 0
        {
            *w |= 1 << (i % 64);
            self.used += 1;
        }
    }

    pub(crate) fn release(&mut self, port: u16) {
        if let Some(i) = self.index(port)
            && let Some(w) = self.taken.get_mut(i / 64)
            && *w & (1 << (i % 64)) != 0
        {
            *w &= !(1 << (i % 64));
            self.used -= 1;
        }
    }

    fn size(&self) -> usize {
        usize::from(self.max - self.min) + 1
    }

    /// A free port (even if `even`; with `pair` also the next port free), marked taken with
    /// its pair. Starts at a random place and walks the range once.
    pub(crate) fn pick(&mut self, rng: &mut Rng, even: bool, pair: bool) -> Option<u16> {
        let size = self.size();
        if self.used >= size {
            return None;
        }
        let start = rng.next_u32() as usize % size;
        for k in 0..size {
            let port = self.min + ((start + k) % size) as u16;
            if even && !port.is_multiple_of(2) {
                continue;
            }
            if self.is_taken(port) {
                continue;
            }
            if pair && (port == self.max || self.is_taken(port + 1)) {
                continue;
            }
            self.take(port);
            if pair {
                self.take(port + 1);
            }
            return Some(port);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_free_ports_until_full() {
        let mut rng = Rng::new([1; 32]);
        let mut p = PortPool::new(50000, 50009);
        let mut got = Vec::new();
        while let Some(port) = p.pick(&mut rng, false, false) {
            got.push(port);
        }
        got.sort();
        assert_eq!(got, (50000..=50009).collect::<Vec<_>>());
        p.release(50003);
        assert_eq!(p.pick(&mut rng, false, false), Some(50003));
        assert_eq!(p.pick(&mut rng, false, false), None);

        let mut p = PortPool::new(50001, 50006);
        for _ in 0..2 {
            let port = p.pick(&mut rng, true, true).unwrap();
            assert_eq!(port % 2, 0);
            assert!(p.is_taken(port) && p.is_taken(port + 1));
        }
        // 50002/3 and 50004/5 are the only even pairs.
        assert_eq!(p.pick(&mut rng, true, true), None);
        assert_eq!(p.pick(&mut rng, true, false), Some(50006));
        assert!(p.is_taken(70));
    }
}
