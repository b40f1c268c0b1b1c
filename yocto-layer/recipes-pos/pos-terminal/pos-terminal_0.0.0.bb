# nooelint: oelint.var.bbclassextend - the terminal runs on the target only; a native build has no use
SUMMARY = "Point-of-sale terminal"
DESCRIPTION = "The program a cashier uses all day: checkout, payments, refunds and shifts over an encrypted local store."
SECTION = "applications"
LICENSE = "GPL-3.0-or-later"
LIC_FILES_CHKSUM = "file://LICENSE;md5=1ebbd3e34237af26da5dc08a4e440464"

# Slint's LinuxKMS backend reads input through libinput and keymaps through xkbcommon; its text
# layout links fontconfig and freetype; serial printers are found through libudev.
DEPENDS = "fontconfig freetype libinput libxkbcommon udev"

# The sources are the tree this layer sits in; the crates come from the generated include,
# fetched before compiling, so the compile step needs no network.
inherit externalsrc cargo cargo-update-recipe-crates pkgconfig systemd

require ${BPN}-crates.inc

EXTERNALSRC = "${POS_SOURCE_TREE}"
EXTERNALSRC_BUILD = "${WORKDIR}/build"

CARGO_BUILD_FLAGS += "--package pos-terminal"
# Full screen on the framebuffer with the software renderer: no window system on the box.
CARGO_BUILD_FLAGS += "--no-default-features --features kms"
# The workspace strips release binaries; let the image's own strip and debug split do it.
CARGO_BUILD_FLAGS += "--config profile.release.strip=false"

# The unit runs it as the unprivileged user `pos` (created by pos-appliance's sysusers.d entry)
# with the video and input groups, for the screen and the input devices.
# The same unit as the Debian image: one source in image/rootfs.
SYSTEMD_SERVICE:${PN} = "pos-terminal.service"

do_install:append() {
    install -d ${D}${systemd_system_unitdir}
    install -m 0644 ${POS_IMAGE_TREE}/rootfs/etc/systemd/system/pos-terminal.service ${D}${systemd_system_unitdir}/
}

RDEPENDS:${PN} += "fontconfig pos-appliance xkeyboard-config"

CVE_PRODUCT = "pos-terminal"
