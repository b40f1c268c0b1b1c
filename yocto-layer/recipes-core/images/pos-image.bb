SUMMARY = "Point-of-sale terminal image"
DESCRIPTION = "The appliance: the terminal as the only program a person can reach, full screen on the framebuffer, A/B root slots updated by RAUC, all state on the data partition."
SECTION = "images"
LICENSE = "GPL-3.0-or-later"

inherit core-image

IMAGE_INSTALL = "\
    packagegroup-core-boot \
    kernel-image \
    kernel-modules \
    pos-terminal \
    pos-appliance \
    rauc \
"
IMAGE_LINGUAS = ""

# The root filesystem never changes on the box: an update replaces the whole slot.
IMAGE_FEATURES += "read-only-rootfs"

# GPT: the ESP with GRUB, root slots A and B, and the data partition (wic/pos-ab.wks.in).
IMAGE_FSTYPES = "ext4 wic wic.bmap"
WKS_FILE = "pos-ab.wks.in"
IMAGE_BOOT_FILES = "\
    grub-efi-bootx64.efi;EFI/BOOT/bootx64.efi \
    grub.cfg;EFI/BOOT/grub.cfg \
    grubenv;EFI/BOOT/grubenv \
"
do_image_wic[depends] += "pos-boot:do_deploy grub-efi:do_deploy"

# No login anywhere: no getty on any virtual terminal, console or serial line.
ROOTFS_POSTPROCESS_COMMAND += "pos_no_logins"

pos_no_logins[doc] = "Masks every getty unit so no console or serial line offers a login"
pos_no_logins() {
    for unit in getty@.service serial-getty@.service autovt@.service console-getty.service container-getty@.service; do
        ln -sf /dev/null ${IMAGE_ROOTFS}${sysconfdir}/systemd/system/$unit
    done
}

CVE_PRODUCT = "pos-image"
