//! Transparent huge pages for dfh's heap: with 4 KiB pages, decoding a state of 10,000
//! experiments costs some 4,300 page faults (a quarter of `dfh status` on a virtual machine);
//! with 2 MiB pages, about 700. At start-up the heap is grown once, by 32 MiB of address space
//! (nothing is touched, so nothing is spent), and that range is marked `MADV_HUGEPAGE`; where
//! the kernel offers no huge pages this changes nothing.

/// How much heap is set aside at once.
const RESERVE: usize = 32 << 20;

/// Grows the heap by `RESERVE` at once and asks for huge pages on it. Best effort.
pub fn prefer_huge_pages() {
    // SAFETY: mallopt and sbrk(0) only read or tune the allocator's own state; the malloc'd
    // block is freed at once; madvise only advises on the process's own heap range, which
    // glibc keeps mapped (M_TRIM_THRESHOLD is raised so it is not given back).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, RESERVE as libc::c_int);
        libc::mallopt(libc::M_TRIM_THRESHOLD, (RESERVE * 2) as libc::c_int);
        libc::mallopt(libc::M_TOP_PAD, RESERVE as libc::c_int);
        // A block bigger than what is left of the heap makes it grow now, by RESERVE more.
        let block = libc::malloc(RESERVE / 2);
        if block.is_null() {
            return;
        }
        let end = libc::sbrk(0) as usize;
        libc::free(block);
        let huge = 2 << 20;
        let start = (block as usize).next_multiple_of(huge);
        if end != usize::MAX && end > start + huge {
            let length = (end - start) / huge * huge;
            libc::madvise(start as *mut libc::c_void, length, libc::MADV_HUGEPAGE);
        }
    }
}
