# nooelint: oelint.var.bbclassextend - deployed files for the target's ESP; nothing to build for the host
SUMMARY = "GRUB configuration and environment for the A/B root slots"
DESCRIPTION = "Deploys the Debian image's grub.cfg, with RAUC's boot-attempt logic, adapted to the Yocto kernel, and a first grubenv that boots slot A."
SECTION = "bootloaders"
LICENSE = "GPL-3.0-or-later"
LIC_FILES_CHKSUM = "file://LICENSE;md5=1ebbd3e34237af26da5dc08a4e440464"

DEPENDS = "grub-native"

# nooelint: oelint.vars.fileextrapaths,oelint.vars.outofcontext - the files live in the source tree around the layer, shared with the Debian image
FILESEXTRAPATHS:prepend := "${POS_IMAGE_TREE}/grub:${POS_SOURCE_TREE}:"
SRC_URI = "\
    file://LICENSE \
    file://grub.cfg \
"
S = "${WORKDIR}"

inherit deploy nopackages

# The rest of the kernel command line: a quiet console on the screen the cashier sees.
POS_KERNEL_CMDLINE ??= "quiet loglevel=3 vt.global_cursor_default=0"

do_configure[noexec] = "1"

# The one grub.cfg of image/grub, with the Debian kernel paths swapped for the Yocto kernel
# (no initramfs: the kernel finds the root filesystem by PARTLABEL itself).
do_compile() {
    sed -e 's|@CMDLINE@|${POS_KERNEL_CMDLINE}|' \
        -e 's|/vmlinuz |/boot/${KERNEL_IMAGETYPE} |' \
        -e '/^[[:space:]]*initrd[[:space:]]/d' \
        ${S}/grub.cfg > ${B}/grub.cfg
    rm -f ${B}/grubenv
    grub-editenv ${B}/grubenv create
    grub-editenv ${B}/grubenv set ORDER="A B" A_OK=1 B_OK=1 A_TRY=0 B_TRY=0
}

do_deploy() {
    install -m 0644 ${B}/grub.cfg ${DEPLOYDIR}/grub.cfg
    install -m 0644 ${B}/grubenv ${DEPLOYDIR}/grubenv
}
addtask deploy after do_compile before do_build

CVE_PRODUCT = "pos-boot"
