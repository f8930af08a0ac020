//! Open-addressing index from person id bytes to the person's dense index and first
//! observation period, built for the events hot loop: ids of up to 16 bytes are stored inline
//! and a single-period person's dates sit in the same slot, so looking up an event usually
//! touches one slot and no other memory. Longer ids borrow the people buffer.
//!
//! Only for the file readers; it must never be used for anything but exact id matching.

use std::hash::Hasher;

use crate::hash::FxHasher;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key<'a> {
    Empty,
    Inline { len: u8, bytes: [u8; 16] },
    Long(&'a [u8]),
}

/// One occupied slot: who the person is and where their periods are.
#[derive(Clone, Copy)]
pub(crate) struct Slot<'a> {
    hash: u64,
    key: Key<'a>,
    /// Dense person index (order of first appearance).
    pub person: u32,
    /// First of the person's periods (periods of a person are contiguous).
    pub period: u32,
    /// Number of periods.
    pub nper: u32,
    /// Start and end day of the first period.
    pub start: i32,
    pub end: i32,
}

const EMPTY: Slot<'static> = Slot {
    hash: 0,
    key: Key::Empty,
    person: 0,
    period: 0,
    nper: 0,
    start: 0,
    end: 0,
};

/// The index.
pub(crate) struct IdIndex<'a> {
    slots: Vec<Slot<'a>>,
    mask: usize,
    len: usize,
}

#[inline]
fn key_of(id: &[u8]) -> Key<'_> {
    if id.len() <= 16 {
        let mut bytes = [0u8; 16];
        bytes[..id.len()].copy_from_slice(id);
        Key::Inline {
            len: id.len() as u8,
            bytes,
        }
    } else {
        Key::Long(id)
    }
}

#[inline]
fn hash_of(id: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(id);
    h.finish() | 1
}

impl<'a> IdIndex<'a> {
    /// An index sized for about `n` people (load factor at most 3/4).
    pub fn with_capacity(n: usize) -> Self {
        let cap = (n.max(8) * 4 / 3 + 1).next_power_of_two();
        IdIndex {
            slots: vec![EMPTY; cap],
            mask: cap - 1,
            len: 0,
        }
    }

    /// Number of people.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The person index of `id`, adding it (with the next index) if new.
    pub fn get_or_insert(&mut self, id: &'a [u8]) -> u32 {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let h = hash_of(id);
        let key = key_of(id);
        let mut i = h as usize & self.mask;
        loop {
            let s = &mut self.slots[i];
            if s.hash == 0 {
                *s = Slot {
                    hash: h,
                    key,
                    person: self.len as u32,
                    ..EMPTY
                };
                self.len += 1;
                return s.person;
            }
            if s.hash == h && s.key == key {
                return s.person;
            }
            i = (i + 1) & self.mask;
        }
    }

    fn grow(&mut self) {
        let new_len = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; new_len]);
        self.mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|s| s.hash != 0) {
            let mut i = s.hash as usize & self.mask;
            while self.slots[i].hash != 0 {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = s;
        }
    }

    /// The slot of `id`, if present.
    #[inline]
    pub fn get(&self, id: &[u8]) -> Option<&Slot<'a>> {
        let h = hash_of(id);
        let key = key_of(id);
        let mut i = h as usize & self.mask;
        loop {
            let s = &self.slots[i];
            if s.hash == 0 {
                return None;
            }
            if s.hash == h && s.key == key {
                return Some(s);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Records where each person's periods are: `periods[person_start[g]..person_start[g+1]]`
    /// with `(start, end)` days from `dates`.
    pub fn set_periods(&mut self, person_start: &[u32], dates: impl Fn(usize) -> (i32, i32)) {
        for s in self.slots.iter_mut().filter(|s| s.hash != 0) {
            let g = s.person as usize;
            s.period = person_start[g];
            s.nper = person_start[g + 1] - person_start[g];
            if s.nper > 0 {
                (s.start, s.end) = dates(s.period as usize);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_finds_and_grows() {
        let ids: Vec<String> = (0..5000)
            .map(|i| {
                if i % 3 == 0 {
                    format!("a-much-longer-person-identifier-{i}")
                } else {
                    format!("P{i}")
                }
            })
            .collect();
        let mut idx = IdIndex::with_capacity(4);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(idx.get_or_insert(id.as_bytes()) as usize, i);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(idx.get_or_insert(id.as_bytes()) as usize, i);
            assert_eq!(idx.get(id.as_bytes()).unwrap().person as usize, i);
        }
        assert_eq!(idx.len(), 5000);
        assert!(idx.get(b"P5000").is_none());
        assert!(idx.get(b"").is_none());
        assert!(
            idx.get(b"P1\0").is_none(),
            "padding must not make P1 and P1\\0 equal"
        );
    }
}
