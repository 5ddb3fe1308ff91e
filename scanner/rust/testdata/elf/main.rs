// A minimal executable carrying a cargo-auditable style ".dep-v0" section,
// the way cargo-auditable's linker step places it.
#![no_std]
#![no_main]

#[used]
#[link_section = ".dep-v0"]
static AUDITABLE_VERSION_INFO: [u8; include_bytes!("dep-v0.z").len()] = *include_bytes!("dep-v0.z");

#[no_mangle]
pub extern "C" fn _start() -> ! {
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
