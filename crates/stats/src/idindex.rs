//! Open-addressing index from person id bytes to the person's dense index and first
//! observation period, built for the events hot loop. Slots are 32 bytes: ids of up to 16
//! bytes are stored inline, longer ones in a side list borrowing the people buffer; a
//! single-period person's start day and length sit in the same slot, so looking up an event
//! usually touches one slot and no other memory.
//!
//! Only for the file readers; it must never be used for anything but exact id matching.

use std::hash::Hasher;

use crate::hash::FxHasher;

const LONG: u8 = 1;
const SINGLE: u8 = 2;

/// One slot (32 bytes).
#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct Slot {
    /// Inline id bytes (zero padded), or for long ids the first 8 bytes then the index into
    /// the side list (little endian u32).
    key: [u8; 16],
    /// Low 32 bits of the hash, never 0 in an occupied slot.
    tag: u32,
    /// Id length for inline ids.
    len: u8,
    /// `LONG` | `SINGLE`.
    flags: u8,
    /// end − start of the first period when `SINGLE`.
    span: u16,
    /// While building: the dense person index. After [`IdIndex::set_periods`]: the first of
    /// the person's periods (periods of a person are contiguous).
    pub period: u32,
    /// Start day of the first period.
    pub start: i32,
}

const EMPTY: Slot = Slot {
    key: [0; 16],
    tag: 0,
    len: 0,
    flags: 0,
    span: 0,
    period: 0,
    start: 0,
};

impl Slot {
    /// When the person has exactly one period: whether `day` falls in it, as its index.
    /// `None` means "look the person's periods up".
    #[inline]
    pub fn single_period(&self, day: i32) -> Option<Option<u32>> {
        if self.flags & SINGLE == 0 {
            return None;
        }
        let off = i64::from(day) - i64::from(self.start);
        Some((off >= 0 && off <= i64::from(self.span)).then_some(self.period))
    }
}

/// The index.
pub(crate) struct IdIndex<'a> {
    slots: Vec<Slot>,
    long: Vec<&'a [u8]>,
    mask: usize,
    len: usize,
}

#[inline]
fn hash_of(id: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(id);
    h.finish()
}

impl<'a> IdIndex<'a> {
    /// An index sized for about `n` people (load factor at most 3/4).
    pub fn with_capacity(n: usize) -> Self {
        let cap = (n.max(8) * 4 / 3 + 1).next_power_of_two();
        IdIndex {
            slots: vec![EMPTY; cap],
            long: Vec::new(),
            mask: cap - 1,
            len: 0,
        }
    }

    /// Number of people.
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn matches(&self, s: &Slot, tag: u32, id: &[u8]) -> bool {
        if s.tag != tag {
            return false;
        }
        if s.flags & LONG != 0 {
            let i = u32::from_le_bytes([s.key[8], s.key[9], s.key[10], s.key[11]]) as usize;
            self.long[i] == id
        } else {
            usize::from(s.len) == id.len() && &s.key[..id.len()] == id
        }
    }

    /// Tag (never 0) and first probe position.
    #[inline]
    fn probe(&self, id: &[u8]) -> (u32, usize) {
        let h = hash_of(id);
        ((h as u32) | 1, (h >> 32) as usize & self.mask)
    }

    /// The person index of `id`, adding it (with the next index) if new.
    pub fn get_or_insert(&mut self, id: &'a [u8]) -> u32 {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let (tag, mut i) = self.probe(id);
        loop {
            let s = &self.slots[i];
            if s.tag == 0 {
                let mut slot = Slot {
                    tag,
                    period: self.len as u32,
                    ..EMPTY
                };
                if id.len() <= 16 {
                    slot.key[..id.len()].copy_from_slice(id);
                    slot.len = id.len() as u8;
                } else {
                    slot.key[..8].copy_from_slice(&id[..8]);
                    slot.key[8..12].copy_from_slice(&(self.long.len() as u32).to_le_bytes());
                    slot.flags = LONG;
                    self.long.push(id);
                }
                self.slots[i] = slot;
                self.len += 1;
                return slot.period;
            }
            if self.matches(s, tag, id) {
                return s.period;
            }
            i = (i + 1) & self.mask;
        }
    }

    fn grow(&mut self) {
        let new_len = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; new_len]);
        self.mask = new_len - 1;
        for s in old.into_iter().filter(|s| s.tag != 0) {
            let id: &[u8] = if s.flags & LONG != 0 {
                self.long[u32::from_le_bytes([s.key[8], s.key[9], s.key[10], s.key[11]]) as usize]
            } else {
                &s.key[..usize::from(s.len)]
            };
            let (_, mut i) = self.probe(id);
            while self.slots[i].tag != 0 {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = s;
        }
    }

    /// The slot of `id`, if present.
    #[inline]
    pub fn get(&self, id: &[u8]) -> Option<&Slot> {
        let (tag, mut i) = self.probe(id);
        loop {
            let s = &self.slots[i];
            if s.tag == 0 {
                return None;
            }
            if self.matches(s, tag, id) {
                return Some(s);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Records where each person's periods are: `periods[person_start[g]..person_start[g+1]]`
    /// with `(start, end)` days from `dates`. Afterwards `Slot::period` is the first period.
    pub fn set_periods(&mut self, person_start: &[u32], dates: impl Fn(usize) -> (i32, i32)) {
        for s in self.slots.iter_mut().filter(|s| s.tag != 0) {
            let g = s.period as usize;
            let first = person_start[g];
            let n = person_start[g + 1] - first;
            s.period = first;
            if n > 0 {
                let (start, end) = dates(first as usize);
                s.start = start;
                if n == 1 && end - start <= i32::from(u16::MAX) {
                    s.span = (end - start) as u16;
                    s.flags |= SINGLE;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_32_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
    }

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
            assert_eq!(idx.get(id.as_bytes()).unwrap().period as usize, i);
        }
        assert_eq!(idx.len(), 5000);
        assert!(idx.get(b"P5000").is_none());
        assert!(idx.get(b"").is_none());
        assert!(
            idx.get(b"P1\0").is_none(),
            "padding must not make P1 and P1\\0 equal"
        );
        assert!(idx.get(b"a-much-longer-person-identifier-1").is_none());
    }

    #[test]
    fn single_period_lookup() {
        let mut idx = IdIndex::with_capacity(4);
        idx.get_or_insert(b"A"); // person 0: one period, days 100..=200
        idx.get_or_insert(b"B"); // person 1: two periods
        idx.get_or_insert(b"C"); // person 2: one very long period
        let starts = [0u32, 1, 3, 4];
        let dates = [(100, 200), (10, 20), (30, 40), (0, 70_000)];
        idx.set_periods(&starts, |i| dates[i]);
        let a = idx.get(b"A").unwrap();
        assert_eq!(a.single_period(99), Some(None));
        assert_eq!(a.single_period(100), Some(Some(0)));
        assert_eq!(a.single_period(200), Some(Some(0)));
        assert_eq!(a.single_period(201), Some(None));
        assert_eq!(a.single_period(i32::MIN), Some(None));
        assert_eq!(idx.get(b"B").unwrap().single_period(15), None);
        assert_eq!(idx.get(b"B").unwrap().period, 1);
        assert_eq!(
            idx.get(b"C").unwrap().single_period(5),
            None,
            "span too long for the slot"
        );
    }
}
