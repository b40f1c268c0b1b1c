# What the terminal needs from the kernel: verity bundles, the display, scanners, printers.
FILESEXTRAPATHS:prepend:open-pos := "${THISDIR}/files:"
SRC_URI:append:open-pos = " file://pos.cfg"
