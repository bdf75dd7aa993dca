//! The two directions of a connection, named before anyone knows which end
//! is the client.

use std::ops::{Index, IndexMut};

/// Which way a segment travels, relative to the connection's first
/// captured segment. Per-direction state is a `[T; 2]` indexed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// The way the first captured segment went.
    Original,
    /// Back towards the first segment's sender.
    Reply,
}

impl Dir {
    /// Both directions, in index order.
    pub const BOTH: [Dir; 2] = [Dir::Original, Dir::Reply];

    /// The other direction.
    #[inline]
    pub fn peer(self) -> Dir {
        match self {
            Dir::Original => Dir::Reply,
            Dir::Reply => Dir::Original,
        }
    }

    /// This direction's entry of `pair` and its peer's, both mutable.
    #[inline]
    pub fn split<T>(self, pair: &mut [T; 2]) -> (&mut T, &mut T) {
        let [original, reply] = pair;
        match self {
            Dir::Original => (original, reply),
            Dir::Reply => (reply, original),
        }
    }
}

impl<T> Index<Dir> for [T; 2] {
    type Output = T;
    #[inline]
    fn index(&self, dir: Dir) -> &T {
        &self[dir as usize]
    }
}

impl<T> IndexMut<Dir> for [T; 2] {
    #[inline]
    fn index_mut(&mut self, dir: Dir) -> &mut T {
        &mut self[dir as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_direction_indexes_its_own_entry_and_its_peer_the_other() {
        let mut pair = ["original", "reply"];
        for dir in Dir::BOTH {
            assert_eq!(dir.peer().peer(), dir);
            assert_ne!(pair[dir], pair[dir.peer()]);
            let (mine, theirs) = dir.split(&mut pair);
            assert_eq!((*mine, *theirs), (pair_of(dir), pair_of(dir.peer())));
        }
        pair[Dir::Reply] = "changed";
        assert_eq!(pair, ["original", "changed"]);
    }

    fn pair_of(dir: Dir) -> &'static str {
        match dir {
            Dir::Original => "original",
            Dir::Reply => "reply",
        }
    }
}
