//! The worker's global allocator: mimalloc when serving queues, the system
//! allocator when the binary runs as the document extractor.
//!
//! A worker allocates and frees many small objects per job on several threads
//! (claim replies, tasks, acks); with glibc malloc that was ~17 % of a drain's
//! worker CPU, and mimalloc cut the worker's CPU per job by about a quarter
//! (bench/RESULTS.md). The extractor (`worker extract`, spawned by
//! `documents.extract` under RLIMIT_AS) keeps glibc: mimalloc reserves and
//! aligns address space generously, so under the same address-space limit an
//! OCR that fits with glibc would fail.
//!
//! The choice is made at the process's first allocation, before any thread
//! starts, from `/proc/self/cmdline` read with plain syscalls into a stack
//! buffer (nothing allocates while deciding), and never changes, so every
//! block is freed by the allocator that made it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

pub struct WorkerAlloc {
    mode: AtomicU8,
}

impl WorkerAlloc {
    pub const fn new() -> WorkerAlloc {
        WorkerAlloc {
            mode: AtomicU8::new(UNDECIDED),
        }
    }

    fn mimalloc(&self) -> bool {
        let mut mode = self.mode.load(Ordering::Relaxed);
        if mode == UNDECIDED {
            // Deterministic: threads racing here (there are none yet) agree.
            mode = if first_arg_is(b"extract") {
                SYSTEM
            } else {
                MIMALLOC
            };
            self.mode.store(mode, Ordering::Relaxed);
        }
        mode == MIMALLOC
    }
}

/// Whether the process's first argument (after the program) is `want`.
fn first_arg_is(want: &[u8]) -> bool {
    let mut buf = [0u8; 512];
    // SAFETY: a NUL-terminated path, a stack buffer of the length given, and
    // the descriptor closed on every path; nothing here allocates.
    let n = unsafe {
        let fd = libc::open(
            c"/proc/self/cmdline".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return false;
        }
        let n = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
        libc::close(fd);
        n
    };
    if n <= 0 {
        return false;
    }
    second_field(&buf[..n as usize]) == Some(want)
}

/// The second NUL-terminated field of a `/proc/<pid>/cmdline` image.
fn second_field(cmdline: &[u8]) -> Option<&[u8]> {
    let mut fields = cmdline.split(|b| *b == 0);
    fields.next()?;
    fields.next()
}

// SAFETY: every call goes to one allocator for the whole life of the process
// (decided before the first block, see above), which upholds GlobalAlloc's
// contract itself.
unsafe impl GlobalAlloc for WorkerAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.mimalloc() {
            mimalloc::MiMalloc.alloc(layout)
        } else {
            System.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if self.mimalloc() {
            mimalloc::MiMalloc.alloc_zeroed(layout)
        } else {
            System.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.mimalloc() {
            mimalloc::MiMalloc.dealloc(ptr, layout)
        } else {
            System.dealloc(ptr, layout)
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.mimalloc() {
            mimalloc::MiMalloc.realloc(ptr, layout, new_size)
        } else {
            System.realloc(ptr, layout, new_size)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_is_read_from_the_first_argument() {
        assert_eq!(
            second_field(b"/bin/worker\0extract\0--no-ocr\0f.pdf\0"),
            Some(&b"extract"[..])
        );
        assert_eq!(
            second_field(b"worker\0--queues\0a\0"),
            Some(&b"--queues"[..])
        );
        assert_eq!(second_field(b"worker\0"), Some(&b""[..]));
        assert_eq!(second_field(b""), None);
        // A test binary is not the extractor: it gets mimalloc.
        assert!(!first_arg_is(b"extract"));
        let a = WorkerAlloc::new();
        assert!(a.mimalloc());
        let v: Vec<u64> = (0..1000).collect();
        assert_eq!(v.iter().sum::<u64>(), 499_500);
    }
}
