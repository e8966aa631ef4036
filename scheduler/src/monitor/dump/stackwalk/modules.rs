//! The unwind tables of the modules loaded in this process (the
//! executable, its shared libraries, the vDSO), as `framehop` needs them.
//!
//! `dl_iterate_phdr` lists every loaded ELF object with its load bias and
//! program headers. An object's `PT_GNU_EH_FRAME` header locates its
//! `.eh_frame_hdr` (the sorted table from code address to unwind entry);
//! that section's `eh_frame_ptr` locates `.eh_frame` (the CFI itself),
//! whose length is found by walking its records to the zero terminator
//! inside the `PT_LOAD` segment that holds it. Both are copied, so a
//! library unloaded later cannot leave the table pointing at unmapped
//! memory (an address in it then just fails to unwind). The copies are made
//! inside the `dl_iterate_phdr` callback, while the loader guarantees the
//! object stays loaded.
//!
//! The table is built lazily, by the first dump, and rebuilt only when the
//! loader's counters of objects added and removed (`dlpi_adds`,
//! `dlpi_subs`) have moved since.

use std::ffi::{c_int, c_void, CStr};
use std::sync::{Arc, Mutex};

use crate::sys::poison::Unpoisoned;
use framehop::x86_64::UnwinderX86_64;
use framehop::{ExplicitModuleSectionInfo, Module, Unwinder};

/// An unwinder that knows every loaded module.
pub(crate) type ProcessUnwinder = UnwinderX86_64<Vec<u8>>;

/// `(dlpi_adds, dlpi_subs)`: changes whenever an object is loaded or
/// unloaded.
type Generation = (u64, u64);

static TABLE: Mutex<Option<(Generation, Arc<ProcessUnwinder>)>> = Mutex::new(None);

/// The unwinder for the modules loaded now (built on first use).
pub(crate) fn unwinder() -> Arc<ProcessUnwinder> {
    let mut table = TABLE.lock_unpoisoned();
    let now = generation();
    if let Some((built, unwinder)) = &*table {
        if *built == now {
            return unwinder.clone();
        }
    }
    let mut found = Found::default();
    // SAFETY: `collect` matches the callback type and gets `&mut found`,
    // which outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(collect), (&raw mut found).cast()) };
    let mut unwinder = ProcessUnwinder::new();
    for m in found.modules {
        unwinder.add_module(m);
    }
    let unwinder = Arc::new(unwinder);
    *table = Some((found.generation, unwinder.clone()));
    unwinder
}

/// The loader's generation now.
fn generation() -> Generation {
    let mut g: Generation = (0, 0);
    // SAFETY: `first_generation` matches the callback type and gets `&mut g`.
    unsafe { libc::dl_iterate_phdr(Some(first_generation), (&raw mut g).cast()) };
    g
}

/// The loader's counters, if its `dl_phdr_info` has them.
fn counters(info: &libc::dl_phdr_info, size: usize) -> Generation {
    let has = size >= std::mem::offset_of!(libc::dl_phdr_info, dlpi_subs) + 8;
    if has {
        (info.dlpi_adds, info.dlpi_subs)
    } else {
        (0, 0)
    }
}

unsafe extern "C" fn first_generation(
    info: *mut libc::dl_phdr_info,
    size: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: the loader passes a valid `info` of `size` bytes, and `data`
    // is the `&mut Generation` given to `dl_iterate_phdr`.
    unsafe { *data.cast::<Generation>() = counters(&*info, size) };
    1 // stop: the counters are the same for every object
}

#[derive(Default)]
struct Found {
    generation: Generation,
    modules: Vec<Module<Vec<u8>>>,
}

unsafe extern "C" fn collect(
    info: *mut libc::dl_phdr_info,
    size: usize,
    data: *mut c_void,
) -> c_int {
    // SAFETY: the loader passes a valid `info` of `size` bytes, and `data`
    // is the `&mut Found` given to `dl_iterate_phdr`.
    let (info, found) = unsafe { (&*info, &mut *data.cast::<Found>()) };
    found.generation = counters(info, size);
    if info.dlpi_phdr.is_null() {
        return 0;
    }
    // SAFETY: the loader passes `dlpi_phnum` program headers at `dlpi_phdr`.
    let phdrs = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
    let name = if info.dlpi_name.is_null() {
        String::new()
    } else {
        // SAFETY: a non-null `dlpi_name` is a NUL-terminated string.
        unsafe { CStr::from_ptr(info.dlpi_name) }
            .to_string_lossy()
            .into_owned()
    };
    // SAFETY: the object is loaded with these headers and bias for the
    // whole callback.
    if let Some(m) = unsafe { module(name, info.dlpi_addr, phdrs) } {
        found.modules.push(m);
    }
    0
}

/// The unwind information of one loaded object (`None`: it has none).
///
/// # Safety
/// The object is loaded at `bias` with program headers `phdrs`.
unsafe fn module(name: String, bias: u64, phdrs: &[libc::Elf64_Phdr]) -> Option<Module<Vec<u8>>> {
    let loads = || phdrs.iter().filter(|p| p.p_type == libc::PT_LOAD);
    let start = loads().map(|p| p.p_vaddr).min()?;
    let end = loads().map(|p| p.p_vaddr + p.p_memsz).max()?;
    let hdr_phdr = phdrs.iter().find(|p| p.p_type == libc::PT_GNU_EH_FRAME)?;
    let hdr_svma = hdr_phdr.p_vaddr;
    // SAFETY: forwarded from the caller.
    let hdr = unsafe { loaded(bias, phdrs, hdr_svma) }?;
    let hdr = hdr.get(..usize::try_from(hdr_phdr.p_memsz).ok()?)?.to_vec();
    let eh_frame_svma = eh_frame_address(&hdr, bias + hdr_svma)?.checked_sub(bias)?;
    // SAFETY: forwarded from the caller.
    let rest = unsafe { loaded(bias, phdrs, eh_frame_svma) }?;
    let eh_frame = rest[..eh_frame_len(rest)].to_vec();
    let info = ExplicitModuleSectionInfo {
        base_svma: 0,
        eh_frame_hdr_svma: Some(hdr_svma..hdr_svma + hdr.len() as u64),
        eh_frame_hdr: Some(hdr),
        eh_frame_svma: Some(eh_frame_svma..eh_frame_svma + eh_frame.len() as u64),
        eh_frame: Some(eh_frame),
        ..Default::default()
    };
    Some(Module::new(name, bias + start..bias + end, bias, info))
}

/// The loaded bytes from `svma` to the end of the readable `PT_LOAD`
/// segment that holds it.
///
/// # Safety
/// As for [`module`]; the slice must not outlive the object's loading.
unsafe fn loaded<'a>(bias: u64, phdrs: &[libc::Elf64_Phdr], svma: u64) -> Option<&'a [u8]> {
    let segment = phdrs.iter().find(|p| {
        p.p_type == libc::PT_LOAD
            && p.p_flags & libc::PF_R != 0
            && (p.p_vaddr..p.p_vaddr + p.p_memsz).contains(&svma)
    })?;
    let len = usize::try_from(segment.p_vaddr + segment.p_memsz - svma).ok()?;
    let addr = usize::try_from(bias.checked_add(svma)?).ok()?;
    // SAFETY: a readable PT_LOAD segment of a loaded object is mapped
    // readable over its whole `p_memsz` (zero-filled past the file), and
    // the unwind sections in it are not written after loading.
    Some(unsafe { std::slice::from_raw_parts(addr as *const u8, len) })
}

/// The address of `.eh_frame`, read from `.eh_frame_hdr` loaded at `hdr_avma`.
fn eh_frame_address(hdr: &[u8], hdr_avma: u64) -> Option<u64> {
    let bases = gimli::BaseAddresses::default().set_eh_frame_hdr(hdr_avma);
    let parsed = gimli::EhFrameHdr::new(hdr, gimli::LittleEndian)
        .parse(&bases, 8)
        .ok()?;
    match parsed.eh_frame_ptr() {
        gimli::Pointer::Direct(a) => Some(a),
        gimli::Pointer::Indirect(_) => None,
    }
}

/// The length of the `.eh_frame` at the start of `bytes`, its zero
/// terminator included (all of `bytes` if it has none in them).
fn eh_frame_len(bytes: &[u8]) -> usize {
    let word = |at: usize, n: usize| -> Option<u64> {
        let b = bytes.get(at..at.checked_add(n)?)?;
        Some(b.iter().rev().fold(0u64, |v, &x| v << 8 | u64::from(x)))
    };
    let mut at = 0usize;
    loop {
        let (len, header) = match word(at, 4) {
            None => return bytes.len(),
            Some(0) => return at + 4,
            Some(0xffff_ffff) => match word(at + 4, 8) {
                Some(len) => (len, 12),
                None => return bytes.len(),
            },
            Some(len) => (len, 4),
        };
        match usize::try_from(len)
            .ok()
            .and_then(|len| (at + header).checked_add(len))
        {
            Some(next) if next <= bytes.len() => at = next,
            _ => return bytes.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eh_frame_ends_at_its_terminator() {
        // A 4-byte record, an 8-byte record with a 64-bit length, the end.
        let mut b = vec![4, 0, 0, 0, 1, 2, 3, 4];
        b.extend([0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 7, 7]);
        b.extend([0, 0, 0, 0, 9, 9, 9]);
        assert_eq!(eh_frame_len(&b), 26);
        // No terminator, or a record running past the end: everything.
        assert_eq!(eh_frame_len(&b[..8]), 8);
        assert_eq!(eh_frame_len(&[9, 0, 0, 0, 1]), 5);
        assert_eq!(eh_frame_len(&[0xff, 0xff, 0xff, 0xff, 1]), 5);
        assert_eq!(eh_frame_len(&[]), 0);
    }

    #[test]
    fn the_table_covers_this_code_and_is_built_once() {
        let u = unwinder();
        assert!(Arc::ptr_eq(&u, &unwinder()));
        let here = the_table_covers_this_code_and_is_built_once as fn() as usize as u64;
        assert!(u.max_known_code_address() > here);
    }
}
