//! The fuzzer's bytes read as a sequence of choices, the way the structure-aware harnesses
//! (`wire_request`, `partiql`) turn a few bytes into a request or a statement that looks
//! real: each choice takes a byte or two, and past the end every choice is its first option,
//! so a short input still makes a whole (simple) case and libFuzzer's mutations of one byte
//! change one choice.

/// The fuzzer's bytes read as choices; past the end every choice is its first option.
pub(super) struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// The choices `bytes` make.
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Input { bytes }
    }

    /// The next byte, 0 past the end.
    pub(super) fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((&b, rest)) => {
                self.bytes = rest;
                b
            }
            None => 0,
        }
    }

    /// A number below `n` (at most 65,536).
    pub(super) fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let raw = if n <= 256 {
            usize::from(self.byte())
        } else {
            usize::from(self.byte()) << 8 | usize::from(self.byte())
        };
        raw % n
    }

    /// True `percent` times in a hundred, roughly.
    pub(super) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// True `percent` times in a hundred, roughly, and false past the end of the input (so
    /// that a short input, or a written seed, takes the usual way).
    pub(super) fn rarely(&mut self, percent: usize) -> bool {
        self.below(100) >= 100 - percent.min(100)
    }

    /// One of `options` (not empty).
    pub(super) fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[self.below(options.len())]
    }

    /// Up to `max` bytes of the input, their length first.
    pub(super) fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        let len = len.min(self.bytes.len());
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        taken.to_vec()
    }

    /// Up to `max` bytes of the input as text (invalid UTF-8 replaced).
    pub(super) fn text(&mut self, max: usize) -> String {
        String::from_utf8_lossy(&self.bytes(max)).into_owned()
    }

    /// Whatever is left of the input.
    pub(super) fn rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes).to_vec()
    }

    /// Whether every byte has been taken.
    pub(super) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}
