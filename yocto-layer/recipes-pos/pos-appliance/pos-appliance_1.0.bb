# nooelint: oelint.var.bbclassextend - configuration of the target only; a native build has no use
SUMMARY = "Point-of-sale appliance lockdown"
DESCRIPTION = "What makes the box an appliance: no login anywhere, SysRq off, a quiet console, state on the data partition, a USB policy that accepts only signed update bundles and provisioning files, and the health check that lets RAUC mark a new slot good."
SECTION = "base"
LICENSE = "GPL-3.0-or-later"
LIC_FILES_CHKSUM = "file://LICENSE;md5=1ebbd3e34237af26da5dc08a4e440464"

# The files are the Debian image's own (image/rootfs), so both images are locked down alike.
# nooelint: oelint.vars.fileextrapaths,oelint.vars.outofcontext - the files live in the source tree around the layer, shared with the Debian image
FILESEXTRAPATHS:prepend := "${POS_IMAGE_TREE}:${POS_SOURCE_TREE}:"
SRC_URI = "\
    file://LICENSE \
    file://rootfs/ \
"
S = "${WORKDIR}"

inherit allarch systemd

do_configure[noexec] = "1"
do_compile[noexec] = "1"

# RAUC's service unit and D-Bus policy come with meta-rauc's rauc package; the Debian image
# carries its own copies because Debian's package lacks them. The terminal's own unit is
# packaged with the terminal.
POS_PROVIDED_ELSEWHERE = "\
    etc/systemd/system/pos-terminal.service \
    etc/systemd/system/rauc.service \
    usr/share/dbus-1/system-services/de.pengutronix.rauc.service \
    usr/share/dbus-1/system.d/de.pengutronix.rauc.conf \
"

do_install() {
    cp -R --no-dereference --preserve=mode,links ${S}/rootfs/. ${D}/
    for path in ${POS_PROVIDED_ELSEWHERE}; do
        rm -f ${D}/$path
    done
}

SYSTEMD_SERVICE:${PN} = "pos-health.service rauc-mark-good.service pos-factory-reset.service pos-factory-reset.path pos-reboot.path pos-network.service pos-network.path"

FILES:${PN} += "\
    ${nonarch_libdir}/open-pos \
    ${nonarch_libdir}/sysusers.d \
    ${datadir}/open-pos \
"

RDEPENDS:${PN} = "e2fsprogs-mke2fs kbd rauc util-linux"

CVE_PRODUCT = "pos-appliance"
